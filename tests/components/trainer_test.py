"""Model builders and the Trainers' run_fn (on the tiny fixture data)."""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from envsound.core import features, targets

from envsound.components import (losses, model_map, training, trainer_attention, trainer_cnn1d,
                                 trainer_cnn2d)
from envsound.components.model_layers import (PENULTIMATE_LAYER, MaskedPooling, SpecAugment,
                                             pool_mask)
from tests.components.conftest import CLASS_NAMES, clip_id, fn_args


def _inputs(batch=4, frames=10, seed=0):
  rng = np.random.default_rng(seed)
  mask = np.zeros([batch, features.NUM_FRAMES], np.float32)
  mask[:, :frames] = 1.0
  x = rng.normal(size=[batch, features.NUM_FRAMES, features.EMBEDDING_DIM]) * mask[..., None]
  return {features.AUDIO_EMBEDDING_XF: x.reshape(batch, -1).astype(np.float32),
          features.MASK_XF: mask}


@pytest.mark.parametrize('module', [trainer_cnn1d, trainer_cnn2d])
def test_builders_give_probabilities_and_a_penultimate_embedding(module):
  hp = module.Hparams(hidden=12)
  model = module.build_model(hp, num_classes=5)
  probs = model(_inputs(), training=False).numpy()
  assert probs.shape == (4, 5)
  np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
  assert model.get_layer(PENULTIMATE_LAYER).output.shape[-1] == 12
  # Inference is deterministic (augmentation and dropout only train).
  np.testing.assert_array_equal(probs, model(_inputs(), training=False).numpy())


@pytest.mark.parametrize('build', [
    lambda: trainer_cnn1d.build_model(trainer_cnn1d.Hparams(pooling='attention'), 3),
    lambda: trainer_cnn1d.build_model(
        trainer_cnn1d.Hparams(pooling='feature_attention', filters=16), 3),
    lambda: trainer_cnn2d.build_model(trainer_cnn2d.Hparams(filters=4), 3),
    lambda: trainer_cnn2d.build_model(trainer_cnn2d.Hparams(filters=4, pool_frames=2), 3),
    lambda: trainer_cnn2d.build_model(trainer_cnn2d.Hparams(
        filters=4, raw_channel=True, mixing_batch_norm=True, post_mixing_layers=1), 3)])
def test_models_ignore_pad_frames(build):
  model = build()
  x = _inputs(frames=5)
  noisy = x[features.AUDIO_EMBEDDING_XF].reshape(4, 10, 128).copy()
  noisy[:, 5:] = 5.0
  np.testing.assert_allclose(model(x).numpy(), model(
      {**x, features.AUDIO_EMBEDDING_XF: noisy.reshape(4, -1)}).numpy(), rtol=1e-5)


def test_masked_pooling_ignores_pad_frames():
  x = _inputs(frames=6)
  frames = x[features.AUDIO_EMBEDDING_XF].reshape(4, 10, 128)
  noisy = frames.copy()
  noisy[:, 6:] = 5.0
  for mode in ('mean', 'meanmax', 'meanstd', 'attention'):
    pool = MaskedPooling(mode)
    np.testing.assert_allclose(pool(tf.constant(frames), x[features.MASK_XF]).numpy(),
                               pool(tf.constant(noisy), x[features.MASK_XF]).numpy(), rtol=1e-5)


def test_pool_mask_marks_a_pooled_step_real_when_any_of_its_frames_is():
  mask = tf.constant([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1]], tf.float32)
  np.testing.assert_array_equal(pool_mask(mask, 2).numpy(), [[1, 1, 0, 0], [1, 1, 1, 1]])
  np.testing.assert_array_equal(pool_mask(mask, 1).numpy(), mask.numpy())
  # It matches the width of the frames pooled the same way.
  pooled = tf_keras.layers.MaxPooling2D((1, 2), padding='same')(tf.ones([2, 1, 7, 1]))
  assert pooled.shape[2] == pool_mask(mask, 2).shape[1]


