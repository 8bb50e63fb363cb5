"""TFX Tuner support shared by the trainer modules: KerasTuner search within a budget.

Each trainer module gets its TFX entry points from :func:`entry_points` (its ``Hparams``,
``build_model`` and search space: choices per Hparams field): ``run_fn`` for the Trainer and
``tuner_fn`` for the Tuner. The search trains on a content-hashed
``1 - 1/data.HOLDOUT_BUCKETS`` of the Transform's *train* split and scores validation accuracy on
the rest; the pipeline hands the Tuner only the train split (EvalArgs splits ['train']), so
the validation split never takes part. The budget (custom_config ``'tuning'``: ``trials`` and
``minutes``) stops the search at whichever comes first; a trial running at the deadline stops
at its next epoch end and is scored on the epochs it ran.

The Trainer receives the best values as ``fn_args.hyperparameters`` (a KerasTuner
HyperParameters config); :func:`trainer_hparams` lays them over the custom_config.

KerasTuner's own Keras-model tuners drive Keras 3 callbacks, which the trainers' ``tf_keras``
models cannot call, so :class:`SearchTuner` runs each trial's ``fit`` itself.
"""

import dataclasses
import logging
import time
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

import keras_tuner as kt
import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras

from envsound.components import data, training

TUNING_KEY = 'tuning'          # custom_config key of the budget
OBJECTIVE = 'val_accuracy'


def trainer_hparams(fn_args, hparams_cls):
  """The Trainer's hyper-parameters: custom_config, overridden by the Tuner's best values.

  Args:
    fn_args: TFX FnArgs; ``fn_args.hyperparameters`` (absent or None without a Tuner
      result) is a KerasTuner HyperParameters config.
    hparams_cls: the trainer module's Hparams class.
  """
  config = {k: v for k, v in (fn_args.custom_config or {}).items() if k != TUNING_KEY}
  tuned = getattr(fn_args, 'hyperparameters', None)
  if tuned:
    names = {f.name for f in dataclasses.fields(hparams_cls)}
    values = kt.HyperParameters.from_config(tuned).values
    used = {k: v for k, v in values.items() if k in names}
    logging.info('tuned hyper-parameters %s', used)
    config.update(used)
  return hparams_cls.from_custom_config(config)


class DeadlineOracle(kt.oracles.RandomSearchOracle):
  """Random search that creates no trial after ``deadline`` (time.monotonic seconds)."""

  def __init__(self, deadline: float, **kwargs):
    super().__init__(**kwargs)
    self.deadline = deadline

  def populate_space(self, trial_id):
    if time.monotonic() >= self.deadline:
      logging.info('tuning budget spent: no trial %s', trial_id)
      return {'status': kt.engine.trial.TrialStatus.STOPPED, 'values': None}
    return super().populate_space(trial_id)


class StopAtDeadline(tf_keras.callbacks.Callback):
  """Ends a fit at the first epoch end past ``deadline`` (time.monotonic seconds)."""

  def __init__(self, deadline: float):
    super().__init__()
    self.deadline = deadline

  def on_epoch_end(self, epoch, logs=None):
    if time.monotonic() >= self.deadline:
      self.model.stop_training = True


def search_space(space: Mapping[str, Sequence[Any]]) -> kt.HyperParameters:
  """KerasTuner Choice hyper-parameters, one per entry (the first choice is the default)."""
  hps = kt.HyperParameters()
  for name, choices in space.items():
    hps.Choice(name, list(choices))
  return hps


