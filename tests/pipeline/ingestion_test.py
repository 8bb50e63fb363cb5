"""Ingestion transforms on tiny data: environment labels, drop counts, caps, video split."""

import collections
import os

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from google.protobuf import json_format

from envsound.components import audioset_example_gen as gen
from envsound.core.records import encode_clip
from envsound.core import features
from envsound.audioset import decode, reader
from envsound.components import cap_keys, ingestion
from envsound.core.caps import fair_caps
from envsound.core.errors import EnvsoundError


def _env_and_video(record: bytes):
  clip = tf.train.SequenceExample.FromString(record)
  ctx = clip.context.feature
  return (ctx[features.ENVIRONMENT_KEY].int64_list.value[0],
          ctx[features.VIDEO_ID_KEY].bytes_list.value[0].decode())


def test_fair_caps_keep_rare_environments_whole():
  assert fair_caps({0: 1000, 1: 10, 2: 50}, 100) == {0: 45, 1: 10, 2: 45}
  assert fair_caps({0: 1000, 1: 10, 2: 30}, 100) == {0: 60, 1: 10, 2: 30}
  assert fair_caps({0: 5, 1: 3}, 100) == {0: 5, 1: 3}
  caps = fair_caps({0: 7, 1: 7, 2: 7}, 10)
  assert sum(caps.values()) == 10 and max(caps.values()) - min(caps.values()) <= 1


def test_ingest_split_labels_counts_and_drops(make_release):
  root = make_release(clips={'bal_train': [0, 1, 1, None, 2]}, malformed={'bal_train': 2})
  with TestPipeline() as p:
    clips, counts, videos = p | gen.ingestion.IngestSplit(
        [(str(root / 'bal_train' / '*.tfrecord'), 0)], str(root / 'class_labels_indices.csv'),
        'train')
    assert_that(clips | beam.Map(_env_and_video), equal_to(
        [(0, 'bal_train_00000'), (1, 'bal_train_00001'), (1, 'bal_train_00002'),
         (2, 'bal_train_00004')]), label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 4), (ingestion.UNASSIGNED, 1),
                                  (decode.NOT_SEQUENCE_EXAMPLE, 2)]), label='counts')
    assert_that(videos, equal_to([{b'bal_train_00000', b'bal_train_00001', b'bal_train_00002',
                                   b'bal_train_00004'}]), label='videos')


def test_caps_prefer_balanced_clips_and_spare_rare_environments(make_release):
  root = make_release(clips={'bal_train': [0] * 4 + [1] * 2, 'unbal_train': [0] * 30 + [1] * 3})
  csv = str(root / 'class_labels_indices.csv')
  with TestPipeline() as p:
    clips, counts, _ = p | gen.ingestion.IngestSplit(
        gen.sources(str(root), '*_train/*.tfrecord'), csv, 'train', max_clips=12)

    def check(pairs):
      per_env = collections.Counter(env for env, _ in pairs)
      assert per_env == {0: 7, 1: 5}, per_env  # environment 1 keeps all 5, 0 the rest
      bal = {v for env, v in pairs if v.startswith('bal_train') and env == 0}
      assert len(bal) == 4, 'bal_train clips go first'
    assert_that(clips | beam.Map(_env_and_video), check, label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 12), (ingestion.OVER_CAP, 27)]),
                label='counts')


def test_training_clips_of_validation_videos_are_dropped(make_release):
  root = make_release(clips={'bal_train': [0, 1, 2, 3], 'eval': [0, 1]},
                      video_prefix={'eval': 'bal_train'})  # eval shares videos 0 and 1
  csv = str(root / 'class_labels_indices.csv')
  with TestPipeline() as p:
    _, _, eval_videos = p | 'Eval' >> gen.ingestion.IngestSplit(
        gen.sources(str(root), 'eval/*.tfrecord'), csv, 'eval')
    clips, counts, _ = p | 'Train' >> gen.ingestion.IngestSplit(
        gen.sources(str(root), 'bal_train/*.tfrecord'), csv, 'train',
        exclude_videos=eval_videos)
    assert_that(clips | beam.Map(lambda r: _env_and_video(r)[1]),
                equal_to(['bal_train_00002', 'bal_train_00003']), label='clips')
    assert_that(counts, equal_to([(ingestion.KEPT, 2), (ingestion.VIDEO_IN_EVAL, 2)]),
                label='counts')


