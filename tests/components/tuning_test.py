"""KerasTuner search for the TFX Tuner: holdout of the train split, budget, best values."""

import time
import types

import keras_tuner as kt
import numpy as np
import pytest
import tensorflow_transform as tft
import tf_keras

from envsound.core import features
from envsound.components import data, trainer_cnn1d, tuning
from tests.components.conftest import CLASS_NAMES


def _tuner_args(transformed, tmp_path, **tuning_budget):
  return types.SimpleNamespace(
      train_files=[transformed['files']['train']], transform_graph_path=transformed[
          'transform_graph'], working_dir=str(tmp_path),
      custom_config={'approach': 'cnn1d', 'class_names': list(CLASS_NAMES), 'epochs': 1,
                     'batch_size': 16, 'hidden': 8, tuning.TUNING_KEY: tuning_budget})


def _embeddings(ds):
  return {x.tobytes() for batch, _ in ds.as_numpy_iterator()
          for x in batch[features.AUDIO_EMBEDDING_XF]}


def test_holdout_splits_the_train_split_in_two(transformed):
  graph = tft.TFTransformOutput(transformed['transform_graph'])
  fit, score, labels = data.holdout_datasets(transformed['files']['train'], graph, 8, 0)
  fit_x, score_x = _embeddings(fit), _embeddings(score)
  assert len(fit_x) + len(score_x) == 60 and not fit_x & score_x
  assert 0 < len(score_x) < 30 and len(labels) == len(fit_x)
  assert _embeddings(data.holdout_datasets(transformed['files']['train'], graph, 8, 1)[1]) \
      == score_x  # the split follows content, not the seed


def test_search_runs_trials_within_the_space(transformed, tmp_path):
  result = trainer_cnn1d.tuner_fn(_tuner_args(transformed, tmp_path, trials=2, minutes=10))
  result.tuner.search(**result.fit_kwargs)
  trials = result.tuner.oracle.get_best_trials(2)
  assert len(trials) == 2 and all(0.0 <= t.score <= 1.0 for t in trials)
  best = result.tuner.get_best_hyperparameters()[0].values
  assert set(best) == set(trainer_cnn1d.SEARCH_SPACE)
  for name, value in best.items():
    assert value in trainer_cnn1d.SEARCH_SPACE[name]


def test_trainer_takes_the_best_values_over_custom_config():
  hps = tuning.search_space(trainer_cnn1d.SEARCH_SPACE)
  hps.values.update(filters=256, learning_rate=3e-3)
  args = types.SimpleNamespace(hyperparameters=hps.get_config(),
                               custom_config={'filters': 64, 'epochs': 3,
                                              tuning.TUNING_KEY: {'trials': 1}})
  hp = tuning.trainer_hparams(args, trainer_cnn1d.Hparams)
  assert (hp.filters, hp.learning_rate, hp.epochs) == (256, 3e-3, 3)
  args.hyperparameters = None
  assert tuning.trainer_hparams(args, trainer_cnn1d.Hparams).filters == 64


def test_budget_is_required_and_ends_the_search(transformed, tmp_path):
  with pytest.raises(ValueError, match='trials >= 1 and minutes > 0'):
    trainer_cnn1d.tuner_fn(_tuner_args(transformed, tmp_path, trials=2))
  oracle = tuning.DeadlineOracle(time.monotonic() - 1.0, objective=kt.Objective('a', 'max'),
                                 max_trials=5, hyperparameters=tuning.search_space({'x': [1, 2]}))
  assert oracle.create_trial('tuner0').status == kt.engine.trial.TrialStatus.STOPPED


def test_stop_at_deadline_ends_fit_after_one_epoch():
  model = tf_keras.Sequential([tf_keras.layers.Dense(1)])
  model.compile('sgd', 'mse')
  x = np.zeros([4, 2], np.float32)
  history = model.fit(x, x[:, :1], epochs=5, verbose=0,
                      callbacks=[tuning.StopAtDeadline(time.monotonic() - 1.0)])
  assert len(history.history['loss']) == 1