class SearchTuner(kt.engine.base_tuner.BaseTuner):
  """Builds a trainer's model from each trial's values, fits it, reports the best accuracy."""

  def __init__(self, base: training.TrainerHparams, build_model: Callable, num_classes: int,
               class_counts: np.ndarray, space: Sequence[str], **kwargs):
    super().__init__(**kwargs)
    self.base, self.build_model, self.num_classes = base, build_model, num_classes
    self.class_counts, self.space = class_counts, tuple(space)

  def trial_hparams(self, hp: kt.HyperParameters) -> training.TrainerHparams:
    """The base hyper-parameters with this trial's choices."""
    return dataclasses.replace(self.base, **{k: hp.get(k) for k in self.space})

  def run_trial(self, trial, fit, score, deadline: float) -> Dict[str, float]:
    hp = self.trial_hparams(trial.hyperparameters)
    tf_keras.backend.clear_session()
    tf_keras.utils.set_random_seed(hp.seed)
    model = self.build_model(hp, self.num_classes)
    training.compile_model(model, hp, self.class_counts)
    one_hot = lambda x, y: (x, tf.one_hot(y, self.num_classes))
    train = fit.map(one_hot)
    if hp.mixup_alpha:
      train = training.mixup(train, hp.mixup_alpha, hp.seed)
    history = model.fit(train, validation_data=score.map(one_hot), epochs=hp.epochs,
                        callbacks=[StopAtDeadline(deadline)], verbose=2)
    return {OBJECTIVE: float(max(history.history[OBJECTIVE]))}

  def save_model(self, trial_id, model, step=0):
    """Trials keep no models: the Trainer retrains with the best values."""

  def load_model(self, trial):
    raise NotImplementedError('tuning trials keep no models; train with the best values')


def search(fn_args, hparams_cls, build_model: Callable,
             space: Mapping[str, Sequence[Any]]):
  """The TFX Tuner's ``TunerFnResult`` (KerasTuner search and its fit arguments) for a module.

  Args:
    fn_args: TFX FnArgs of the Tuner: ``train_files`` (the train split only),
      ``transform_graph_path``, ``working_dir``, ``custom_config`` (the Trainer's, plus
      ``'tuning': {'trials': int, 'minutes': float}``).
    hparams_cls: the module's Hparams class.
    build_model: ``build_model(hp, num_classes)``.
    space: choices per Hparams field.

  Raises:
    ValueError: the budget is missing or not positive, or a space key is not a field.
  """
  config = dict(fn_args.custom_config or {})
  budget: Optional[Mapping[str, Any]] = config.get(TUNING_KEY)
  if not budget or int(budget.get('trials', 0)) < 1 or float(budget.get('minutes', 0)) <= 0:
    raise ValueError(f"custom_config[{TUNING_KEY!r}] needs trials >= 1 and minutes > 0, "
                     f'got {budget!r}')
  unknown = set(space) - {f.name for f in dataclasses.fields(hparams_cls)}
  if unknown:
    raise ValueError(f'search space keys {sorted(unknown)} are not {hparams_cls.__name__} fields')
  base = trainer_hparams(fn_args, hparams_cls)
  num_classes = len(config['class_names'])
  tft_output = tft.TFTransformOutput(fn_args.transform_graph_path)
  fit, score, labels = data.holdout_datasets(fn_args.train_files, tft_output, base.batch_size,
                                        base.seed)
  deadline = time.monotonic() + 60.0 * float(budget['minutes'])
  oracle = DeadlineOracle(deadline, objective=kt.Objective(OBJECTIVE, 'max'),
                          max_trials=int(budget['trials']), seed=base.seed,
                          hyperparameters=search_space(space), allow_new_entries=False)
  tuner = SearchTuner(base, build_model, num_classes, data.class_counts(labels, num_classes),
                      space, oracle=oracle, directory=fn_args.working_dir,
                      project_name=str(config.get('approach', 'envsound')), overwrite=True)
  # pylint: disable-next=import-outside-toplevel
  from tfx.components.tuner.component import TunerFnResult
  return TunerFnResult(
      tuner=tuner, fit_kwargs={'fit': fit, 'score': score, 'deadline': deadline})


def entry_points(hparams_cls, build_model: Callable, space: Mapping[str, Sequence[Any]]):
  """A trainer module's ``(run_fn, tuner_fn)``, the TFX Trainer's and Tuner's entry points."""
  def run_fn(fn_args) -> None:
    training.train_and_export(fn_args, trainer_hparams(fn_args, hparams_cls), build_model)

  def tuner_fn(fn_args):
    return search(fn_args, hparams_cls, build_model, space)

  return run_fn, tuner_fn
