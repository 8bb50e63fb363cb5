"""Runs ``preprocessing_fn`` with tf.Transform's Beam API outside a TFX pipeline.

Produces what TFX Transform produces (a transform graph and gzip tf.Example
``transformed_examples/Split-<name>/``) from raw SequenceExample TFRecords, for tests,
benchmarks and notebooks. It reads the raw records through TFXIO with the curated schema's
tensor representations and runs tf.Transform in the same mode (``transform.TF_COMPAT_V1``),
exactly as the Transform component does.
"""

import functools
import os
import tempfile
from typing import Mapping

import apache_beam as beam
import tensorflow_transform.beam as tft_beam
from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx_bsl.coders import example_coder
from tfx_bsl.public import tfxio

from envsound.components import preprocessing, record_tfxio, shards, transform

TRANSFORM_GRAPH = 'transform_graph'
TRANSFORMED_EXAMPLES = 'transformed_examples'


def load_schema(path) -> schema_pb2.Schema:
  """Reads a text-format Schema (e.g. schemas/audioset_raw.pbtxt)."""
  with open(path) as f:
    return text_format.Parse(f.read(), schema_pb2.Schema())


def raw_tfxio(file_pattern: str, schema: schema_pb2.Schema) -> tfxio.TFSequenceExampleRecord:
  """TFXIO over raw SequenceExample TFRecords (uncompressed or .gz), read as the Transform
  component reads them (``record_tfxio``)."""
  return record_tfxio.SequenceExampleRecord(file_pattern, schema=schema,
                                            telemetry_descriptors=['envsound'])


def run_transform(splits: Mapping[str, str], schema: schema_pb2.Schema, out_dir: str,
                  analyze_split: str = 'train', custom_config=None) -> None:
  """Analyses ``analyze_split`` and transforms every split.

  Args:
    splits: split name -> raw file pattern.
    schema: raw schema with a tensor_representation_group.
    out_dir: gets ``transform_graph/`` and ``transformed_examples/Split-<name>/``.
    analyze_split: the split whose full-pass statistics the graph keeps.
    custom_config: the Transform's ``custom_config`` (preprocessing_fn: the target).
  """
  with beam.Pipeline() as p, tft_beam.Context(temp_dir=tempfile.mkdtemp(dir=out_dir),
                                              force_tf_compat_v1=transform.TF_COMPAT_V1):
    sources = {name: raw_tfxio(pattern, schema) for name, pattern in splits.items()}
    raw = {name: p | f'Read{name}' >> src.BeamSource() for name, src in sources.items()}
    config = sources[analyze_split].TensorAdapterConfig()
    transform_fn = ((raw[analyze_split], config)
                    | tft_beam.AnalyzeDataset(functools.partial(
                        preprocessing.preprocessing_fn, custom_config=custom_config)))
    _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(out_dir, TRANSFORM_GRAPH))
    for name in splits:
      (batches, metadata) = (((raw[name], config), transform_fn)
                             | f'Transform{name}' >> tft_beam.TransformDataset(
                                 output_record_batches=True))
      del metadata
      split_dir = os.path.join(out_dir, TRANSFORMED_EXAMPLES, f'Split-{name}')
      _ = (batches
           | f'Encode{name}' >> beam.FlatMap(_encode_batch)
           | f'Write{name}' >> shards.WriteShards(
               os.path.join(split_dir, 'transformed_examples'), level=transform.GZIP_LEVEL))


def _encode_batch(batch_and_passthrough):
  record_batch, _ = batch_and_passthrough
  return example_coder.RecordBatchToExamplesEncoder().encode(record_batch)
