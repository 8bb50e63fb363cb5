"""Tests for the clip reader (envsound.audioset.reader): good records and every bad input."""

import struct

import numpy as np
import pytest
import tensorflow as tf

from envsound.audioset import decode, reader
from envsound.audioset.release import find_release
from envsound.core import features
from envsound.core.errors import InvalidInputError
from tests.audioset.conftest import (frames, good_clips, plain_tf_clips, sequence_example,
                                     write_records)

NUM_CLASSES = 5  # the tiny class list: nothing here depends on AudioSet's 527 or the taxonomy


def _read(files, **kwargs):
  summary = reader.ReadSummary()
  clips = list(reader.read_clips(files, NUM_CLASSES, summary=summary, **kwargs))
  return clips, summary


def _as_tuples(clips):
  return [(c.video_id, c.start_time_seconds, c.labels, c.embedding.tobytes()) for c in clips]


def test_sample_release_reads_like_plain_tensorflow(sample_release):
  release = find_release(sample_release)
  for split in release.splits:
    files = release.files[split]
    summary = reader.ReadSummary()
    clips = list(reader.read_clips(files, 527, summary=summary, batch_size=16))
    assert _as_tuples(clips) == plain_tf_clips(files)
    assert all(c.embedding.dtype == np.uint8 and c.embedding.shape[1] == 128 for c in clips)
    assert all(c.end_time_seconds == c.start_time_seconds + c.num_frames for c in clips)
    assert summary.clips == summary.records == len(clips)
    assert summary.files == len(files)
    assert summary.bytes == sum(f.stat().st_size for f in files)
    assert not summary.problems


def test_hand_built_records(tmp_path):
  emb = frames(7, seed=3)
  records = [sequence_example('abc_DEF-123', start=12.5, end=19.5, labels=(4, 0, 2),
                              embedding=emb),
             sequence_example('short', start=0.0, end=None, labels=(3,), embedding=frames(1))]
  write_records(tmp_path / 'x.tfrecord', records)
  (first, second), summary = _read([tmp_path / 'x.tfrecord'])
  assert (first.video_id, first.start_time_seconds, first.end_time_seconds) == (
      'abc_DEF-123', 12.5, 19.5)
  assert first.labels == (4, 0, 2)
  np.testing.assert_array_equal(first.embedding, emb)
  assert second.num_frames == 1 and second.end_time_seconds == 1.0  # end defaults to start + frames
  assert summary.clips == 2 and not summary.problems


@pytest.mark.parametrize('batch_size', [1, 3, 512])
def test_fast_and_exact_paths_agree(sample_release, monkeypatch, batch_size):
  files = find_release(sample_release).files['bal_train']
  fast = list(reader.read_clips(files, 527, batch_size=batch_size))
  monkeypatch.setattr(decode, 'check_batch', lambda *args: None)
  exact = list(reader.read_clips(files, 527, batch_size=batch_size))
  assert [(c.video_id, c.start_time_seconds, c.end_time_seconds, c.labels) for c in fast] == \
      [(c.video_id, c.start_time_seconds, c.end_time_seconds, c.labels) for c in exact]
  assert [c.embedding.tobytes() for c in fast] == [c.embedding.tobytes() for c in exact]


def _not_a_sequence_example():
  example = tf.train.Example()
  example.features.feature[features.AUDIO_EMBEDDING_KEY].bytes_list.value.append(bytes(128))
  example.features.feature[features.LABELS_KEY].int64_list.value.append(1)
  return example.SerializeToString()


def _frame_values(values):
  example = sequence_example()
  example.feature_lists.feature_list[features.AUDIO_EMBEDDING_KEY].feature[3].bytes_list.value[:] = \
      values
  return example


def _float_labels():
  example = sequence_example()
  del example.context.feature[features.LABELS_KEY]
  example.context.feature[features.LABELS_KEY].float_list.value.append(1.0)
  return example


