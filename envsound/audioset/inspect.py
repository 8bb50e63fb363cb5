"""``envsound data inspect``: what a release holds, per split, class and environment.

Counts clips per split, per AudioSet class, per environment of the taxonomy (plus the
unassigned ones), frames per clip, and lists every problem found.
"""

import dataclasses
import itertools
from typing import List, Optional, Sequence

import numpy as np

from envsound.audioset import reader
from envsound.audioset.release import Release
from envsound.core.errors import InvalidInputError

TOP_CLASSES = 25
UNASSIGNED = '(unassigned)'
_CHUNK = 8192  # clips tallied together


def label_matrix(labels: Sequence[Sequence[int]]) -> np.ndarray:
  """int64 ``[clips, max labels]``: each clip's distinct labels, padded with -1."""
  lengths = np.fromiter((len(l) for l in labels), np.int64, len(labels))
  matrix = np.full((len(labels), max(1, int(lengths.max(initial=0)))), -1, np.int64)
  flat = np.fromiter(itertools.chain.from_iterable(labels), np.int64, int(lengths.sum()))
  rows = np.repeat(np.arange(len(labels)), lengths)
  cols = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
  matrix[rows, cols] = flat
  matrix.sort(axis=1)
  matrix[:, 1:][matrix[:, 1:] == matrix[:, :-1]] = -1  # count a repeated label once
  return matrix


@dataclasses.dataclass
class SplitCounts:
  """Tallies of one split."""
  name: str
  files: int
  labels: np.ndarray        # clips carrying each AudioSet class
  environments: np.ndarray  # clips per environment
  frames: np.ndarray        # clips per frame count (index = frames)
  clips: int = 0
  unassigned: int = 0
  summary: reader.ReadSummary = dataclasses.field(default_factory=reader.ReadSummary)


class _Tally:
  """Adds clips to a SplitCounts in chunks (vectorised label and environment counts)."""

  def __init__(self, counts: SplitCounts, taxonomy):
    self.counts, self.taxonomy = counts, taxonomy
    self.labels: List[Sequence[int]] = []
    self.frames: List[int] = []

  def add(self, clip) -> None:
    self.labels.append(clip.labels)
    self.frames.append(clip.num_frames)
    if len(self.labels) >= _CHUNK:
      self.flush()

  def flush(self) -> None:
    if not self.labels:
      return
    c = self.counts
    matrix = label_matrix(self.labels)
    c.clips += len(self.labels)
    c.labels += np.bincount(matrix[matrix >= 0], minlength=len(c.labels))
    frames = np.bincount(self.frames)
    if len(frames) > len(c.frames):
      c.frames = np.pad(c.frames, (0, len(frames) - len(c.frames)))
    c.frames[:len(frames)] += frames
    if self.taxonomy is not None:
      env = self.taxonomy.environments_of(matrix)
      c.unassigned += int((env < 0).sum())
      c.environments += np.bincount(env[env >= 0], minlength=len(c.environments))
    self.labels, self.frames = [], []


def load_release_taxonomy(release: Release):
  """(taxonomy, None), or (None, why) when the taxonomy does not fit the release's classes."""
  from envsound.core.taxonomy import load_taxonomy  # pylint: disable=import-outside-toplevel
  try:
    return load_taxonomy(class_labels=release.class_labels), None
  except InvalidInputError as e:
    return None, str(e)


@dataclasses.dataclass
class Inspection:
  """Counts of a whole release."""
  release: Release
  splits: List[SplitCounts]
  taxonomy: object = None
  taxonomy_error: Optional[str] = None

  @property
  def problems(self) -> List[reader.Problem]:
    return [p for s in self.splits for p in s.summary.problems]


