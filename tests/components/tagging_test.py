"""The multi-label (AudioSet tagging) target's parts on known inputs: clips kept at
ingestion, the label tensor from records, the sigmoid head, the reference, the gate."""

import collections
import importlib

import numpy as np
import pytest
import tensorflow as tf

from envsound.components import (eval_scores, heads, labelling, preprocessing, quality_gate,
                                 tagging_reference, training, trainer_cnn1d)
from envsound.core import features, records, targets
from envsound.core.taxonomy import load_taxonomy
from tests.components.conftest import make_clips

NUM_TAGS = 527


def _record(labels, seed=0, video='v'):
  embedding = make_clips(1, seed)[0][0]
  return records.encode_clip(video, 0.0, 10.0, labels, embedding)


def _write(path, recs, compression=None):
  with tf.io.TFRecordWriter(str(path), compression) as w:
    for r in recs:
      w.write(r)


def test_ingestion_keeps_labelled_clips_without_an_environment_only_for_tagging(tmp_path):
  taxonomy = load_taxonomy()
  table = taxonomy.class_environment_array()
  in_env, outside = int(np.flatnonzero(table >= 0)[0]), int(np.flatnonzero(table < 0)[0])
  path = tmp_path / 'bal.tfrecord'
  _write(path, [_record([in_env], 0, 'a'), _record([outside], 1, 'b')])
  for keep, expected in ((False, [int(table[in_env])]),
                         (True, [int(table[in_env]), -1])):
    counts = collections.Counter()
    parts = list(labelling.labelled_batches([str(path)], 0, taxonomy, counts, keep))
    assert [int(e) for p in parts for e in p.envs] == expected
    assert counts[labelling.UNASSIGNED] == 2 - len(expected)
  part = parts[0]
  assert int(part.groups[1]) == len(taxonomy)  # the cap's own group for unassigned clips
  kept = tf.train.SequenceExample.FromString(part.serialized(1))
  assert features.ENVIRONMENT_KEY not in kept.context.feature
  assert list(kept.context.feature[features.LABELS_KEY].int64_list.value) == [outside]


def test_the_label_tensor_is_the_multi_hot_vector_of_the_records_labels(tmp_path):
  label_sets = ([3, 526], [0], [7, 7, 2])
  serialized = tf.constant([_record(ls, i) for i, ls in enumerate(label_sets)])
  context, _, _ = tf.io.parse_sequence_example(
      serialized, context_features={features.LABELS_KEY: tf.io.VarLenFeature(tf.int64)})
  hot = preprocessing.multi_hot(context[features.LABELS_KEY], NUM_TAGS).numpy()
  assert hot.shape == (3, NUM_TAGS) and hot.dtype == np.float32
  for row, ls in zip(hot, label_sets):
    assert sorted(np.flatnonzero(row)) == sorted(set(ls)) and row.sum() == len(set(ls))
  split = tmp_path / 'Split-eval'
  split.mkdir()
  _write(split / 'data.gz', serialized.numpy(), 'GZIP')
  x, y = tagging_reference.read_pooled_tags(str(tmp_path), 'eval', NUM_TAGS)
  np.testing.assert_array_equal(y, hot.astype(np.int64))
  assert x.shape == (3, 2 * features.EMBEDDING_DIM)


def test_a_trainer_step_with_the_sigmoid_head_learns_independent_tags():
  rng = np.random.default_rng(0)
  hp = trainer_cnn1d.Hparams(filters=8, hidden=8, conv_layers=1, learning_rate=0.01)
  model = heads.for_target(trainer_cnn1d.build_model(hp, 5), targets.AUDIOSET)
  x = {features.AUDIO_EMBEDDING_XF: rng.normal(size=[32, 1280]).astype(np.float32),
       features.MASK_XF: np.ones([32, 10], np.float32)}
  y = (rng.random([32, 5]) < 0.4).astype(np.float32)
  training.compile_model(model, hp, y.sum(axis=0), targets.AUDIOSET, len(y))
  history = model.fit(x, y, batch_size=32, epochs=5, verbose=0).history
  assert history['loss'][-1] < history['loss'][0]
  assert set(history) == {'loss', 'auc', 'pr_auc'}
  scores = model(x, training=False).numpy()
  assert ((scores > 0) & (scores < 1)).all()
  assert not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)  # not a softmax
  assert model.get_layer(heads.OUTPUT_LAYER).get_config()['activation'] == 'sigmoid'


