"""Early stopping on a held-out part of the training split, never the validation split.

:func:`callbacks` returns a callback that scores the model on the held-out training clips
after every epoch (logged as ``holdout_loss`` and ``holdout_accuracy``) and Keras'
EarlyStopping on that accuracy, which restores the best epoch's weights at the end.
"""

from typing import List

import tensorflow as tf
import tf_keras

MONITOR = 'holdout_accuracy'


class HoldoutScore(tf_keras.callbacks.Callback):
  """Adds the model's loss and accuracy on ``holdout`` batches to each epoch's logs."""

  def __init__(self, holdout: tf.data.Dataset):
    super().__init__()
    self.holdout = holdout

  def on_epoch_end(self, epoch, logs=None):
    if logs is None:
      return
    scores = self.model.evaluate(self.holdout, verbose=0, return_dict=True)
    logs['holdout_loss'], logs[MONITOR] = scores['loss'], scores['accuracy']


def callbacks(holdout: tf.data.Dataset, patience: int) -> List[tf_keras.callbacks.Callback]:
  """Holdout scoring, then EarlyStopping on it (in this order: it reads the logs)."""
  return [HoldoutScore(holdout),
          tf_keras.callbacks.EarlyStopping(monitor=MONITOR, mode='max', patience=patience,
                                           restore_best_weights=True)]