BAD_RECORDS = {
    'garbage bytes': (b'\xff\xfe not a protobuf \x00\x01', decode.NOT_SEQUENCE_EXAMPLE, None),
    'tf.train.Example': (_not_a_sequence_example(), decode.NOT_SEQUENCE_EXAMPLE, None),
    'empty record': (b'', decode.NOT_SEQUENCE_EXAMPLE, None),
    'no audio_embedding': (sequence_example(omit=(features.AUDIO_EMBEDDING_KEY,)),
                           decode.MISSING_FIELD, features.AUDIO_EMBEDDING_KEY),
    'no labels': (sequence_example(omit=(features.LABELS_KEY,)), decode.MISSING_FIELD,
                  features.LABELS_KEY),
    'empty labels': (sequence_example(labels=()), decode.MISSING_FIELD, features.LABELS_KEY),
    'no video_id': (sequence_example(omit=(features.VIDEO_ID_KEY,)), decode.MISSING_FIELD,
                    features.VIDEO_ID_KEY),
    'float labels': (_float_labels(), decode.BAD_FIELD, features.LABELS_KEY),
    'frame of 127 bytes': (_frame_values([bytes(127)]), decode.BAD_FRAME,
                           features.AUDIO_EMBEDDING_KEY),
    'frame of 129 bytes': (_frame_values([bytes(129)]), decode.BAD_FRAME,
                           features.AUDIO_EMBEDDING_KEY),
    'frame of two values': (_frame_values([bytes(128), bytes(128)]), decode.BAD_FRAME,
                            features.AUDIO_EMBEDDING_KEY),
    'no frames': (sequence_example(embedding=np.zeros((0, 128), np.uint8)), decode.NO_FRAMES,
                  features.AUDIO_EMBEDDING_KEY),
    'label = num classes': (sequence_example(labels=(1, NUM_CLASSES)),
                            decode.LABEL_OUT_OF_RANGE, features.LABELS_KEY),
    'negative label': (sequence_example(labels=(-1,)), decode.LABEL_OUT_OF_RANGE,
                       features.LABELS_KEY),
}


@pytest.mark.parametrize('case', sorted(BAD_RECORDS))
@pytest.mark.parametrize('batch_size', [2, 512])
def test_bad_record_named_or_skipped(tmp_path, case, batch_size):
  bad, kind, field = BAD_RECORDS[case]
  path = tmp_path / 'split' / 'shard.tfrecord'
  write_records(path, good_clips(3) + [bad] + good_clips(2, offset=3))
  with pytest.raises(InvalidInputError) as error:
    _read([path], batch_size=batch_size)
  assert (error.value.path, error.value.record, error.value.field) == (str(path), 3, field)
  assert str(error.value).startswith(f'{path}, record 3') and '\n' not in str(error.value)
  clips, summary = _read([path], batch_size=batch_size, skip_invalid=True)
  assert [c.video_id for c in clips] == [f'vid{i:08d}' for i in range(5)]
  assert summary.counts() == {kind: 1}
  assert (summary.records, summary.clips) == (6, 5)
  assert (summary.problems[0].path, summary.problems[0].record) == (str(path), 3)


def _good_file(path, count=5):
  write_records(path, good_clips(count))
  return path.read_bytes()


def _record_offsets(data: bytes):
  """Byte offset of each record of a TFRecord file."""
  offsets, at = [], 0
  while at < len(data):
    offsets.append(at)
    at += 16 + struct.unpack('<Q', data[at:at + 8])[0]
  return offsets


def _corrupt(path, how: str) -> None:
  data = bytearray(_good_file(path))
  at = _record_offsets(bytes(data))
  if how == 'truncated mid-record':
    data = data[:at[3] + 100]
  elif how == 'truncated in a header':
    data = data[:at[3] + 5]
  elif how == 'bad data checksum':
    data[at[3] + 12 + 50] ^= 0xFF
  elif how == 'bad length checksum':
    data[at[3] + 9] ^= 0xFF
  path.write_bytes(bytes(data))


BAD_FILES = {  # how -> (kind, record index of the problem, clips read from the file)
    'truncated mid-record': (reader.TRUNCATED, 3, 3),
    'truncated in a header': (reader.TRUNCATED, 3, 3),  # TF itself stops here silently
    'bad data checksum': (reader.BAD_CHECKSUM, 3, 3),
    'bad length checksum': (reader.BAD_CHECKSUM, 3, 3),
}