def test_the_environment_target_keeps_the_models_softmax_head():
  model = trainer_cnn1d.build_model(trainer_cnn1d.Hparams(filters=8, hidden=8), 3)
  assert heads.for_target(model, targets.ENVIRONMENT) is model


@pytest.mark.parametrize('module', ['trainer_cnn1d', 'trainer_attention', 'trainer_cnn2d'])
def test_a_fresh_multi_label_model_outputs_the_label_prior(module):
  trainer = importlib.import_module(f'envsound.components.{module}')
  positives, clips = np.array([0, 1, 50, 99, 100]), 100
  model = heads.for_target(trainer.build_model(trainer.Hparams(hidden=8), 5),
                           targets.AUDIOSET, heads.prior_log_odds(positives, clips))
  rng = np.random.default_rng(1)
  x = {features.AUDIO_EMBEDDING_XF: rng.normal(size=[16, 1280]).astype(np.float32),
       features.MASK_XF: np.ones([16, 10], np.float32)}
  mean = model(x, training=False).numpy().mean(axis=0)
  np.testing.assert_allclose(mean, [0.005, 0.01, 0.5, 0.99, 0.995], rtol=1e-5)


@pytest.mark.parametrize('module', ['trainer_cnn1d', 'trainer_attention', 'trainer_cnn2d'])
def test_the_wide_path_starts_at_zero_and_learns_the_pooled_inputs(module):
  trainer = importlib.import_module(f'envsound.components.{module}')
  tf.keras.utils.set_random_seed(0)
  clips, rng = 512, np.random.default_rng(2)
  frames = rng.normal(size=[clips, 10, features.EMBEDDING_DIM]).astype(np.float32)
  x = {features.AUDIO_EMBEDDING_XF: frames.reshape(clips, -1),
       features.MASK_XF: np.ones([clips, 10], np.float32)}
  y = (frames.mean(axis=1)[:, :3] > 0).astype(np.float32)  # tag j: the pooled mean of input j
  bias = heads.prior_log_odds(y.sum(axis=0), len(y))
  hp = trainer.Hparams(hidden=8, learning_rate=0.01, batch_size=64, epochs=5)
  deep = heads.for_target(trainer.build_model(hp, 3), targets.AUDIOSET, bias)
  model = heads.for_target(trainer.build_model(hp, 3), targets.AUDIOSET, bias, wide=True)
  np.testing.assert_allclose(model(x, training=False).numpy(),
                             deep(x, training=False).numpy(), rtol=1e-5)
  wide_kernel = model.get_layer(heads.WIDE_LAYER).kernel
  assert wide_kernel.shape == (2 * features.EMBEDDING_DIM, 3)
  training.compile_model(model, hp, y.sum(axis=0), targets.AUDIOSET, len(y))
  model.fit(x, y, batch_size=hp.batch_size, epochs=hp.epochs, verbose=0)
  learnt = wide_kernel.numpy()
  # Each tag's largest weight is on its deciding input, above every other input's magnitude.
  deciding = learnt[[0, 1, 2], [0, 1, 2]]
  others = np.abs(learnt - np.eye(*learnt.shape) * learnt).max(axis=0)
  assert np.all(deciding > others), (deciding, others)


def test_the_environment_target_with_the_wide_path_keeps_a_softmax():
  model = heads.for_target(trainer_cnn1d.build_model(trainer_cnn1d.Hparams(filters=8,
                                                                           hidden=8), 3),
                           targets.ENVIRONMENT, wide=True)
  rng = np.random.default_rng(3)
  x = {features.AUDIO_EMBEDDING_XF: rng.normal(size=[4, 1280]).astype(np.float32),
       features.MASK_XF: np.ones([4, 10], np.float32)}
  np.testing.assert_allclose(model(x, training=False).numpy().sum(axis=1), 1.0, rtol=1e-5)
  assert model.get_layer(heads.WIDE_LAYER) is not None


def test_the_prior_bias_needs_one_value_per_class_and_training_clips():
  model = trainer_cnn1d.build_model(trainer_cnn1d.Hparams(filters=8, hidden=8), 3)
  with pytest.raises(ValueError, match='3 classes but an initial bias of shape'):
    heads.for_target(model, targets.AUDIOSET, [0.0, 0.0])
  with pytest.raises(ValueError, match='needs training clips'):
    heads.prior_log_odds([0, 0, 0], 0)


