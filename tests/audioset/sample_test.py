"""Tests for the sample release generator (envsound.audioset.sample)."""

import filecmp

import numpy as np
import pytest
import tensorflow as tf

from envsound.audioset import sample, sample_model
from envsound.core.labels import bundled_class_labels_path
from envsound.core import features
from envsound.core import records as records_lib
from envsound.core.errors import EnvsoundError
from envsound.core.taxonomy import load_taxonomy

def _read_split(root, split):
  """Parses every record of a split with plain TensorFlow: [(context, frame bytes)]."""
  records = []
  for path in sorted((root / split).glob('*.tfrecord')):
    for raw in tf.data.TFRecordDataset(str(path)):
      ctx, seq = tf.io.parse_single_sequence_example(raw, *records_lib.parse_spec())
      records.append(({k: v.numpy() for k, v in ctx.items()},
                      seq[features.AUDIO_EMBEDDING_KEY].flat_values.numpy()))
  return records


def _frames(record):
  return np.stack([np.frombuffer(b, np.uint8) for b in record[1]])


@pytest.fixture(name='release', scope='module')
def _release(tmp_path_factory):
  root = tmp_path_factory.mktemp('sample') / 'audioset'
  summary = sample.generate_release(root, 4000, seed=3, shard_size=400, progress=False)
  return root, summary, {s: _read_split(root, s) for s in features.SPLITS}


def test_layout_matches_googles_release(release):
  root, summary, _ = release
  assert sorted(p.name for p in root.iterdir()) == sorted(features.SPLITS + (
      features.CLASS_CSV,))
  assert filecmp.cmp(root / features.CLASS_CSV, bundled_class_labels_path(), shallow=False)
  assert [s.clips for s in summary.splits] == [600, 3000, 400]
  assert sorted(p.name for p in (root / 'unbal_train').iterdir()) == [
      f'{i:04d}.tfrecord' for i in range(8)]
  assert [p.name for p in root.parent.iterdir()] == ['audioset']  # no temp leftovers


def test_records_parse_as_audioset_sequence_examples(release):
  _, summary, records = release
  for split, recs in records.items():
    assert len(recs) == summary.split(split).clips
    for ctx, frames in recs[:50]:
      assert len(ctx[features.VIDEO_ID_KEY]) == 11
      assert ctx[features.END_TIME_KEY] - ctx[features.START_TIME_KEY] == len(frames)
      assert all(len(f) == features.EMBEDDING_DIM for f in frames)
      assert 1 <= len(ctx[features.LABELS_KEY]) and ctx[features.LABELS_KEY].max() < 527


def test_short_and_multi_label_clips_are_present_and_counted(release):
  _, summary, records = release
  for split, recs in records.items():
    lengths = np.array([len(f) for _, f in recs])
    assert lengths.min() >= 3 and lengths.max() == features.NUM_FRAMES
    assert (lengths < features.NUM_FRAMES).sum() == summary.split(split).short_clips > 0
    multi = sum(len(c[features.LABELS_KEY]) > 1 for c, _ in recs)
    assert multi == summary.split(split).multi_label_clips > 0.3 * len(recs)


def _label_counts(recs):
  return np.bincount(np.concatenate([c[features.LABELS_KEY] for c, _ in recs]), minlength=527)


def test_bal_train_is_balanced_and_unbal_train_skewed(release):
  _, _, records = release
  bal, unbal = _label_counts(records['bal_train']), _label_counts(records['unbal_train'])
  spread = lambda c: np.delete(c, [sample_model.SPEECH, sample_model.MUSIC]).std() / \
      np.delete(c, [sample_model.SPEECH, sample_model.MUSIC]).mean()
  assert bal.min() >= 1  # 600 clips cycle through all 527 classes
  assert spread(bal) < 0.6
  assert spread(unbal) > 1.2
  assert set(np.argsort(unbal)[-2:]) == {sample_model.SPEECH, sample_model.MUSIC}


def test_embeddings_depend_on_environment_and_correlate_over_time(release):
  _, _, records = release
  tax = load_taxonomy()
  def pooled(split):
    xs, ys = [], []
    for ctx, frames in records[split]:
      env = tax.environment_of(ctx[features.LABELS_KEY])
      if env is not None and len(frames) == features.NUM_FRAMES:
        xs.append(features.dequantize(_frames((ctx, frames)).astype(np.float32)))
        ys.append(env)
    return np.stack(xs), np.array(ys)
  x, y = pooled('unbal_train')
  centroids = np.stack([x[y == e].mean(axis=(0, 1)) for e in range(len(tax))])
  xe, ye = pooled('eval')
  dist = ((xe.mean(axis=1)[:, None, :] - centroids[None]) ** 2).sum(-1)
  assert (dist.argmin(1) == ye).mean() > 0.3  # chance is about 0.1 to 0.2
  centred = x - x.mean(axis=1, keepdims=True)
  adjacent = (centred[:, 1:] * centred[:, :-1]).mean() / centred.var()
  assert adjacent > 0.2


def test_same_seed_same_bytes_other_seed_different(tmp_path):
  kwargs = dict(shard_size=100, progress=False)
  sample.generate_release(tmp_path / 'a', 300, seed=0, **kwargs)
  sample.generate_release(tmp_path / 'b', 300, seed=0, **kwargs)
  sample.generate_release(tmp_path / 'c', 300, seed=1, **kwargs)
  files = sorted(p.relative_to(tmp_path / 'a') for p in (tmp_path / 'a').rglob('*.tfrecord'))
  assert len(files) == 5
  for f in files:
    a, b, c = (_messages(tmp_path / d / f) for d in 'abc')
    assert a == b
    assert len(a) == len(c) and a != c


def _messages(path):
  # Parsed, not raw bytes: protobuf does not promise a byte order for map fields.
  return [tf.train.SequenceExample.FromString(r.numpy()) for r in tf.data.TFRecordDataset(
      str(path))]


def test_failure_midway_leaves_nothing(tmp_path, monkeypatch):
  calls = []
  real = sample._write_shard  # pylint: disable=protected-access
  def failing(*args):
    calls.append(1)
    if len(calls) == 2:
      raise RuntimeError('disk full')
    real(*args)
  monkeypatch.setattr(sample, '_write_shard', failing)
  with pytest.raises(RuntimeError, match='disk full'):
    sample.generate_release(tmp_path / 'out', 300, shard_size=50, progress=False)
  assert list(tmp_path.iterdir()) == []


def test_existing_output_needs_overwrite(tmp_path):
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'old').write_text('x')
  with pytest.raises(EnvsoundError, match='--overwrite'):
    sample.generate_release(out, 10, progress=False)
  summary = sample.generate_release(out, 10, overwrite=True, progress=False)
  assert not (out / 'old').exists() and (out / 'eval' / '0000.tfrecord').exists()
  assert 'unbal_train' in str(summary) and 'speech_crowd' in str(summary)


def test_split_sizes():
  assert sample.split_sizes(150_000) == {'bal_train': 22_500, 'unbal_train': 112_500,
                                         'eval': 15_000}
  assert sum(sample.split_sizes(3).values()) == 3
  with pytest.raises(EnvsoundError, match='at least 3'):
    sample.split_sizes(2)
  with pytest.raises(EnvsoundError, match='fractions'):
    sample.split_sizes(100, bal_fraction=0.6, eval_fraction=0.5)