def test_sources_name_missing_files(tmp_path):
  with pytest.raises(EnvsoundError, match='no AudioSet records'):
    gen.sources(str(tmp_path), 'eval/*.tfrecord')


def test_label_indices_outside_the_class_list_are_malformed(make_release):
  root = make_release(clips={'bal_train': [0]})
  with tf.io.TFRecordWriter(str(root / 'bal_train' / 'zz.tfrecord')) as writer:
    writer.write(encode_clip('out_of_range', 0.0, 10.0, [527], np.zeros((10, 128), np.uint8)))
    writer.write(encode_clip('negative', 0.0, 10.0, [-1], np.zeros((10, 128), np.uint8)))
  with TestPipeline() as p:
    _, counts, _ = p | gen.ingestion.IngestSplit(
        [(str(root / 'bal_train' / '*.tfrecord'), 0)], str(root / 'class_labels_indices.csv'),
        'train')
    assert_that(counts, equal_to([(ingestion.KEPT, 1), (decode.LABEL_OUT_OF_RANGE, 2)]))


def _sequence_example(frames=None, labels=(0,), video_id=b'v', drop=()):
  example = tf.train.SequenceExample()
  ctx = example.context.feature
  for key, field, values in ((features.VIDEO_ID_KEY, 'bytes_list', [video_id]),
                             (features.START_TIME_KEY, 'float_list', [0.0]),
                             (features.LABELS_KEY, 'int64_list', list(labels))):
    if key not in drop:
      getattr(ctx[key], field).value.extend(values)
  if features.AUDIO_EMBEDDING_KEY not in drop:
    frame_list = example.feature_lists.feature_list[features.AUDIO_EMBEDDING_KEY]
    for frame in frames if frames is not None else [bytes(128)] * 10:
      frame_list.feature.add().bytes_list.value.append(frame)
  return example.SerializeToString()


def test_bad_files_and_records_are_counted_by_kind(make_release):
  """Issue 12 item 5: every kind of bad input through the Beam path is counted, not lost."""
  root = make_release(clips={'bal_train': [0, 1]})
  folder = root / 'bal_train'
  with tf.io.TFRecordWriter(str(folder / 'records.tfrecord')) as writer:
    writer.write(_sequence_example(frames=[bytes(128), bytes(64)]))
    writer.write(_sequence_example(frames=[]))
    writer.write(_sequence_example(drop=(features.AUDIO_EMBEDDING_KEY,)))
    writer.write(_sequence_example(drop=(features.LABELS_KEY,)))
  good = encode_clip('crc', 0.0, 10.0, [0], np.zeros((10, 128), np.uint8))
  with tf.io.TFRecordWriter(str(folder / 'crc.tfrecord')) as writer:
    writer.write(good)
    writer.write(good)
  data = bytearray((folder / 'crc.tfrecord').read_bytes())
  data[-100] ^= 0xFF  # inside the second record's data: its checksum fails
  (folder / 'crc.tfrecord').write_bytes(bytes(data))
  with tf.io.TFRecordWriter(str(folder / 'truncated.tfrecord')) as writer:
    writer.write(good)
    writer.write(good)
  (folder / 'truncated.tfrecord').write_bytes((folder / 'truncated.tfrecord').read_bytes()[:-30])
  (folder / 'text.tfrecord').write_text('video_id,labels\nabc,1\n' * 20)
  with TestPipeline() as p:
    _, counts, _ = p | gen.ingestion.IngestSplit(
        [(str(folder / '*.tfrecord'), 0)], str(root / 'class_labels_indices.csv'), 'train')
    assert_that(counts, equal_to([
        (ingestion.KEPT, 4),  # the two good clips, the first of crc and of truncated
        (decode.BAD_FRAME, 1), (decode.NO_FRAMES, 1), (decode.MISSING_FIELD, 2),
        (reader.BAD_CHECKSUM, 1), (reader.TRUNCATED, 1), (reader.NOT_TFRECORD, 1)]))


