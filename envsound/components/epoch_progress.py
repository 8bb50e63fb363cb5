"""A Keras callback that reports each finished epoch as a progress event (see progress.py)."""

import tf_keras

from envsound.components import progress


class EpochProgress(tf_keras.callbacks.Callback):
  """Sends 'training' progress: the planned epochs, then one step per epoch with its metrics."""

  def __init__(self, epochs: int):
    super().__init__()
    self._epochs = epochs

  def on_train_begin(self, logs=None):
    progress.planned('training', self._epochs, 'epoch')

  def on_epoch_end(self, epoch, logs=None):
    logs = logs or {}
    note = ' '.join(f'{k} {logs[k]:.3f}' for k in ('loss', 'val_accuracy') if k in logs)
    progress.advanced('training', 'epoch', note=note)
