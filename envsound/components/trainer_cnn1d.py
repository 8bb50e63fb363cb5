"""Approaches 2 and 3: a 1D CNN over the embedding frame sequence.

Approach 2 trains it on the balanced set, approach 3 on balanced + unbalanced clips (up to
150k); they differ only in their Trainer's data and ``custom_config``. custom_config keys:
'approach', 'model_name', 'class_names' (environment ids in index order) and any field of
:class:`Hparams` (including training.TrainerHparams'), e.g. 'epochs'.

Model: per-frame 1D convolutions (kernel over time, 128 embedding dims as channels) with
batch norm, masked pooling over real frames (attention by default) and a dense
penultimate layer exported as the clip embedding.
"""

import dataclasses

import tf_keras

from envsound.components import model_layers, training, tuning


@dataclasses.dataclass(frozen=True)
class Hparams(training.TrainerHparams):
  """1D-CNN hyper-parameters (plus training.TrainerHparams').

  Attributes:
    filters: channels of each convolution.
    kernel_size: frames each convolution spans.
    conv_layers: number of convolution blocks.
    pooling: 'attention', 'meanmax' or 'mean' (model_layers.MaskedPooling).
    input_dropout: dropout on the input frames.
  """
  filters: int = 128
  kernel_size: int = 3
  conv_layers: int = 2
  pooling: str = 'attention'
  input_dropout: float = 0.1


def build_model(hp: Hparams, num_classes: int) -> tf_keras.Model:
  """The 1D CNN on transformed features: inputs AUDIO_EMBEDDING_XF/MASK_XF, softmax output."""
  inputs, x, mask = model_layers.model_inputs()
  x = tf_keras.layers.Dropout(hp.input_dropout)(x)
  for _ in range(hp.conv_layers):
    x = tf_keras.layers.Conv1D(hp.filters, hp.kernel_size, padding='same', use_bias=False)(x)
    x = tf_keras.layers.BatchNormalization()(x)
    x = tf_keras.layers.Activation('relu')(x)
  x = model_layers.MaskedPooling(hp.pooling)(x, mask)
  outputs = model_layers.classifier_head(x, num_classes, hp.hidden, hp.dropout)
  return tf_keras.Model(inputs, outputs, name='cnn1d')


# Where TFX's Tuner searches (tuning.py): choices per Hparams field, the default first.
SEARCH_SPACE = {
    'learning_rate': [1e-3, 3e-4, 3e-3],
    'filters': [128, 64, 256],
    'kernel_size': [3, 5],
    'conv_layers': [2, 1, 3],
    'dropout': [0.3, 0.1, 0.5],
}


# The TFX Trainer's and Tuner's entry points.
run_fn, tuner_fn = tuning.entry_points(Hparams, build_model, SEARCH_SPACE)
