"""AudioSetExampleGen: a FileBasedExampleGen whose executor builds envsound's training sets.

Why a custom executor rather than ImportExampleGen: ingestion must label each clip with its
environment, drop (and count) what has none, cap the training set per environment and keep
validation videos out of training. Those need the whole split (counts for the caps, the
validation video ids), so the executor runs its own Beam pipeline. It writes what TFX's
ExampleGen writes (``Split-train/`` and ``Split-eval/`` of gzip TFRecords, the artifact's
``split_names``, ``payload_format`` FORMAT_TF_SEQUENCE_EXAMPLE and ``file_format``) but
streams: the clips go from the file reads straight into a TFRecord sink (``shards``, gzip
format at level 0, stored, under ``.gz`` names as TFX's readers expect), one shard per
bundle, without TFX's Reshuffle (which the DirectRunner holds in memory whole). The records
are AudioSet SequenceExamples plus ``environment``; ``ingestion_counts.json`` lies beside
the splits (and on the artifact as ``clips_<split>_<reason>`` properties).
"""

import json
import os
from typing import Any, Dict, List, Tuple

import apache_beam as beam
import tensorflow as tf
from absl import logging
from google.protobuf import json_format, struct_pb2
from tfx.components.example_gen import write_split
from tfx.components.example_gen.component import FileBasedExampleGen
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor, executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs

from envsound.components import ingestion, progress, shards
from envsound.core import atomic, targets
from envsound.core.errors import EnvsoundError

TRAIN, EVAL = 'train', 'eval'
COUNTS_FILE = 'ingestion_counts.json'
_BALANCED_DIR = 'bal_train'  # kept first when a training set is capped
PAYLOAD_FORMAT = example_gen_pb2.FORMAT_TF_SEQUENCE_EXAMPLE


def create(input_base: str, cfg) -> FileBasedExampleGen:
  """Returns the component for one training set.

  Args:
    input_base: the AudioSet release root.
    cfg: a ``pipeline.configs.IngestionConfig``.
  """
  settings = struct_pb2.Struct()
  settings.update({'class_csv': cfg.class_csv, 'max_train_clips': cfg.max_train_clips,
                   'max_eval_clips': cfg.max_eval_clips, 'target': cfg.target})
  custom_config = example_gen_pb2.CustomConfig()
  custom_config.custom_config.Pack(settings)
  return AudioSetExampleGen(
      input_base=input_base,
      input_config=example_gen_pb2.Input(splits=[
          example_gen_pb2.Input.Split(name=TRAIN, pattern=cfg.train_pattern),
          example_gen_pb2.Input.Split(name=EVAL, pattern=cfg.eval_pattern)]),
      custom_config=custom_config, output_data_format=PAYLOAD_FORMAT)


def read_settings(exec_properties: Dict[str, Any]) -> Dict[str, Any]:
  """Returns the executor settings packed by :func:`create`."""
  custom_config = example_gen_pb2.CustomConfig()
  json_format.Parse(exec_properties[standard_component_specs.CUSTOM_CONFIG_KEY], custom_config)
  settings = struct_pb2.Struct()
  custom_config.custom_config.Unpack(settings)
  out = json_format.MessageToDict(settings)
  for key in ('max_train_clips', 'max_eval_clips'):
    out[key] = int(out[key]) if out.get(key) is not None else None
  out.setdefault('target', targets.DEFAULT)  # settings recorded before targets existed
  return out


def sources(input_base: str, pattern: str) -> List[Tuple[str, int]]:
  """Expands ``<dir glob>/<file glob>`` into one (glob, priority) per matching folder.

  Raises:
    EnvsoundError: no file matches.
  """
  folder, files = os.path.split(pattern)
  dirs = sorted(tf.io.gfile.glob(os.path.join(input_base, folder))) if folder else [input_base]
  out = [(os.path.join(d, files), 0 if os.path.basename(d) == _BALANCED_DIR else 1)
         for d in dirs if tf.io.gfile.glob(os.path.join(d, files))]
  if not out:
    raise EnvsoundError(f'no AudioSet records match {os.path.join(input_base, pattern)}')
  return out


