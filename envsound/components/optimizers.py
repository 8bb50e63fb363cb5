"""The trainers' optimiser and learning-rate schedule, from their hyper-parameters.

Adam, or AdamW (decoupled weight decay, Loshchilov and Hutter 2019) when ``weight_decay``
is set; the learning rate is constant, or rises linearly over ``warmup_epochs`` and then
follows a cosine decay to zero by the last epoch (Keras' ``CosineDecay`` with warm-up).
With ``ema_momentum`` the optimiser also averages the weights (tf_keras' ``use_ema``; fit
swaps the average in when it ends).
"""

import math

import tf_keras

SCHEDULES = ('constant', 'cosine')


def check(schedule: str, weight_decay: float, warmup_epochs: int,
          ema_momentum: float = 0.0) -> None:
  """Raises ValueError for an unknown schedule, a negative decay or warm-up, or a weight
  averaging momentum outside [0, 1)."""
  if schedule not in SCHEDULES:
    raise ValueError(f'lr_schedule must be one of {SCHEDULES}, got {schedule!r}')
  if weight_decay < 0 or warmup_epochs < 0:
    raise ValueError(f'weight_decay ({weight_decay}) and warmup_epochs ({warmup_epochs}) '
                     'must not be negative')
  if not 0 <= ema_momentum < 1:
    raise ValueError(f'ema_momentum must be in [0, 1), got {ema_momentum}')


def learning_rate(base: float, schedule: str, epochs: int, warmup_epochs: int,
                  steps_per_epoch: int):
  """A float (constant) or a Keras schedule over ``epochs * steps_per_epoch`` steps."""
  if schedule == 'constant':
    return base
  warmup = min(warmup_epochs, max(epochs - 1, 0)) * steps_per_epoch
  decay = max(epochs * steps_per_epoch - warmup, 1)
  if not warmup:
    return tf_keras.optimizers.schedules.CosineDecay(base, decay)
  return tf_keras.optimizers.schedules.CosineDecay(
      0.0, decay, warmup_target=base, warmup_steps=warmup)


def optimizer(hp, train_examples: int) -> tf_keras.optimizers.Optimizer:
  """Adam or AdamW with ``hp``'s learning rate, schedule and weight decay.

  Args:
    hp: training.TrainerHparams (learning_rate, lr_schedule, warmup_epochs,
      weight_decay, ema_momentum, epochs, batch_size).
    train_examples: training examples per epoch (sets the schedule's steps).
  """
  steps = max(math.ceil(train_examples / hp.batch_size), 1)
  rate = learning_rate(hp.learning_rate, hp.lr_schedule, hp.epochs, hp.warmup_epochs, steps)
  averaging = {'use_ema': True, 'ema_momentum': hp.ema_momentum} if hp.ema_momentum else {}
  if hp.weight_decay:
    return tf_keras.optimizers.AdamW(rate, weight_decay=hp.weight_decay, **averaging)
  return tf_keras.optimizers.Adam(rate, **averaging)
