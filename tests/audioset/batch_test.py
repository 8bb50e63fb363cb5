"""The reader's batches: each valid record as it lies in the file, beside its fields."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.audioset import decode, reader
from envsound.audioset.release import find_release
from tests.audioset.conftest import frames, sequence_example, write_records


def _file_records(files):
  return [r.numpy() for r in tf.data.TFRecordDataset([str(f) for f in files])]


@pytest.mark.parametrize('exact', [False, True])
def test_batches_hold_the_records_as_read_and_their_clips(sample_release, monkeypatch, exact):
  files = find_release(sample_release).files['bal_train']
  if exact:
    monkeypatch.setattr(decode, 'check_batch', lambda *args: None)
  batches = list(reader.read_batches(files, 527, batch_size=7))
  assert [r for b in batches for r in b.raw] == _file_records(files)
  clips = [c for b in batches for c in b.clips()]
  singles = [b.clip(i) for b in batches for i in range(len(b))]
  for clip, single, raw in zip(clips, singles, _file_records(files)):
    reference = decode.decode_record(raw, 527)
    for c in (clip, single):
      assert (c.video_id, c.start_time_seconds, c.end_time_seconds, c.labels) == (
          reference.video_id, reference.start_time_seconds, reference.end_time_seconds,
          reference.labels)
      np.testing.assert_array_equal(c.embedding, reference.embedding)


def test_bad_records_leave_the_batch_and_end_times_say_whether_given(tmp_path):
  records = [sequence_example('a', start=1.5, end=11.5, labels=(4, 0, 4), embedding=frames(3)),
             b'not a record',
             sequence_example('b', start=2.0, end=None, labels=(1,), embedding=frames(2))]
  write_records(tmp_path / 'x.tfrecord', records)
  summary = reader.ReadSummary()
  (batch,) = reader.read_batches([tmp_path / 'x.tfrecord'], 5, skip_invalid=True,
                                 summary=summary)
  assert batch.raw == [records[0].SerializeToString(), records[2].SerializeToString()]
  assert batch.video_ids == ['a', 'b'] and batch.end_times.tolist() == [11.5, 4.0]
  assert summary.counts() == {decode.NOT_SEQUENCE_EXAMPLE: 1}
  np.testing.assert_array_equal(batch.padded_labels(), [[4, 0, 4], [1, -1, -1]])


def test_batch_check_tells_given_from_missing_end_times(tmp_path):
  records = [sequence_example('a', start=1.0, end=5.0, embedding=frames(4)),
             sequence_example('b', start=2.0, end=None, embedding=frames(3))]
  batch = decode.check_batch(tf.constant([r.SerializeToString() for r in records]), 5)
  assert batch.end_given.tolist() == [True, False]
  assert batch.end_times.tolist() == [5.0, 5.0]