@pytest.mark.parametrize('how', sorted(BAD_FILES))
@pytest.mark.parametrize('batch_size', [2, 512])
def test_corrupt_file_named_or_rest_skipped(tmp_path, how, batch_size):
  kind, record, readable = BAD_FILES[how]
  before, bad, after = tmp_path / 'a.tfrecord', tmp_path / 'b.tfrecord', tmp_path / 'c.tfrecord'
  _good_file(before, 4)
  _corrupt(bad, how)
  _good_file(after, 2)
  files = [before, bad, after]
  with pytest.raises(InvalidInputError) as error:
    _read(files, batch_size=batch_size)
  assert (error.value.path, error.value.record) == (str(bad), record)
  assert str(error.value).startswith(f'{bad}, record {record}: ')
  clips, summary = _read(files, batch_size=batch_size, skip_invalid=True)
  assert len(clips) == 4 + readable + 2
  assert summary.counts() == {kind: 1} and summary.files == 3
  assert summary.bytes == sum(f.stat().st_size for f in files)


@pytest.mark.parametrize('content,kind,record', [
    (b'', reader.EMPTY_FILE, None),
    (b'abc', reader.NOT_TFRECORD, 0),
    (b'this is a text file, not a TFRecord file at all\n' * 4, reader.NOT_TFRECORD, 0),
    (bytes(100), reader.NOT_TFRECORD, 0),
])
def test_files_that_are_not_tfrecords(tmp_path, content, kind, record):
  good, bad = tmp_path / 'a.tfrecord', tmp_path / 'b.tfrecord'
  _good_file(good, 3)
  bad.write_bytes(content)
  with pytest.raises(InvalidInputError) as error:
    _read([good, bad])
  assert (error.value.path, error.value.record) == (str(bad), record)
  clips, summary = _read([bad, good, bad], skip_invalid=True)
  assert len(clips) == 3 and summary.counts() == {kind: 2}


def test_many_problems_are_all_listed(tmp_path):
  a, b = tmp_path / 'a.tfrecord', tmp_path / 'b.tfrecord'
  write_records(a, [b'junk'] + good_clips(2) + [sequence_example(labels=(9,))])
  _corrupt(b, 'bad data checksum')
  clips, summary = _read([a, b], skip_invalid=True, batch_size=2)
  assert len(clips) == 5
  assert [(p.path, p.record, p.kind) for p in summary.problems] == [
      (str(a), 0, decode.NOT_SEQUENCE_EXAMPLE), (str(a), 3, decode.LABEL_OUT_OF_RANGE),
      (str(b), 3, reader.BAD_CHECKSUM)]


def test_missing_file_is_unreadable(tmp_path):
  missing = tmp_path / 'gone.tfrecord'
  with pytest.raises(InvalidInputError, match='gone.tfrecord.*cannot read'):
    _read([missing])
  _, summary = _read([missing], skip_invalid=True)
  assert summary.counts() == {reader.UNREADABLE: 1}


def test_progress_reports_every_byte(sample_release):
  files = find_release(sample_release).files['eval']
  seen = []
  list(reader.read_clips(files, 527, progress=seen.append, batch_size=8))
  assert sum(seen) == sum(f.stat().st_size for f in files)


def test_a_pipeline_error_that_does_not_recur_loses_nothing(tmp_path, monkeypatch):
  files = [tmp_path / f'{name}.tfrecord' for name in 'abc']
  for i, path in enumerate(files):
    write_records(path, good_clips(4, offset=10 * i))
  real, calls = reader._Reader.dataset, []  # pylint: disable=protected-access

  def flaky(self, start):
    calls.append(start)
    dataset = real(self, start)
    if len(calls) > 1:
      return dataset
    def fail(element):
      with tf.control_dependencies([tf.debugging.assert_negative(element[0], message='flaky')]):
        return tf.identity(element[0]), element[1], element[2]
    return dataset.take(3).concatenate(dataset.skip(3).take(1).map(lambda *e: fail(e)))
  monkeypatch.setattr(reader._Reader, 'dataset', flaky)  # pylint: disable=protected-access
  clips, summary = _read(files, batch_size=2)
  assert [c.video_id for c in clips] == [f'vid{10 * i + j:08d}' for i in range(3)
                                         for j in range(4)]
  assert not summary.problems and summary.files == 3
  assert calls == [0, 2]  # file b re-read alone, then the pipeline again from c