def _tags(rng, clips, prevalence):
  return (rng.random([clips, len(prevalence)]) < prevalence).astype(np.int64)


def test_the_reference_ranks_by_a_linear_model_and_the_prior_is_the_floor():
  rng = np.random.default_rng(0)
  prevalence = np.array([0.3, 0.2, 0.1, 0.0])  # class 3: no training positive
  y_train, y_eval = _tags(rng, 600, prevalence), _tags(rng, 300, prevalence)
  y_eval[:5, 3] = 1  # ... but some on the validation split
  w = rng.normal(0, 2, (4, 256))
  x_train = y_train @ w + rng.normal(0, 1, (600, 256))
  x_eval = y_eval[:, :3] @ w[:3] + rng.normal(0, 1, (300, 256))
  result, scores = tagging_reference.fit(x_train, y_train, x_eval, y_eval)
  assert scores.shape == y_eval.shape
  assert result.fitted_classes == 3 and result.ap_classes == 4
  assert min(result.average_precision[:3]) > 0.95
  # The unfitted class scores its training frequency (0) for every clip: AP = its share.
  assert result.average_precision[3] == pytest.approx(y_eval[:, 3].mean())
  assert result.prior_map == pytest.approx(y_eval.mean(axis=0).mean())
  assert result.mean_average_precision > result.prior_map + 0.5
  # Three classes separated perfectly (AUC 1), the constant one at chance (0.5).
  assert result.mean_auc == pytest.approx((3 * 1.0 + 0.5) / 4, abs=0.01)


def _tagging_reference(mean_ap=0.30, prior=0.05):
  return tagging_reference.TaggingReference(
      mean_average_precision=mean_ap, mean_auc=0.9, d_prime=1.8, ap_classes=500,
      prior_map=prior, train_clips=100, eval_clips=50, fitted_classes=400, c=0.1)


def test_the_tagging_gate_needs_the_reference_and_the_prior_beaten():
  ref = _tagging_reference()
  assert quality_gate.decide_tagging(0.31, True, ref) == quality_gate.Decision(
      True, 'pushed: mAP 0.310 beats the reference 0.300, label prior 0.050')
  assert quality_gate.decide_tagging(0.29, True, ref) == quality_gate.Decision(
      False, 'not pushed: mAP 0.290, reference 0.300, label prior 0.050')
  assert not quality_gate.decide_tagging(0.2, True, _tagging_reference(0.1, 0.25)).blessed
  below = quality_gate.decide_tagging(0.31, False, ref)
  assert not below.blessed and below.reason.endswith('below the last blessed model')


def test_min_map_replaces_the_tagging_comparison():
  ref = _tagging_reference()
  assert quality_gate.decide_tagging(0.2, True, ref, min_map=0.15).blessed
  assert quality_gate.decide_tagging(0.2, True, ref, min_map=0.25) == quality_gate.Decision(
      False, 'not pushed: mAP 0.200, below --min-map 0.250')
  assert not quality_gate.decide_tagging(float('nan'), True, ref, min_map=0.0).blessed


def test_the_tagging_reference_round_trips_through_its_file(tmp_path):
  result = _tagging_reference()
  result.write(str(tmp_path))
  assert tagging_reference.TaggingReference.read(str(tmp_path)) == result


def test_eval_scores_round_trip_and_a_missing_file_reads_none(tmp_path):
  labels = np.array([[1, 0], [0, 1], [1, 1]])
  scores = np.array([[0.9, 0.1], [0.2, 0.7], [0.6, 0.5]], np.float32)
  eval_scores.write(str(tmp_path), labels, scores)
  read_labels, read_scores = eval_scores.read(str(tmp_path))
  np.testing.assert_array_equal(read_labels, labels)
  np.testing.assert_array_equal(read_scores, scores)
  assert eval_scores.read(str(tmp_path / 'nothing')) is None
  with pytest.raises(ValueError, match='must both be'):
    eval_scores.write(str(tmp_path), labels, scores[:2])
  (tmp_path / 'bad').mkdir()
  np.savez(tmp_path / 'bad' / eval_scores.EVAL_SCORES_FILE, labels=labels)
  with pytest.raises(ValueError, match=r'bad/eval_scores.npz: no scores array'):
    eval_scores.read(str(tmp_path / 'bad'))
