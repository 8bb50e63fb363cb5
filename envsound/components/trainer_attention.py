"""Approach 3's feature-level attention model (Kong et al. 2019) over the embedding frames.

custom_config keys: 'approach', 'model_name', 'class_names' (environment ids in index order)
and any field of :class:`Hparams` (including training.TrainerHparams'), e.g. 'epochs'.

Model: per-frame dense blocks (a dense layer applied to every frame, i.e. a 1x1 convolution,
then batch norm, ReLU and dropout), then feature-level attention pooling: for every frame and
every hidden unit a sigmoid attention weight and a value, the weights normalised over the
clip's real frames (Transform's mask) so each unit pools its own frames; the pooled vector
feeds the shared dense penultimate layer (exported as the clip embedding) and the softmax.

It is approach 3's default model because it measured better than the 1D CNN
(trainer_cnn1d.py): each trained by its run_fn with default hyper-parameters and epochs on
the 150k set of the 20,000-clip sample release, two seeds, every validation clip scored
(bench/approach3_models.py; docs/pipeline.md has the figures: +0.07 accuracy, about five
paired standard errors). The defaults below are the module's own; bench/tune_sample.py runs
a bounded TFX-Tuner search of SEARCH_SPACE on the same data.
"""

import dataclasses

import tf_keras

from envsound.components import model_layers, training, tuning


@dataclasses.dataclass(frozen=True)
class Hparams(training.TrainerHparams):
  """Attention-model hyper-parameters (plus training.TrainerHparams').

  Attributes:
    units: width of every per-frame dense block (Kong et al. use 1024 on 527 classes).
    blocks: number of per-frame dense blocks.
    block_dropout: dropout after each block.
  """
  units: int = 256
  blocks: int = 2
  block_dropout: float = 0.3


def build_model(hp: Hparams, num_classes: int) -> tf_keras.Model:
  """The attention model on transformed features: inputs AUDIO_EMBEDDING_XF/MASK_XF, softmax."""
  inputs, x, mask = model_layers.model_inputs()
  for _ in range(hp.blocks):
    x = tf_keras.layers.Dense(hp.units, use_bias=False)(x)  # per frame: a 1x1 convolution
    x = tf_keras.layers.BatchNormalization()(x)
    x = tf_keras.layers.Activation('relu')(x)
    x = tf_keras.layers.Dropout(hp.block_dropout)(x)
  x = model_layers.FeatureAttentionPooling(hp.units)(x, mask)
  outputs = model_layers.classifier_head(x, num_classes, hp.hidden, hp.dropout)
  return tf_keras.Model(inputs, outputs, name='attention')


# Where TFX's Tuner searches (tuning.py): choices per Hparams field, the default first.
SEARCH_SPACE = {
    'learning_rate': [1e-3, 3e-4, 3e-3],
    'units': [256, 128, 512],
    'blocks': [2, 1, 3],
    'block_dropout': [0.3, 0.1, 0.5],
}


# The TFX Trainer's and Tuner's entry points.
run_fn, tuner_fn = tuning.entry_points(Hparams, build_model, SEARCH_SPACE)
