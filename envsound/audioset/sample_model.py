"""The generative model behind ``envsound data sample`` (documented in docs/data.md).

Every AudioSet class has a mean embedding built along the ontology (top-level category +
branch + environment of the taxonomy + the class's own offset) and a few acoustic *states*
around that mean (e.g. a car approaching, passing, receding). A clip mixes 1-3 labelled
sounds; each sound walks a sticky Markov chain over its states from frame to frame. A clip
gain, a clip-level recording channel and AR(1) noise are added, and the result is quantised
exactly as VGGish's post-processing does. Labels are weak: some present sounds go unlabelled
and a few labels name sounds that are absent.
"""

import dataclasses
from typing import Tuple

import numpy as np

from envsound.core import features

# Ontology branches as runs of class indices (class_labels_indices.csv follows the ontology
# depth-first): (first index, top-level category, branch).
_BRANCHES = (
    (0, 'human', 'voice'), (41, 'human', 'respiratory'), (51, 'human', 'body'),
    (66, 'human', 'group'), (72, 'animal', 'domestic'), (86, 'animal', 'livestock'),
    (108, 'animal', 'wild'), (111, 'animal', 'bird'), (122, 'animal', 'wild'),
    (126, 'animal', 'insect_frog'), (134, 'animal', 'wild'), (137, 'music', 'strings_keys'),
    (161, 'music', 'percussion'), (184, 'music', 'orchestral'), (200, 'music', 'bells'),
    (208, 'music', 'other_instruments'), (216, 'music', 'genre'), (266, 'music', 'concept'),
    (283, 'natural', 'wind'), (286, 'natural', 'storm'), (288, 'natural', 'water'),
    (298, 'natural', 'fire'), (300, 'things', 'watercraft'), (306, 'things', 'road'),
    (328, 'things', 'rail'), (335, 'things', 'aircraft'), (341, 'things', 'road'),
    (343, 'things', 'engine'), (354, 'things', 'domestic'), (388, 'things', 'alarm'),
    (404, 'things', 'mechanisms'), (418, 'things', 'tools'), (426, 'things', 'explosion'),
    (437, 'things', 'materials'), (444, 'natural', 'water'), (457, 'things', 'misc'),
    (465, 'ambiguous', 'impact'), (481, 'ambiguous', 'onomatopoeia'),
    (500, 'ambiguous', 'synthetic'), (506, 'channel', 'acoustic_scene'),
    (513, 'channel', 'noise'), (524, 'channel', 'reproduction'),
)
SPEECH, MUSIC = 0, 137  # the two classes that overlap clips of every kind in AudioSet


@dataclasses.dataclass(frozen=True)
class ModelParams:
  """Knobs of the generative model (the defaults are what docs/data.md measured)."""
  num_states: int = 3            # acoustic states per class
  top_scale: float = 0.3        # weight of the top-level category vector in a class mean
  branch_scale: float = 0.1     # ... of the ontology branch vector
  env_scale: float = 0.05        # ... of the taxonomy environment vector
  class_scale: float = 0.1      # ... of the class's own vector
  state_scale: float = 1.3       # spread of a class's states around its mean
  state_stay: float = 0.75       # probability a sound stays in its state to the next frame
  noise_scale: float = 1.7      # frame noise (AR(1) over frames)
  noise_rho: float = 0.6         # AR(1) coefficient of the noise
  channel_scale: float = 0.3     # per-clip recording channel offset
  gain_sigma: float = 0.2        # log-normal per-clip gain
  short_clip_rate: float = 0.06  # clips of 3-9 frames
  extra_labels: Tuple[float, float, float] = (0.45, 0.35, 0.2)  # P(0, 1, 2 extra sounds)
  sibling_rate: float = 0.5      # an extra sound is from the primary's branch ...
  overlap_rate: float = 0.3      # ... or Speech/Music, else any class
  unlabelled_rate: float = 0.05  # an extra sound present but not labelled
  false_label_rate: float = 0.02  # a label added for a sound that is absent