class Executor(base_beam_executor.BaseBeamExecutor):
  """Reads AudioSet TFRecords, labels environments, caps and splits by video; streams."""

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    examples = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.EXAMPLES_KEY])
    input_config = example_gen_pb2.Input()
    json_format.Parse(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
    patterns = {s.name: s.pattern for s in input_config.splits}
    base = exec_properties[standard_component_specs.INPUT_BASE_KEY]
    settings = read_settings(exec_properties)
    plan = {TRAIN: (sources(base, patterns[TRAIN]), settings['max_train_clips']),
            EVAL: (sources(base, patterns[EVAL]), settings['max_eval_clips'])}
    progress.planned(ingestion.PROGRESS, sum(
        ingestion.count_file_reads(src, cap is not None) for src, cap in plan.values()), 'file')
    counts_path = os.path.join(examples.uri, COUNTS_FILE)
    examples.split_names = artifact_utils.encode_split_names([TRAIN, EVAL])
    with self._make_beam_pipeline() as pipeline:
      self._build(pipeline, plan, settings['class_csv'],
                  lambda split: artifact_utils.get_split_uri([examples], split), counts_path,
                  settings['target'])
    examples_utils.set_payload_format(examples, PAYLOAD_FORMAT)
    examples_utils.set_file_format(
        examples, write_split.to_file_format_str(example_gen_pb2.FORMAT_TFRECORDS_GZIP))
    with tf.io.gfile.GFile(counts_path) as f:
      counts = json.load(f)
    logging.info('Ingestion counts: %s', counts)
    for key, value in counts.items():
      examples.set_int_custom_property(f'clips_{key.replace("/", "_")}', int(value))
    for split in (TRAIN, EVAL):
      if not counts.get(f'{split}/{ingestion.KEPT}'):
        raise EnvsoundError(f'ingestion kept no {split} clips from {base} (counts: {counts})')

  @staticmethod
  def _build(pipeline: beam.Pipeline, plan, class_csv: str, split_uri, counts_path: str,
             target: str = targets.DEFAULT):
    """Adds both splits' ingestion, their TFRecord sinks and the counts file to ``pipeline``."""
    eval_clips, eval_counts, eval_videos = pipeline | 'Eval' >> ingestion.IngestSplit(
        plan[EVAL][0], class_csv, EVAL, max_clips=plan[EVAL][1], target=target)
    train_clips, train_counts, _ = pipeline | 'Train' >> ingestion.IngestSplit(
        plan[TRAIN][0], class_csv, TRAIN, max_clips=plan[TRAIN][1],
        exclude_videos=eval_videos, emit_videos=False, target=target)
    for split, clips in ((TRAIN, train_clips), (EVAL, eval_clips)):
      _ = clips | f'Write[{split}]' >> shards.WriteShards(
          os.path.join(split_uri(split), write_split.DEFAULT_TF_RECORD_FILE_NAME),
          level=shards.STORED_GZIP_LEVEL)
    _ = ((train_counts | 'TagTrain' >> beam.Map(lambda kv: (f'{TRAIN}/{kv[0]}', kv[1])),
          eval_counts | 'TagEval' >> beam.Map(lambda kv: (f'{EVAL}/{kv[0]}', kv[1])))
         | 'AllCounts' >> beam.Flatten()
         | 'CountDict' >> beam.combiners.ToDict()
         | 'WriteCounts' >> beam.Map(_write_json, counts_path))


class AudioSetExampleGen(FileBasedExampleGen):
  """FileBasedExampleGen (its driver: spans, input fingerprints) with envsound's executor."""

  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)


def _write_json(counts: Dict[str, int], path: str) -> None:
  """Writes ``counts`` under a temporary name, then renames it into place."""
  full = {f'{split}/{reason}': 0 for split in (TRAIN, EVAL)
          for reason in (ingestion.KEPT, *ingestion.DROP_REASONS)}
  full.update(counts)
  with atomic.atomic_file(path, 'w') as f:
    json.dump(full, f, indent=1, sort_keys=True)

