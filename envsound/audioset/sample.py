"""``envsound data sample``: a synthetic AudioSet feature release, written without internet.

Same layout and records as Google's release: ``ROOT/{bal_train,unbal_train,eval}/NNNN.tfrecord``
(SequenceExamples, see :mod:`envsound.core.records`) and ``ROOT/class_labels_indices.csv``.
Clips come from the model in :mod:`envsound.audioset.sample_model`. bal_train and eval cycle
through all 527 classes as primary labels (balanced); unbal_train draws them Zipf-like with
Music and Speech most common, as in AudioSet. Each shard has its own seed
(``SeedSequence(seed, spawn_key=(split, shard))``) and is generated and written on its own,
so memory does not grow with the number of clips.
"""

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from envsound.core.atomic import atomic_dir
from envsound.audioset import sample_model
from envsound.core.labels import bundled_class_labels_path, load_class_labels
from envsound.core.records import encode_clip
from envsound.core import features
from envsound.core.errors import EnvsoundError

BAL_FRACTION = 0.15   # of num_clips; 150k clips -> 22,500 (AudioSet's bal_train: ~22k)
EVAL_FRACTION = 0.10  # 150k clips -> 15,000 (AudioSet's eval: ~20k); the rest is unbal_train
SHARD_SIZE = 1000     # clips per .tfrecord file
_ID_ALPHABET = np.array(list('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'))


@dataclasses.dataclass
class SplitSummary:
  """What was written to one split."""
  name: str
  clips: int = 0
  shards: int = 0
  short_clips: int = 0        # fewer than NUM_FRAMES frames
  multi_label_clips: int = 0  # more than one label
  environment_counts: Optional[np.ndarray] = None  # clips per environment
  unassigned: int = 0         # clips with no label of the taxonomy
  label_counts: Optional[np.ndarray] = None  # clips carrying each AudioSet class


@dataclasses.dataclass
class SampleSummary:
  """What :func:`generate_release` wrote; ``str()`` gives a printable report."""
  out_dir: Path
  seed: int
  seconds: float
  environments: Tuple[str, ...]
  splits: Tuple[SplitSummary, ...]

  @property
  def clips(self) -> int:
    return sum(s.clips for s in self.splits)

  def split(self, name: str) -> SplitSummary:
    return next(s for s in self.splits if s.name == name)

  def lines(self) -> List[str]:
    rate = self.clips / self.seconds if self.seconds > 0 else float('inf')
    lines = [f'Wrote a sample AudioSet release to {self.out_dir} (seed {self.seed}): '
             f'{self.clips:,} clips in {self.seconds:.1f} s ({rate:,.0f} clips/s)',
             f'  {"split":<12}{"clips":>9}{"shards":>8}{"short":>8}{"multi-label":>13}'
             f'{"unassigned":>12}']
    for s in self.splits:
      lines.append(f'  {s.name:<12}{s.clips:>9,}{s.shards:>8}{s.short_clips:>8,}'
                   f'{s.multi_label_clips:>13,}{s.unassigned:>12,}')
    lines.append('  clips per environment (' + ' / '.join(s.name for s in self.splits) + '):')
    for i, env in enumerate(self.environments):
      counts = ' / '.join(f'{int(s.environment_counts[i]):,}' for s in self.splits)
      lines.append(f'    {env:<20}{counts}')
    return lines

  def __str__(self) -> str:
    return '\n'.join(self.lines())


def split_sizes(num_clips: int, bal_fraction: float = BAL_FRACTION,
                eval_fraction: float = EVAL_FRACTION) -> Dict[str, int]:
  """Clips per split: fixed fractions for bal_train and eval, the rest for unbal_train."""
  if num_clips < 3:
    raise EnvsoundError(f'--clips must be at least 3 (one per split), got {num_clips}')
  if not (0 < bal_fraction and 0 < eval_fraction and bal_fraction + eval_fraction < 1):
    raise EnvsoundError('split fractions must be positive and leave room for unbal_train, '
                        f'got bal {bal_fraction}, eval {eval_fraction}')
  bal = max(1, round(num_clips * bal_fraction))
  ev = max(1, round(num_clips * eval_fraction))
  unbal = num_clips - bal - ev
  if unbal < 1:
    raise EnvsoundError(f'{num_clips} clips leave none for unbal_train')
  return {'bal_train': bal, 'unbal_train': unbal, 'eval': ev}


def explicit_sizes(bal_train: int, unbal_train: int, eval_clips: int) -> Dict[str, int]:
  """Clips per split as given (e.g. AudioSet's 22,160 / 2,041,789 / 20,371)."""
  sizes = {'bal_train': bal_train, 'unbal_train': unbal_train, 'eval': eval_clips}
  small = [f'{name} {n}' for name, n in sizes.items() if n is None or n < 1]
  if small:
    raise EnvsoundError(f'every split needs at least one clip, got {", ".join(small)}')
  return sizes


