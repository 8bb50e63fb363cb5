"""The trainers' optimiser and learning-rate schedule."""

import dataclasses

import numpy as np
import pytest
import tf_keras

from envsound.components import optimizers, training


def _rates(schedule, steps):
  return np.array([float(schedule(s)) for s in steps])


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero():
  schedule = optimizers.learning_rate(0.01, 'cosine', epochs=10, warmup_epochs=2,
                                      steps_per_epoch=5)
  rates = _rates(schedule, range(0, 51))
  np.testing.assert_allclose(rates[:11], np.linspace(0, 0.01, 11), atol=1e-9)  # 2 epochs up
  assert np.all(np.diff(rates[10:]) <= 1e-12) and rates[50] == pytest.approx(0.0, abs=1e-9)
  assert rates[30] == pytest.approx(0.005, rel=1e-6)  # half-way through the decay
  plain = optimizers.learning_rate(0.01, 'cosine', 4, 0, 5)
  assert float(plain(0)) == pytest.approx(0.01) and float(plain(20)) == pytest.approx(0.0)
  assert optimizers.learning_rate(0.01, 'constant', 4, 2, 5) == 0.01


def test_weight_decay_picks_adamw():
  hp = training.TrainerHparams(weight_decay=0.02, epochs=3, batch_size=10)
  opt = optimizers.optimizer(hp, train_examples=95)
  assert isinstance(opt, tf_keras.optimizers.AdamW) and opt.weight_decay == 0.02
  plain = optimizers.optimizer(dataclasses.replace(hp, weight_decay=0.0), 95)
  assert type(plain) is tf_keras.optimizers.Adam  # pylint: disable=unidiomatic-typecheck


def test_ema_momentum_averages_the_weights_and_fit_swaps_the_average_in():
  hp = training.TrainerHparams(ema_momentum=0.5, learning_rate=1.0, epochs=1, batch_size=1)
  opt = optimizers.optimizer(hp, train_examples=2)
  assert opt.use_ema and opt.ema_momentum == 0.5
  assert not optimizers.optimizer(dataclasses.replace(hp, ema_momentum=0.0), 2).use_ema
  model = tf_keras.Sequential([tf_keras.Input([1]), tf_keras.layers.Dense(
      1, use_bias=False, kernel_initializer='zeros')])
  # A constant gradient of -1: each of Adam's steps adds the learning rate, 1, to the weight.
  model.compile(optimizer=opt, loss=lambda y, p: -tf_keras.backend.sum(p))
  model.fit(np.ones([2, 1]), np.zeros([2, 1]), batch_size=1, epochs=1, verbose=0)
  # The raw weight is 2 after two steps; its average 0.5 * (0.5 * 0 + 0.5 * 1) + 0.5 * 2
  # (Adam's steps are 1 up to its epsilon).
  assert float(model.weights[0].numpy()) == pytest.approx(1.25, rel=1e-4)


def test_bad_schedule_settings_are_refused():
  with pytest.raises(ValueError, match="lr_schedule must be one of"):
    training.TrainerHparams.from_custom_config({'lr_schedule': 'step'})
  with pytest.raises(ValueError, match='must not be negative'):
    training.TrainerHparams.from_custom_config({'weight_decay': -1.0})
  with pytest.raises(ValueError, match=r'ema_momentum must be in \[0, 1\)'):
    training.TrainerHparams.from_custom_config({'ema_momentum': 1.0})