def inspect_release(release: Release, *, skip_invalid: bool = False,
                    progress: bool = False) -> Inspection:
  """Reads every split of ``release`` and counts what is in it.

  Raises:
    InvalidInputError: (without ``skip_invalid``) the first bad file or record.
  """
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  taxonomy, why = load_release_taxonomy(release)
  envs = len(taxonomy) if taxonomy is not None else 0
  files = [f for s in release.splits for f in release.files[s]]
  total = sum(f.stat().st_size for f in files)
  result = Inspection(release, [], taxonomy, why)
  with tqdm(total=total, unit='B', unit_scale=True, desc='inspect', leave=False,
            disable=not progress or total < (64 << 20)) as bar:
    for split in release.splits:
      counts = SplitCounts(split, len(release.files[split]),
                           np.zeros(len(release.class_labels), np.int64),
                           np.zeros(envs, np.int64), np.zeros(1, np.int64))
      tally = _Tally(counts, taxonomy)
      for clip in reader.read_clips(release.files[split], len(release.class_labels),
                                    skip_invalid=skip_invalid, summary=counts.summary,
                                    progress=bar.update):
        tally.add(clip)
      tally.flush()
      result.splits.append(counts)
  return result


def _row(head: str, values: Sequence[int], width: int = 12) -> str:
  return head + ''.join(f'{v:>{width},}' for v in values) + f'{sum(values):>{width},}'


def report_lines(inspection: Inspection, all_classes: bool = False,
                 top: int = TOP_CLASSES) -> List[str]:
  """The printable report of an inspection."""
  r, splits = inspection.release, inspection.splits
  names = ''.join(f'{s.name:>12}' for s in splits) + f'{"total":>12}'
  lines = [f'AudioSet release {r.root} (class list {r.class_csv}: '
           f'{len(r.class_labels)} classes)', '',
           f'{"split":<14}{"files":>8}{"MiB":>10}{"clips":>12}{"problems":>10}']
  for s in splits:
    lines.append(f'{s.name:<14}{s.files:>8,}{s.summary.bytes / 2**20:>10,.1f}{s.clips:>12,}'
                 f'{len(s.summary.problems):>10,}')
  lines.append(f'{"total":<14}{sum(s.files for s in splits):>8,}'
               f'{sum(s.summary.bytes for s in splits) / 2**20:>10,.1f}'
               f'{sum(s.clips for s in splits):>12,}{len(inspection.problems):>10,}')
  per_class = np.stack([s.labels for s in splits], axis=1)
  present = np.flatnonzero(per_class.sum(axis=1))
  order = present[np.argsort(-per_class[present].sum(axis=1), kind='stable')]
  shown = order if all_classes else order[:top]
  more = '' if all_classes or len(order) <= top else ' (--all-classes lists all)'
  lines += ['', f'Clips per AudioSet class: {"all" if len(shown) == len(order) else f"top {top}"}'
                f' of {len(order)} present{more}', f'  {"mid":<12}{"display name":<34}{names}']
  for c in shown:
    lines.append(_row(f'  {r.class_labels.mids[c]:<12}{r.class_labels.names[c][:33]:<34}',
                      per_class[c].tolist()))
  lines += ['', 'Clips per environment' + (
      '' if inspection.taxonomy is not None else f': unavailable ({inspection.taxonomy_error})')]
  if inspection.taxonomy is not None:
    lines.append(f'  {"environment":<46}{names}')
    for i, env in enumerate(inspection.taxonomy.names):
      lines.append(_row(f'  {env:<46}', [int(s.environments[i]) for s in splits]))
    lines.append(_row(f'  {UNASSIGNED:<46}', [s.unassigned for s in splits]))
  lines += ['', *frames_histogram(splits), '', *problem_lines(inspection.problems)]
  return lines


def frames_histogram(splits: Sequence[SplitCounts], width: int = 40) -> List[str]:
  """A text histogram of frames per clip over all splits."""
  size = max(len(s.frames) for s in splits)
  hist = sum(np.pad(s.frames, (0, size - len(s.frames))) for s in splits)
  lines = ['Frames per clip', f'  {"frames":>6}{"clips":>12}']
  peak = max(int(hist.max()), 1)
  for frames in np.flatnonzero(hist):
    n = int(hist[frames])
    lines.append(f'  {frames:>6}{n:>12,}  ' + '#' * max(1, round(width * n / peak)))
  return lines


def problem_lines(problems: Sequence[reader.Problem]) -> List[str]:
  """Problems by kind, then every problem on its own line."""
  if not problems:
    return ['Problems: none']
  kinds = reader.ReadSummary(problems=list(problems)).counts()
  lines = [f'Problems: {len(problems):,} skipped (' +
           ', '.join(f'{k} {n:,}' for k, n in kinds.items()) + ')']
  return lines + [f'  {p}' for p in problems]