def _balanced_primaries(seed: int, split: int, start: int, n: int, num_classes: int):
  """Primary classes of clips start..start+n-1: each run of num_classes clips covers all."""
  index = np.arange(start, start + n)
  out = np.empty(n, dtype=np.int64)
  for cycle in np.unique(index // num_classes):
    perm = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(split, 1 << 20, int(
        cycle)))).permutation(num_classes)
    sel = index // num_classes == cycle
    out[sel] = perm[index[sel] % num_classes]
  return out


def _write_shard(path: Path, batch: sample_model.ClipBatch, rng: np.random.Generator) -> None:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  n = len(batch)
  ids = [''.join(row) for row in _ID_ALPHABET[rng.integers(0, 64, size=(n, 11))]]
  starts = rng.integers(0, 290, size=n).astype(float)
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(n):
      frames = int(batch.num_frames[i])
      writer.write(encode_clip(ids[i], starts[i], starts[i] + frames, batch.clip_labels(i),
                               batch.embedding[i, :frames]))


def _count(summary: SplitSummary, batch: sample_model.ClipBatch, taxonomy) -> None:
  summary.clips += len(batch)
  summary.shards += 1
  summary.short_clips += int((batch.num_frames < features.NUM_FRAMES).sum())
  present = batch.labels >= 0
  summary.multi_label_clips += int((present.sum(axis=1) > 1).sum())
  summary.label_counts += np.bincount(batch.labels[present], minlength=len(summary.label_counts))
  env = taxonomy.environments_of(batch.labels)
  summary.unassigned += int((env < 0).sum())
  summary.environment_counts += np.bincount(env[env >= 0], minlength=len(taxonomy))


def generate_release(out_dir, num_clips: Optional[int] = None, seed: int = 0, *,
                     sizes: Optional[Dict[str, int]] = None, overwrite: bool = False,
                     progress: bool = True, bal_fraction: float = BAL_FRACTION,
                     eval_fraction: float = EVAL_FRACTION, shard_size: int = SHARD_SIZE,
                     world_seed: int = 0,
                     params: sample_model.ModelParams = sample_model.ModelParams(),
                     ) -> SampleSummary:
  """Writes a synthetic AudioSet feature release to ``out_dir`` (atomically).

  Args:
    out_dir: the release root to create.
    num_clips: clips in all three splits together (see :func:`split_sizes`).
    seed: the clips' seed; the same seed writes the same bytes.
    sizes: clips per split instead of ``num_clips`` and the fractions (see
      :func:`explicit_sizes`).
    overwrite: replace an existing ``out_dir`` once the new release is complete.
    progress: show a progress bar.
    bal_fraction: share of ``num_clips`` in bal_train.
    eval_fraction: share of ``num_clips`` in eval.
    shard_size: clips per .tfrecord file.
    world_seed: seed of the model's class vectors (keep it to generate more data of the
      same task with another ``seed``).
    params: generative model knobs.

  Returns:
    A SampleSummary of what was written.

  Raises:
    EnvsoundError: bad sizes, or ``out_dir`` exists and ``overwrite`` is false.
  """
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  from envsound.core.taxonomy import load_taxonomy  # pylint: disable=import-outside-toplevel
  if sizes is None:
    sizes = split_sizes(num_clips, bal_fraction, eval_fraction)
  else:
    sizes = explicit_sizes(sizes.get('bal_train'), sizes.get('unbal_train'), sizes.get('eval'))
  num_clips = sum(sizes.values())
  if shard_size < 1:
    raise EnvsoundError(f'shard size must be positive, got {shard_size}')
  out_dir = Path(out_dir)
  if out_dir.exists() and not overwrite:
    raise EnvsoundError(f'{out_dir} already exists (pass --overwrite to replace it)')
  csv_path = bundled_class_labels_path()
  num_classes = len(load_class_labels(csv_path))
  taxonomy = load_taxonomy()
  world = sample_model.World(num_classes, taxonomy.class_environment_array(), world_seed,
                             params)
  zipf = sample_model.zipf_class_weights(num_classes, np.random.default_rng(
      np.random.SeedSequence(world_seed, spawn_key=(1 << 21,))))
  began = time.perf_counter()
  summaries = []
  with atomic_dir(out_dir, overwrite=overwrite) as tmp, \
      tqdm(total=num_clips, unit='clip', disable=not progress, desc='sample') as bar:
    for split_index, split in enumerate(features.SPLITS):
      (tmp / split).mkdir()
      summary = SplitSummary(split, environment_counts=np.zeros(len(taxonomy), np.int64),
                             label_counts=np.zeros(num_classes, np.int64))
      for shard, start in enumerate(range(0, sizes[split], shard_size)):
        n = min(shard_size, sizes[split] - start)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(split_index, shard)))
        if split == 'unbal_train':
          primary = rng.choice(num_classes, size=n, p=zipf)
        else:
          primary = _balanced_primaries(seed, split_index, start, n, num_classes)
        batch = sample_model.generate_batch(world, rng, primary)
        _write_shard(tmp / split / f'{shard:04d}.tfrecord', batch, rng)
        _count(summary, batch, taxonomy)
        bar.update(n)
      summaries.append(summary)
    shutil.copyfile(csv_path, tmp / features.CLASS_CSV)
  return SampleSummary(out_dir, seed, time.perf_counter() - began, taxonomy.names,
                       tuple(summaries))