class World:
  """The fixed random vectors of the model: class means and states, branch structure."""

  def __init__(self, num_classes: int, class_environment: np.ndarray, seed: int,
               params: ModelParams = ModelParams()):
    self.params = p = params
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0xC0FFEE,)))
    dim = features.EMBEDDING_DIM
    # PCA-like profile: leading dimensions vary more, as VGGish's PCA components do.
    profile = (0.3 + 0.5 * np.exp(-np.arange(dim) / 24.0)).astype(np.float32)
    starts = np.array([b[0] for b in _BRANCHES])
    row = np.searchsorted(starts, np.arange(num_classes), side='right') - 1
    tops = sorted({b[1] for b in _BRANCHES})
    branches = sorted({b[2] for b in _BRANCHES})
    self.top = np.array([tops.index(_BRANCHES[r][1]) for r in row])
    self.branch = np.array([branches.index(_BRANCHES[r][2]) for r in row])
    num_env = int(class_environment.max()) + 1
    draw = lambda n: rng.standard_normal((n, dim)).astype(np.float32)  # pylint: disable=unnecessary-lambda-assignment
    top_v, branch_v, env_v, class_v = draw(len(tops)), draw(len(branches)), draw(num_env), \
        draw(num_classes)
    env_part = np.where((class_environment >= 0)[:, None], env_v[class_environment], 0.0)
    means = (p.top_scale * top_v[self.top] + p.branch_scale * branch_v[self.branch]
             + p.env_scale * env_part + p.class_scale * class_v)
    states = rng.standard_normal((num_classes, p.num_states, dim)).astype(np.float32)
    states -= states.mean(axis=1, keepdims=True)  # states average out to the class mean
    self.states = (profile * (means[:, None, :] + p.state_scale * states)).astype(np.float32)
    self.profile = profile
    self.num_classes = num_classes
    # Classes grouped by branch, for co-occurring sibling labels.
    self.by_branch = np.argsort(self.branch, kind='stable')
    self.branch_size = np.bincount(self.branch, minlength=len(branches))
    self.branch_start = np.cumsum(self.branch_size) - self.branch_size

  def siblings(self, classes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random class of the same ontology branch as each of ``classes``."""
    b = self.branch[classes]
    pick = (rng.random(classes.shape) * self.branch_size[b]).astype(np.int64)
    return self.by_branch[self.branch_start[b] + pick]


def zipf_class_weights(num_classes: int, rng: np.random.Generator,
                       exponent: float = 1.1) -> np.ndarray:
  """Skewed class frequencies like AudioSet's unbal_train: Speech and Music first, then Zipf."""
  order = rng.permutation([c for c in range(num_classes) if c not in (SPEECH, MUSIC)])
  ranks = np.empty(num_classes)
  ranks[[MUSIC, SPEECH]] = [1, 2]
  ranks[order] = np.arange(3, num_classes + 1)
  weights = ranks ** -exponent
  return weights / weights.sum()


@dataclasses.dataclass
class ClipBatch:
  """A shard's clips: labels and uint8 frames (only ``num_frames[i]`` frames are used)."""
  labels: np.ndarray      # int64 [n, MAX_LABELS]: sorted distinct classes, then -1 padding
  embedding: np.ndarray   # uint8 [n, NUM_FRAMES, 128]
  num_frames: np.ndarray  # int [n]

  def __len__(self) -> int:
    return len(self.labels)

  def clip_labels(self, i: int) -> np.ndarray:
    """The labels of clip ``i``."""
    row = self.labels[i]
    return row[row >= 0]


MAX_LABELS = 4  # up to 3 sounds plus one false label


def _extra_sounds(world: World, rng: np.random.Generator, primary: np.ndarray) -> np.ndarray:
  """Classes of up to 2 co-occurring sounds per clip, -1 where none ([n, 2])."""
  p, n = world.params, len(primary)
  count = rng.choice(3, size=n, p=p.extra_labels)
  kind = rng.random((n, 2))
  sibling = world.siblings(np.repeat(primary[:, None], 2, axis=1), rng)
  overlap = np.where(rng.random((n, 2)) < 0.6, SPEECH, MUSIC)
  anyclass = rng.integers(0, world.num_classes, size=(n, 2))
  extra = np.where(kind < p.sibling_rate, sibling,
                   np.where(kind < p.sibling_rate + p.overlap_rate, overlap, anyclass))
  extra[np.arange(2)[None, :] >= count[:, None]] = -1
  extra[extra == primary[:, None]] = -1
  return extra


def _label_matrix(sounds: np.ndarray, labelled: np.ndarray,
                  false_label: np.ndarray) -> np.ndarray:
  """Sorted distinct labels per row, then -1 padding ([n, MAX_LABELS])."""
  big = np.iinfo(np.int64).max
  labels = np.concatenate([np.where(labelled, sounds, big), np.where(
      false_label >= 0, false_label, big)[:, None]], axis=1).astype(np.int64)
  labels.sort(axis=1)
  labels[:, 1:][labels[:, 1:] == labels[:, :-1]] = big  # repeats
  labels.sort(axis=1)
  labels[labels == big] = -1
  return labels


def generate_batch(world: World, rng: np.random.Generator, primary: np.ndarray) -> ClipBatch:
  """Generates one clip per primary class (vectorised over the batch)."""
  p, n, frames, dim = world.params, len(primary), features.NUM_FRAMES, features.EMBEDDING_DIM
  normal = lambda *shape: rng.standard_normal(shape, dtype=np.float32)  # pylint: disable=unnecessary-lambda-assignment
  sounds = np.concatenate([primary[:, None], _extra_sounds(world, rng, primary)], axis=1)
  present = sounds >= 0
  weights = present.astype(np.float32)
  weights[:, 1:] *= rng.uniform(0.3, 0.8, size=(n, 2)).astype(np.float32)
  # Sticky Markov chains over each sound's states.
  state = rng.integers(0, p.num_states, size=(n, 3))
  signal = np.zeros((n, frames, dim), np.float32)
  safe = np.where(present, sounds, 0)
  for t in range(frames):
    if t:
      jump = rng.random((n, 3)) >= p.state_stay
      state = np.where(jump, rng.integers(0, p.num_states, size=(n, 3)), state)
    for k in range(3):
      signal[:, t] += weights[:, k, None] * world.states[safe[:, k], state[:, k]]
  # Clip gain and recording channel, then AR(1) noise over frames.
  signal *= np.exp(p.gain_sigma * normal(n, 1, 1))
  noise = normal(n, frames, dim)
  innovation = np.float32(np.sqrt(1 - p.noise_rho ** 2))
  for t in range(1, frames):
    noise[:, t] = p.noise_rho * noise[:, t - 1] + innovation * noise[:, t]
  noise *= np.float32(p.noise_scale)
  noise += np.float32(p.channel_scale) * normal(n, 1, dim)
  noise *= world.profile
  signal += noise
  num_frames = np.where(rng.random(n) < p.short_clip_rate, rng.integers(3, frames, size=n),
                        frames)
  # Weak labels: an extra sound may go unlabelled; an absent class may be labelled.
  labelled = present & np.concatenate(
      [np.ones((n, 1), bool), rng.random((n, 2)) >= p.unlabelled_rate], axis=1)
  false_label = np.where(rng.random(n) < p.false_label_rate,
                         rng.integers(0, world.num_classes, size=n), -1)
  return ClipBatch(_label_matrix(sounds, labelled, false_label), features.quantize(signal), num_frames)
