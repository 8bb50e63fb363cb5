"""AudioSet-format clips from a generative model unlike envsound.audioset.sample_model's.

sample_model builds class means along the ontology and walks sticky Markov chains over a
few states per class, with AR(1) noise. Here instead: classes live in a 24-d latent space
(each environment a centre its classes scatter around, other classes anywhere), each class
is a mixture of two latent components, and a clip's sounds occupy random frame intervals
with ramped on/off envelopes while their latent drifts as a random walk; the summed latent
passes through a random linear map and a tanh into the 128 dimensions, plus a clip-level
room vector and white frame noise. Labels: the primary sound always, each extra sound with
probability 0.8, and label noise (the primary label swapped for a random class) on 12 % of
clips. Same record format, class labels csv and splits as Google's release.
"""

import dataclasses
import shutil
from pathlib import Path
from typing import Dict

import numpy as np

from envsound.core import features
from envsound.core.labels import bundled_class_labels_path, load_class_labels
from envsound.core.records import encode_clip
from envsound.core.taxonomy import load_taxonomy

LATENT = 24
SIZES = {'bal_train': 3000, 'unbal_train': 6000, 'eval': 1000}
_ALPHABET = np.array(list('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'))


@dataclasses.dataclass(frozen=True)
class ForeignParams:
  env_spread: float = 1.1      # class centres around their environment's centre
  component_spread: float = 0.6  # a class's two mixture components around its centre
  drift: float = 0.3          # latent random-walk step per frame
  gain: float = 0.9           # before the tanh
  room_scale: float = 0.35
  noise_scale: float = 1.0
  extra_sounds: tuple = (0.5, 0.35, 0.15)  # P(0, 1, 2 extra sounds)
  label_keep: float = 0.8     # an extra sound is labelled
  label_noise: float = 0.12   # the primary label is swapped for a random class
  env_primary: float = 0.97   # primaries drawn from environment classes
  short_rate: float = 0.08    # clips of 4-9 frames


class ForeignWorld:
  """The fixed random parts: class components, the latent -> embedding map, room basis."""

  def __init__(self, seed: int, params: ForeignParams = ForeignParams()):
    self.p = params
    rng = np.random.default_rng(seed)
    taxonomy = load_taxonomy()
    self.num_classes = len(load_class_labels(bundled_class_labels_path()))
    env_of = taxonomy.class_environment_array()
    centres = rng.normal(0, 1.0, (len(taxonomy), LATENT))
    own = rng.normal(0, 1.0, (self.num_classes, LATENT))
    base = np.where((env_of >= 0)[:, None], centres[np.clip(env_of, 0, None)]
                    + params.env_spread * own, 1.3 * own)
    self.components = base[:, None, :] + params.component_spread * rng.normal(
        0, 1.0, (self.num_classes, 2, LATENT))
    self.mix = rng.normal(0, 1.0 / np.sqrt(LATENT), (LATENT, features.EMBEDDING_DIM))
    self.room = rng.normal(0, 1.0, (6, features.EMBEDDING_DIM)) / np.sqrt(6)
    self.env_classes = [np.array(taxonomy.environment_classes(e)) for e in range(len(taxonomy))]

  def primary(self, rng: np.random.Generator) -> int:
    if rng.random() < self.p.env_primary:
      return int(rng.choice(self.env_classes[rng.integers(len(self.env_classes))]))
    return int(rng.integers(self.num_classes))

  def clip(self, rng: np.random.Generator):
    """(uint8 [frames, 128], labels) of one clip."""
    p = self.p
    frames = features.NUM_FRAMES if rng.random() >= p.short_rate else int(rng.integers(4, 10))
    sounds = [self.primary(rng)] + [int(rng.integers(self.num_classes)) for _ in range(
        rng.choice(3, p=p.extra_sounds))]
    latent = np.zeros((frames, LATENT))
    t = np.arange(frames)
    for k, c in enumerate(sounds):
      length = frames if k == 0 and rng.random() < 0.6 else int(rng.integers(
          max(frames // 2, 1) if k == 0 else 1, frames + 1))
      on = int(rng.integers(0, frames - length + 1))
      envelope = np.clip(np.minimum(t - on + 1, on + length - t) / 2.0, 0, 1)
      walk = np.cumsum(rng.normal(0, p.drift, (frames, LATENT)), axis=0)
      weight = 1.0 if k == 0 else rng.uniform(0.3, 0.9)
      latent += weight * envelope[:, None] * (self.components[c, rng.integers(2)] + walk)
    x = np.tanh(p.gain * latent @ self.mix) * 1.2
    x += p.room_scale * rng.normal(0, 1.0, 6) @ self.room
    x += p.noise_scale * rng.normal(0, 1.0, x.shape)
    labels = [sounds[0]] + [c for c in sounds[1:] if rng.random() < p.label_keep]
    if rng.random() < p.label_noise:
      labels[0] = int(rng.integers(self.num_classes))
    return features.quantize(x), sorted(set(labels))


def write_release(out: Path, seed: int = 7, sizes: Dict[str, int] = None,
                  per_shard: int = 1000) -> Path:
  """Writes ``out/{bal_train,unbal_train,eval}/NNNN.tfrecord`` and the class csv."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  world, rng = ForeignWorld(seed), np.random.default_rng(seed + 1)
  if out.exists():
    shutil.rmtree(out)
  for s, (split, n) in enumerate((sizes or SIZES).items()):
    (out / split).mkdir(parents=True)
    for shard in range(0, n, per_shard):
      with tf.io.TFRecordWriter(str(out / split / f'{shard // per_shard:04d}.tfrecord')) as w:
        for i in range(shard, min(n, shard + per_shard)):
          embedding, labels = world.clip(rng)
          vid = f'{s}' + ''.join(_ALPHABET[rng.integers(0, 64, 10)])  # split-unique ids
          start = float(rng.integers(0, 290))
          w.write(encode_clip(vid, start, start + len(embedding), labels, embedding))
  shutil.copyfile(bundled_class_labels_path(), out / features.CLASS_CSV)
  return out
