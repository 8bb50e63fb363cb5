"""The quality gate's rule and the reference it compares against, on known inputs."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.components import quality_gate, reference
from envsound.core import features
from tests.components.conftest import make_clips, serialize


def _reference(accuracy=0.46, majority=0.21):
  return reference.ReferenceResult(accuracy=accuracy, macro_f1=0.4, majority_rate=majority,
                                   majority_class=0, train_clips=100, eval_clips=50, c=1.0,
                                   confusion=[[1]])


def test_a_model_that_does_not_beat_the_reference_is_not_pushed():
  decision = quality_gate.decide(0.31, True, _reference())
  assert not decision.blessed
  assert decision.reason == 'not pushed: accuracy 0.310, reference 0.460, majority class 0.210'


def test_a_model_must_beat_the_majority_class_too():
  assert not quality_gate.decide(0.5, True, _reference(accuracy=0.3, majority=0.6)).blessed


def test_a_model_beating_both_is_pushed_unless_below_the_last_blessed_one():
  assert quality_gate.decide(0.5, True, _reference()) == quality_gate.Decision(
      True, 'pushed: accuracy 0.500 beats the reference 0.460, majority class 0.210')
  below = quality_gate.decide(0.5, False, _reference())
  assert not below.blessed and below.reason.endswith('below the last blessed model')


def test_min_accuracy_replaces_the_comparison():
  assert quality_gate.decide(0.31, True, _reference(), min_accuracy=0.3).blessed
  refused = quality_gate.decide(0.31, True, _reference(), min_accuracy=0.4)
  assert refused == quality_gate.Decision(
      False, 'not pushed: accuracy 0.310, below --min-accuracy 0.400')
  assert not quality_gate.decide(0.5, False, _reference(), min_accuracy=0.3).blessed


def test_no_accuracy_is_never_pushed():
  assert not quality_gate.decide(float('nan'), True, _reference(), min_accuracy=0.0).blessed


def test_pool_takes_mean_and_spread_over_real_frames_only():
  frames = np.zeros((2, 3, 128), np.uint8)
  frames[0, :2, 0] = (0, 255)    # real frames -2 and +2: mean 0, std 2
  frames[0, 2, 0] = 255          # padding, ignored
  frames[1, 0, :] = 128
  pooled = reference.pool(frames, np.array([2, 1]))
  assert pooled.shape == (2, 256)
  np.testing.assert_allclose(pooled[0, [0, 128]], [0.0, 2.0], atol=1e-6)
  np.testing.assert_allclose(pooled[1, :128], (128 * 4 / 255) - 2, atol=1e-6)
  np.testing.assert_allclose(pooled[1, 128:], 0.0, atol=1e-6)


def test_reference_separates_separable_classes_and_reports_the_majority_rate():
  rng = np.random.default_rng(0)
  centres = rng.normal(0, 3, (3, 256))
  y_train = rng.choice(3, 600, p=[0.6, 0.2, 0.2])
  y_eval = rng.choice(3, 300, p=[0.6, 0.2, 0.2])
  x_train = centres[y_train] + rng.normal(0, 1, (600, 256))
  x_eval = centres[y_eval] + rng.normal(0, 1, (300, 256))
  result = reference.fit(x_train, y_train, x_eval, y_eval, num_classes=4)
  assert result.accuracy > 0.95
  assert result.majority_class == 0
  assert result.majority_rate == pytest.approx(np.mean(y_eval == 0))
  assert result.c in reference.C_GRID
  assert np.array(result.confusion).sum() == 300
  assert min(result.average_precision[:3]) > 0.95
  assert np.isnan(result.average_precision[3])  # no clip of class 3 anywhere


def test_reference_average_precision_ranks_by_its_probabilities():
  rng = np.random.default_rng(1)
  centres = rng.normal(0, 0.05, (2, 256))  # overlapping classes: AP well below 1
  y_train, y_eval = rng.choice(2, 400), rng.choice(2, 400)
  x_train = centres[y_train] + rng.normal(0, 1, (400, 256))
  x_eval = centres[y_eval] + rng.normal(0, 1, (400, 256))
  result = reference.fit(x_train, y_train, x_eval, y_eval, num_classes=2)
  chance = np.bincount(y_eval) / len(y_eval)
  assert all(chance[c] + 0.1 < result.average_precision[c] < 0.99 for c in range(2))


def test_reference_refuses_a_single_class(tmp_path):
  with pytest.raises(ValueError, match='1 class'):
    reference.fit(np.zeros((4, 256)), np.zeros(4, int), np.zeros((2, 256)), np.zeros(2, int), 3)


def test_result_round_trips_through_its_file(tmp_path):
  result = _reference()
  result.write(str(tmp_path))
  assert reference.ReferenceResult.read(str(tmp_path)) == result


def test_read_pooled_reads_an_example_gen_split_and_drops_unlabelled(tmp_path):
  clips = make_clips(7)
  split = tmp_path / 'Split-train'
  split.mkdir()
  with tf.io.TFRecordWriter(str(split / 'data_tfrecord-00000-of-00001.gz'), 'GZIP') as w:
    for embedding, env in clips:
      w.write(serialize(embedding, env))
    w.write(serialize(clips[0][0]))  # no environment
  x, y = reference.read_pooled(str(tmp_path), 'train')
  assert list(y) == [env for _, env in clips]
  frames = [features.dequantize(e.astype(np.float64)) for e, _ in clips]
  expected = [np.concatenate([f.mean(axis=0), f.std(axis=0)]) for f in frames]
  np.testing.assert_allclose(x, expected, atol=1e-4)  # clips of several frame counts
  with pytest.raises(FileNotFoundError):
    reference.read_pooled(str(tmp_path), 'eval')