def test_meanstd_pooling_gives_the_statistics_of_real_frames():
  x = _inputs(frames=6)
  frames = x[features.AUDIO_EMBEDDING_XF].reshape(4, 10, 128)
  pooled = MaskedPooling('meanstd')(tf.constant(frames), x[features.MASK_XF]).numpy()
  np.testing.assert_allclose(pooled[:, :128], frames[:, :6].mean(1), rtol=1e-4, atol=1e-5)
  np.testing.assert_allclose(pooled[:, 128:], frames[:, :6].std(1), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize('overrides', [{}, {'residual': True, 'dilation_rate': 2,
                                            'conv_layers': 3, 'filters': 32,
                                            'block_dropout': 0.2, 'input_skip': True}])
def test_cnn1d_builder_trains_a_step_and_round_trips_a_save(overrides, tmp_path):
  hp = trainer_cnn1d.Hparams(hidden=8, **overrides)
  model = trainer_cnn1d.build_model(hp, num_classes=3)
  convs = [l for l in model.layers if isinstance(l, tf_keras.layers.Conv1D)]
  assert [l.dilation_rate[0] for l in convs if l.kernel_size[0] > 1] == [
      hp.dilation_rate ** i for i in range(hp.conv_layers)]
  training.compile_model(model, hp, np.array([4, 4, 4]))
  x, y = _inputs(batch=12), tf.one_hot(np.arange(12) % 3, 3)
  before = model(x, training=False).numpy()
  model.train_on_batch(x, y)
  after = model(x, training=False).numpy()
  assert not np.allclose(before, after)  # the step moved the weights
  model.save(str(tmp_path / 'model'))
  loaded = tf_keras.models.load_model(str(tmp_path / 'model'), compile=False)
  np.testing.assert_allclose(loaded(x, training=False).numpy(), after, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('overrides,width', [
    ({}, 2 * 64),                                          # meanstd of the mixing channels
    ({'time_pooling': 'flatten'}, 10 * 64),                # every frame of them
    ({'mixing_frames': 3, 'time_pooling': 'flatten'}, 10 * 64),  # padded along time
    ({'pool_frames': 2, 'time_pooling': 'mean'}, 64),      # 10 frames -> 5 -> 3, averaged
    ({'mixing_filters': 0, 'pool_frames': 2, 'time_pooling': 'flatten'},
     features.EMBEDDING_DIM * 8 * 3),                      # rows apart, 3 pooled steps
    ({'mixing_filters': 0, 'time_pooling': 'meanmax'}, 2 * features.EMBEDDING_DIM * 8)])
def test_cnn2d_options_build_with_their_widths(overrides, width):
  hp = trainer_cnn2d.Hparams(hidden=8, filters=4, **{'mixing_filters': 64, **overrides})
  model = trainer_cnn2d.build_model(hp, 3)
  assert model.get_layer(PENULTIMATE_LAYER).input.shape[-1] == width
  assert model(_inputs(), training=True).shape == (4, 3)
  mixing = [l for l in model.layers if isinstance(l, tf_keras.layers.Conv2D)
            and l.kernel_size[0] == features.EMBEDDING_DIM]
  assert len(mixing) == (1 if hp.mixing_filters else 0)


@pytest.mark.parametrize('pool_frames', [1, 2])
def test_cnn2d_raw_channel_joins_the_row_wise_channels_at_the_mixing_convolution(pool_frames):
  hp = trainer_cnn2d.Hparams(hidden=8, filters=4, mixing_filters=16, raw_channel=True,
                             pool_frames=pool_frames)
  model = trainer_cnn2d.build_model(hp, 3)
  mixing = next(l for l in model.layers if isinstance(l, tf_keras.layers.Conv2D)
                and l.kernel_size[0] == features.EMBEDDING_DIM)
  assert mixing.input.shape[-1] == 2 * hp.filters + 1  # the second convolution's, + the image
  assert model(_inputs(), training=True).shape == (4, 3)


def test_cnn2d_batch_norm_and_convolutions_after_the_mixing_one():
  hp = trainer_cnn2d.Hparams(hidden=8, filters=4, mixing_filters=16, mixing_batch_norm=True,
                             post_mixing_layers=2)
  model = trainer_cnn2d.build_model(hp, 3)
  convs = [l for l in model.layers if isinstance(l, tf_keras.layers.Conv2D)]
  assert [c.kernel_size for c in convs] == [(1, 3), (1, 3), (features.EMBEDDING_DIM, 1),
                                            (1, 3), (1, 3)]
  assert [c.filters for c in convs[2:]] == [16, 16, 16]
  norms = [l for l in model.layers if isinstance(l, tf_keras.layers.BatchNormalization)]
  assert len(norms) == 3  # after the mixing convolution and the two after it, not the rows'
  assert all(not c.use_bias for c in convs[2:]) and all(c.use_bias for c in convs[:2])
  assert model(_inputs(), training=True).shape == (4, 3)


def _affine_gap(part: tf_keras.Model) -> float:
  """Largest |f(a) + f(b) - f(a + b) - f(0)| of ``part`` over two random inputs: 0 when
  ``part`` is an affine map of the embedding frames."""
  a, b = _inputs(seed=1), _inputs(seed=2)
  zero = {**a, features.AUDIO_EMBEDDING_XF: np.zeros_like(a[features.AUDIO_EMBEDDING_XF])}
  both = {**a, features.AUDIO_EMBEDDING_XF: a[features.AUDIO_EMBEDDING_XF]
          + b[features.AUDIO_EMBEDDING_XF]}
  return float(np.abs(part(a) + part(b) - part(both) - part(zero)).max())


@pytest.mark.parametrize('relu', [False, True])
def test_cnn2d_row_wise_convolutions_are_affine_without_row_wise_relu(relu):
  hp = trainer_cnn2d.Hparams(hidden=8, filters=4, mixing_filters=16, row_wise_relu=relu)
  model = trainer_cnn2d.build_model(hp, 3)
  mixing = next(l for l in model.layers if isinstance(l, tf_keras.layers.Conv2D)
                and l.kernel_size[0] == features.EMBEDDING_DIM)
  gap = _affine_gap(tf_keras.Model(model.inputs, mixing.input))  # through the row-wise convs
  assert (gap > 1e-3) == relu, gap


@pytest.mark.parametrize('linear_first', [True, False])
@pytest.mark.parametrize('batch_norm', [True, False])
def test_cnn1d_first_block_is_affine_with_linear_first(linear_first, batch_norm):
  hp = trainer_cnn1d.Hparams(hidden=8, filters=4, linear_first=linear_first,
                             batch_norm=batch_norm)
  model = trainer_cnn1d.build_model(hp, 3)
  convs = [l for l in model.layers if isinstance(l, tf_keras.layers.Conv1D)]
  norms = [l for l in model.layers if isinstance(l, tf_keras.layers.BatchNormalization)]
  assert len(convs) == 2 and len(norms) == (2 if batch_norm else 0)
  assert all(c.use_bias != batch_norm for c in convs)
  gap = _affine_gap(tf_keras.Model(model.inputs, convs[1].input))  # through the first block
  assert (gap > 1e-3) != linear_first, gap


@pytest.mark.parametrize('channels', [True, False])
def test_cnn2d_mixing_dropout_feeds_the_mixing_convolution(channels):
  hp = trainer_cnn2d.Hparams(hidden=8, filters=4, mixing_filters=16, mixing_dropout=0.5,
                             mixing_dropout_channels=channels)
  model = trainer_cnn2d.build_model(hp, 3)
  mixing = next(l for l in model.layers if isinstance(l, tf_keras.layers.Conv2D)
                and l.kernel_size[0] == features.EMBEDDING_DIM)
  dropout = mixing._inbound_nodes[0].inbound_layers  # pylint: disable=protected-access
  expected = tf_keras.layers.SpatialDropout2D if channels else tf_keras.layers.Dropout
  assert type(dropout) is expected and dropout.rate == 0.5  # pylint: disable=unidiomatic-typecheck
  x = _inputs()
  np.testing.assert_array_equal(model(x, training=False).numpy(),
                                model(x, training=False).numpy())


def test_spec_augment_masks_and_shifts_only_in_training():
  x = tf.ones([8, 10, 128])
  layer = SpecAugment(max_shift=2, max_time_mask=3, max_freq_mask=20)
  np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
  tf.random.set_seed(0)
  out = layer(x, training=True).numpy()
  assert out.min() == 0.0 and out.max() == 1.0
  assert (out == 0).mean() < 0.5
  ramp = tf.tile(tf.range(10, dtype=tf.float32)[None, :, None], [8, 1, 128])
  shifted = SpecAugment(2, 0, 0)(ramp, training=True).numpy()[:, :, 0]
  for row in shifted:  # a circular roll of 0..9 by -2..2
    assert any(np.array_equal(row, np.roll(np.arange(10), s)) for s in range(-2, 3))


def test_spec_augment_shifts_within_real_frames():
  mask = np.zeros([64, 10], np.float32)
  mask[:, :3] = 1.0  # 3-frame clips, then pad
  frames = np.tile((np.arange(10, dtype=np.float32) + 1)[None, :, None], [64, 1, 128]) * (
      mask[..., None])
  tf.random.set_seed(0)
  shifted = SpecAugment(2, 0, 0)(tf.constant(frames), tf.constant(mask),
                                 training=True).numpy()[:, :, 0]
  np.testing.assert_array_equal(shifted[:, 3:], 0.0)  # pad frames stay pad
  rolls = {tuple(row[:3]) for row in shifted}
  assert rolls <= {(1, 2, 3), (3, 1, 2), (2, 3, 1)}  # each a roll of the real frames
  assert len(rolls) == 3


def test_class_weights_and_focal_loss():
  w = losses.class_weights([90, 10, 0], 'balanced')
  assert w[2] == 0 and w[1] == pytest.approx(9 * w[0])
  assert (w * [90, 10, 0]).sum() == pytest.approx(100)
  np.testing.assert_allclose(losses.class_weights([90, 10], 'none'), [1, 1])
  y, p = tf.constant([[0.0, 1.0]]), tf.constant([[0.3, 0.7]])
  ce = losses.FocalCrossEntropy(0.0)(y, p).numpy()
  assert ce == pytest.approx(-np.log(0.7), rel=1e-5)
  assert losses.FocalCrossEntropy(2.0)(y, p).numpy() == pytest.approx(0.09 * ce, rel=1e-4)
  assert losses.FocalCrossEntropy(0.0, [1.0, 3.0])(y, p).numpy() == pytest.approx(3 * ce)
  with pytest.raises(ValueError):
    losses.class_weights([1], 'inverse')


def test_hparams_from_custom_config():
  hp = trainer_cnn2d.Hparams.from_custom_config(
      {'approach': 'cnn2d', 'class_names': ['a'], 'epochs': 3, 'max_freq_mask': 8,
       'pooling': 'mean'})  # a cnn1d-only key from a pipeline-wide override: ignored
  assert (hp.epochs, hp.max_freq_mask, hp.mixup_alpha) == (3, 8, 0.0)
  with pytest.raises(ValueError, match='class weighting'):
    trainer_cnn1d.Hparams.from_custom_config({'class_weighting': 'inverse'})
  with pytest.raises(ValueError, match='map_reference'):
    trainer_cnn1d.Hparams.from_custom_config({'map_reference': 0})


def test_a_target_replaces_module_defaults_and_custom_config_overrides_them(monkeypatch):
  tagging = dataclasses.replace(targets.AUDIOSET,
                                trainer_defaults=(('dropout', 0.0), ('epochs', 30)))
  monkeypatch.setattr(targets, 'TARGETS', (targets.ENVIRONMENT, tagging))
  hp = trainer_cnn2d.Hparams.from_custom_config({'target': 'audioset'})
  # dropout and epochs from the target, every other field the module's own
  assert hp == dataclasses.replace(trainer_cnn2d.Hparams(), dropout=0.0, epochs=30)
  assert trainer_cnn2d.Hparams.from_custom_config({'target': 'audioset', 'epochs': 3}).epochs == 3
  assert trainer_cnn2d.Hparams.from_custom_config({'target': 'environment'}) == (
      trainer_cnn2d.Hparams())


def test_the_environment_target_keeps_every_modules_defaults():
  assert targets.ENVIRONMENT.trainer_defaults == ()


@pytest.mark.parametrize('module', [trainer_cnn1d, trainer_cnn2d, trainer_attention])
def test_audioset_trainers_get_the_targets_defaults_and_environment_ones_keep_theirs(module):
  tagging = module.Hparams.from_custom_config({'target': 'audioset', 'approach': 'a'})
  assert tagging == dataclasses.replace(module.Hparams(), dropout=0.0, wide=True,
                                        learning_rate=3e-3)
  environment = module.Hparams.from_custom_config({'target': 'environment', 'approach': 'a'})
  assert environment == module.Hparams()
  assert (environment.dropout, environment.wide, environment.learning_rate) == (0.3, False,
                                                                                1e-3)
  assert module.Hparams.from_custom_config({'target': 'audioset', 'dropout': 0.2}).dropout == 0.2


def test_mixup_blends_inputs_and_labels_alike():
  x = {'a': tf.eye(4)}
  y = tf.eye(4)
  (mx, my), = training.mixup(tf.data.Dataset.from_tensors((x, y)), 0.4, 0).take(1)
  np.testing.assert_allclose(mx['a'].numpy(), my.numpy())
  np.testing.assert_allclose(my.numpy().sum(1), 1.0, rtol=1e-6)
  assert my.numpy().max(1).min() >= 0.5


def test_label_smoothing_spreads_a_share_of_the_mass():
  ds = tf.data.Dataset.from_tensors(({'a': tf.zeros([2])}, tf.constant([[0.0, 1.0, 0.0, 0.0]])))
  (_, y), = training.smooth_labels(ds, 0.2).take(1)
  np.testing.assert_allclose(y.numpy(), [[0.05, 0.85, 0.05, 0.05]], rtol=1e-6)


def test_run_fn_trains_and_exports(trained_cnn1d):
  args = trained_cnn1d
  loaded = tf.saved_model.load(args.serving_model_dir)
  assert set(loaded.signatures) >= {features.SERVING_SIGNATURE, features.TRANSFORM_SIGNATURE,
                                    features.UINT8_SIGNATURE,
                                    features.FLOAT_SIGNATURE}
  with open(os.path.join(args.model_run_dir, training.HISTORY_FILE)) as f:
    record = json.load(f)
  assert len(record['history']['loss']) == 4
  assert record['history']['val_accuracy'][-1] > 0.8  # the fixture's classes are easy
  assert record['class_names'] == list(CLASS_NAMES)
  assert sum(record['train_class_counts']) == 60
  assert any('tfevents' in f for _, _, fs in os.walk(args.model_run_dir) for f in fs)
  assert os.path.exists(os.path.join(args.serving_model_dir, 'assets.extra',
                                     'tf_serving_warmup_requests'))
  with open(os.path.join(args.serving_model_dir, 'assets.extra', features.LABELS_FILE)) as f:
    assert f.read().splitlines() == list(CLASS_NAMES)


def _reference_rows(loaded):
  lookup = loaded.signatures[features.REFERENCE_MAP_SIGNATURE]
  count = int(lookup(index=tf.constant([0], tf.int64))[features.REFERENCE_COUNT][0])
  rows = lookup(index=tf.range(count, dtype=tf.int64))
  return {k: v.numpy() for k, v in rows.items()}


def test_run_fn_exports_the_map_of_the_validation_split(trained_cnn1d, transformed):
  loaded = tf.saved_model.load(trained_cnn1d.serving_model_dir)
  rows = _reference_rows(loaded)
  eval_clips = transformed['clips']['eval']
  ids = [c.decode() for c in rows[features.REFERENCE_CLIP_ID]]
  assert sorted(ids) == sorted(clip_id('eval', i) for i in range(len(eval_clips)))
  assert rows[features.REFERENCE_COUNT].tolist() == [len(eval_clips)] * len(eval_clips)
  assert rows[features.MAP_XY].shape == (len(eval_clips), 2)
  assert rows[features.PENULTIMATE].shape == (len(eval_clips), 8)
  predict = loaded.signatures[features.UINT8_SIGNATURE]
  spread = rows[features.MAP_XY].std(0).max()
  for row in (0, 13, 29):
    i = int(ids[row].split(':')[0][len('eval'):])
    frames, env = eval_clips[i]
    assert rows[features.REFERENCE_ENVIRONMENT][row].decode() == CLASS_NAMES[env]
    # Served through the raw-input signature, a reference clip lands on its stored point.
    out = predict(embedding=tf.constant(frames[None]))
    np.testing.assert_allclose(out[features.PENULTIMATE].numpy()[0],
                               rows[features.PENULTIMATE][row], rtol=1e-4, atol=1e-4)
    assert np.abs(out[features.MAP_XY].numpy()[0] - rows[features.MAP_XY][row]).max() < (
        1e-3 * spread)
  for signature in (features.SERVING_SIGNATURE, features.FLOAT_SIGNATURE):
    assert features.MAP_XY in loaded.signatures[signature].structured_outputs


def test_run_fn_writes_the_separation_figures(trained_cnn1d):
  with open(os.path.join(trained_cnn1d.model_run_dir, model_map.SEPARATION_FILE)) as f:
    record = json.load(f)
  assert record['n'] == 30
  for space in ('embedding', 'map', 'umap'):
    assert record[space]['n'] == 30
    # The fixture's classes are easy: neighbours share their class, in every space.
    assert record[space]['knn_agreement'] > 0.8
  assert set(record['seconds']) == {'embed', 'umap', 'projection'}


def test_cnn2d_run_fn_with_a_capped_reference_set(transformed, tmp_path):
  args = fn_args(transformed, str(tmp_path), epochs=1, filters=4, hidden=8, map_reference=12)
  trainer_cnn2d.run_fn(args)
  loaded = tf.saved_model.load(args.serving_model_dir)
  out = loaded.signatures[features.UINT8_SIGNATURE](embedding=tf.zeros([2, 10, 128], tf.uint8))
  assert out[features.PROBABILITIES].shape == (2, len(CLASS_NAMES))
  assert out[features.MAP_XY].shape == (2, 2)
  environments = _reference_rows(loaded)[features.REFERENCE_ENVIRONMENT]
  assert sorted(environments.tolist()) == sorted([c.encode() for c in CLASS_NAMES] * 4)


def test_cnn2d_run_fn_with_batch_norm_weight_decay_cosine_and_early_stopping(transformed,
                                                                            tmp_path):
  args = fn_args(transformed, str(tmp_path), epochs=6, filters=4, hidden=8, batch_norm=True,
                 weight_decay=0.01, lr_schedule='cosine', warmup_epochs=1, early_stopping=1,
                 learning_rate=0.5, map_reference=12)  # a rate this high stalls: it stops early
  trainer_cnn2d.run_fn(args)
  with open(os.path.join(args.model_run_dir, training.HISTORY_FILE)) as f:
    record = json.load(f)
  history = record['history']
  holdout = history['holdout_accuracy']
  assert len(holdout) == len(history['val_accuracy']) == len(history['loss'])
  assert len(holdout) < 6  # stopped after one epoch without a better hold-out accuracy
  fit_clips = sum(record['train_class_counts'])
  assert 0 < fit_clips < 60  # a fifth of the 60 training clips is held out
  model = tf.saved_model.load(args.serving_model_dir)
  out = model.signatures[features.UINT8_SIGNATURE](embedding=tf.zeros([2, 10, 128], tf.uint8))
  assert out[features.PROBABILITIES].shape == (2, len(CLASS_NAMES))