def test_smallest_keys_combiner_keeps_what_sorting_everything_keeps():
  rng = np.random.default_rng(0)
  batches = [{0: rng.random(int(n)), 1: rng.random(3)} for n in rng.integers(1, 40, size=50)]
  combine = cap_keys.SmallestKeys(cap=25)
  halves = [combine.create_accumulator(), combine.create_accumulator()]
  for i, batch in enumerate(batches):
    combine.add_input(halves[i % 2], batch)
  limits = combine.extract_output(combine.merge_accumulators(halves))
  everything = {env: np.concatenate([b[env] for b in batches]) for env in (0, 1)}
  caps = fair_caps({env: len(k) for env, k in everything.items()}, 25)
  assert limits == {env: cap_keys.threshold(k, caps[env]) for env, k in everything.items()}
  assert caps[1] == len(everything[1]) or caps[1] == 25 - caps[0]


def test_executor_writes_the_example_gen_layout_without_a_reshuffle(make_release, tmp_path):
  """The streaming executor's artifact is what TFX's ExampleGen writes, read back by TFXIO."""
  # pylint: disable=import-outside-toplevel
  from tfx.components.util import examples_utils, tfxio_utils
  from tfx.types import artifact_utils, standard_artifacts, standard_component_specs as specs
  from envsound.pipeline import configs
  root = make_release(clips={'bal_train': [0, 1, 2, 2, None], 'eval': [0, 1]},
                      video_prefix={'eval': 'eval'})
  component = gen.create(str(root), configs.IngestionConfig(
      class_csv=str(root / 'class_labels_indices.csv'), train_pattern='bal_train/*.tfrecord',
      eval_pattern='eval/*.tfrecord', max_train_clips=None, max_eval_clips=None))
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / 'examples')
  exec_properties = {k: v for k, v in component.exec_properties.items()}
  for key in (specs.INPUT_CONFIG_KEY, specs.CUSTOM_CONFIG_KEY, specs.OUTPUT_CONFIG_KEY):
    value = exec_properties[key]
    exec_properties[key] = value if isinstance(value, str) else json_format.MessageToJson(value)
  gen.Executor().Do({}, {specs.EXAMPLES_KEY: [examples]}, exec_properties)
  assert artifact_utils.decode_split_names(examples.split_names) == ['train', 'eval']
  assert examples_utils.get_payload_format_string(examples) == 'FORMAT_TF_SEQUENCE_EXAMPLE'
  assert examples.get_int_custom_property('clips_train_kept') == 4
  assert examples.get_int_custom_property('clips_train_unassigned') == 1
  assert sorted(p.name for p in (tmp_path / 'examples').iterdir()) == [
      'Split-eval', 'Split-train', gen.COUNTS_FILE]
  factory = tfxio_utils.get_tfxio_factory_from_artifact([examples], telemetry_descriptors=[])
  for split, n in (('train', 4), ('eval', 2)):
    files = list((tmp_path / 'examples' / f'Split-{split}').iterdir())
    assert files and all(f.name.startswith('data_tfrecord-') and f.suffix == '.gz'
                         for f in files), files
    source = factory(os.path.join(artifact_utils.get_split_uri([examples], split), '*'))
    assert type(source).__name__ == 'TFSequenceExampleRecord'
    records = list(tf.data.TFRecordDataset([str(f) for f in files], compression_type='GZIP'
                                           ).as_numpy_iterator())
    assert len(records) == n and all(_env_and_video(r)[1].startswith(split.replace(
        'train', 'bal_train')) for r in records)
    stored = b''.join(f.read_bytes() for f in files)
    assert any(r in stored for r in records), 'written deflated, not at the stored level'
