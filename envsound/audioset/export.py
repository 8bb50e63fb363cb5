"""``envsound data export``: one ``.npy`` per clip plus a manifest, per split.

``OUT/balanced/`` (bal_train), ``OUT/unbalanced/`` (unbal_train) and ``OUT/eval/`` each get
``<video_id>_<start seconds>.npy`` files (uint8 ``[frames, 128]``, AudioSet's bytes) and a
``manifest.csv``; the desktop client reads these folders as its reference set. The whole of
``OUT`` is written under a temporary name and renamed when complete.
"""

import csv
import dataclasses
import functools
import hashlib
import re
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from envsound.core.atomic import atomic_dir
from envsound.core.caps import fair_caps
from envsound.audioset import reader
from envsound.audioset.inspect import label_matrix, load_release_taxonomy, problem_lines
from envsound.audioset.release import Release
from envsound.core import features
from envsound.core.errors import EnvsoundError

FOLDERS = {'bal_train': 'balanced', 'unbal_train': 'unbalanced', 'eval': 'eval'}
MANIFEST = 'manifest.csv'
COLUMNS = ('file', 'video_id', 'start_time_seconds', 'end_time_seconds', 'num_frames',
           'label_mids', 'label_names', 'environment')
_UNSAFE = re.compile(r'[^A-Za-z0-9_.-]')


@dataclasses.dataclass
class SplitExport:
  """What was written for one split."""
  split: str
  folder: str
  clips: int = 0        # .npy files written
  read: int = 0         # valid clips read
  left_out: int = 0     # by --max-clips / --balance
  summary: reader.ReadSummary = dataclasses.field(default_factory=reader.ReadSummary)


def parse_splits(text: str) -> List[str]:
  """``'bal_train,eval'`` -> ``['bal_train', 'eval']``, checked against AudioSet's splits."""
  splits = [s.strip() for s in text.split(',') if s.strip()]
  unknown = [s for s in splits if s not in features.SPLITS]
  if unknown or not splits:
    raise EnvsoundError(f'--splits: unknown split(s) {", ".join(unknown) or "(none given)"}; '
                        f'choose from {",".join(features.SPLITS)}')
  return list(dict.fromkeys(splits))


def _key(seed: int, clip) -> float:
  """A stable pseudo-random number in [0, 1) for a clip (its video id and start)."""
  text = f'{seed}:{clip.video_id}@{clip.start_time_seconds:.3f}'.encode()
  return int.from_bytes(hashlib.blake2b(text, digest_size=7).digest(), 'big') / 2.0**56


def _select(keys: np.ndarray, envs: np.ndarray, max_clips: Optional[int],
            balance: bool) -> np.ndarray:
  """bool mask of the clips to keep: smallest keys, within fair per-environment caps."""
  keep = np.zeros(len(keys), bool)
  if not balance:
    keep[np.argsort(keys, kind='stable')[:max_clips]] = True
    return keep
  counts = {int(e): int(n) for e, n in zip(*np.unique(envs[envs >= 0], return_counts=True))}
  if not counts:
    return keep
  total = max_clips if max_clips is not None else min(counts.values()) * len(counts)
  for env, cap in fair_caps(counts, total).items():
    members = np.flatnonzero(envs == env)
    keep[members[np.argsort(keys[members], kind='stable')[:cap]]] = True
  return keep


class _Writer:
  """Writes one split's clips into a folder: unique file names, manifest rows."""

  def __init__(self, folder: Path, release: Release, taxonomy):
    self.folder, self.taxonomy = folder, taxonomy
    self.mids, self.names = release.class_labels.mids, release.class_labels.names
    self.rows: List[list] = []
    self.used = set()
    folder.mkdir()

  def file_name(self, clip) -> str:
    base = _UNSAFE.sub('_', f'{clip.video_id}_{int(clip.start_time_seconds)}')
    name, n = f'{base}.npy', 1
    while name in self.used:
      n += 1
      name = f'{base}-{n}.npy'
    self.used.add(name)
    return name

  def write(self, clip, env: int) -> None:
    name = self.file_name(clip)
    np.save(self.folder / name, np.ascontiguousarray(clip.embedding, np.uint8),
            allow_pickle=False)
    self.rows.append([name, clip.video_id, clip.start_time_seconds, clip.end_time_seconds,
                      clip.num_frames, ';'.join(self.mids[l] for l in clip.labels),
                      ';'.join(self.names[l] for l in clip.labels),
                      self.taxonomy.names[env] if env >= 0 else ''])

  def close(self) -> None:
    with open(self.folder / MANIFEST, 'w', newline='', encoding='utf-8') as f:
      writer = csv.writer(f)
      writer.writerow(COLUMNS)
      writer.writerows(self.rows)


def _environments(taxonomy, clips: Sequence) -> np.ndarray:
  if taxonomy is None:
    return np.full(len(clips), -1, np.int64)
  return taxonomy.environments_of(label_matrix([c.labels for c in clips]))


def _check(release: Release, out: Path, splits: Sequence[str], overwrite: bool,
           max_clips: Optional[int]) -> None:
  for split in splits:
    release.split_files(split)
  if max_clips is not None and max_clips < 1:
    raise EnvsoundError(f'--max-clips must be at least 1, got {max_clips}')
  if out.exists() and not overwrite:
    raise EnvsoundError(f'{out} already exists (pass --overwrite to replace it)')
  if out.exists() and not out.is_dir():
    raise EnvsoundError(f'{out} is a file, not an export folder; not replacing it')
  here = out.resolve()
  inputs = [release.root, release.class_csv, *(release.root / s for s in release.splits)]
  for path in (p.resolve() for p in inputs):
    if here == path or here in path.parents:
      raise EnvsoundError(f'--out {out} would replace the release\'s {path}')


def export_release(release: Release, out, *, splits: Optional[Sequence[str]] = None,
                   max_clips: Optional[int] = None, balance: bool = False, seed: int = 0,
                   overwrite: bool = False, skip_invalid: bool = False,
                   progress: bool = False) -> List[SplitExport]:
  """Writes the clips of ``splits`` as ``.npy`` files with manifests (atomically).

  Args:
    release: the release to read.
    out: the output folder (``OUT/balanced``, ``OUT/unbalanced``, ``OUT/eval``).
    splits: AudioSet splits to export (default: every split the release has).
    max_clips: at most this many clips per split (a seeded pseudo-random choice).
    balance: cap each environment of the taxonomy (fair shares of ``max_clips``, or the
      smallest environment's count without it); unassigned clips are left out.
    seed: seed of the choice made by ``max_clips`` and ``balance``.
    overwrite: replace an existing ``out`` once the new export is complete.
    skip_invalid: skip bad records and count them instead of failing.
    progress: show a progress bar on stderr.

  Returns:
    One SplitExport per split.

  Raises:
    EnvsoundError: a split is missing, ``out`` exists without ``overwrite`` or overlaps the
      release, or ``balance`` is asked while the taxonomy does not fit the class list.
    InvalidInputError: (without ``skip_invalid``) the first bad file or record.
  """
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  out = Path(out)
  splits = release.splits if splits is None else splits
  _check(release, out, splits, overwrite, max_clips)
  taxonomy, why = load_release_taxonomy(release)
  if balance and taxonomy is None:
    raise EnvsoundError(f'--balance needs the environment taxonomy, which does not fit this '
                        f'class list: {why}')
  choose = max_clips is not None or balance
  files = [f for s in splits for f in release.files[s]]
  total = sum(f.stat().st_size for f in files) * (2 if choose else 1)
  results = []
  with atomic_dir(out, overwrite=overwrite) as tmp, \
      tqdm(total=total, unit='B', unit_scale=True, desc='export', leave=False,
           disable=not progress) as bar:
    for split in splits:
      result = SplitExport(split, FOLDERS[split])
      read = functools.partial(reader.read_clips, release.files[split],
                               len(release.class_labels), skip_invalid=skip_invalid,
                               progress=bar.update)
      keep = None
      if choose:  # first pass: which clips to keep, without holding their frames
        keys, envs = [], [np.zeros(0, np.int64)]
        for chunk, env in _chunks(read(summary=result.summary), taxonomy):
          keys += [_key(seed, clip) for clip in chunk]
          envs.append(env)
        keep = _select(np.array(keys), np.concatenate(envs), max_clips, balance)
      writer = _Writer(tmp / result.folder, release, taxonomy)
      summary = reader.ReadSummary() if choose else result.summary  # count problems once
      for chunk, env in _chunks(read(summary=summary), taxonomy):
        _write_chunk(writer, chunk, env, keep, result)
      writer.close()
      results.append(result)
  return results


def _chunks(clips: Iterable, taxonomy, size: int = 8192) -> Iterator[Tuple[list, np.ndarray]]:
  """Groups clips into lists, each with its clips' environments (-1: unassigned)."""
  chunk = []
  for clip in clips:
    chunk.append(clip)
    if len(chunk) == size:
      yield chunk, _environments(taxonomy, chunk)
      chunk = []
  if chunk:
    yield chunk, _environments(taxonomy, chunk)


def _write_chunk(writer: _Writer, chunk: Sequence, envs: np.ndarray,
                 keep: Optional[np.ndarray], result: SplitExport) -> None:
  for clip, env in zip(chunk, envs):
    if keep is None or keep[result.read]:
      writer.write(clip, int(env))
      result.clips += 1
    else:
      result.left_out += 1
    result.read += 1


def summary_lines(out, results: Sequence[SplitExport]) -> List[str]:
  """A printable report of an export."""
  lines = [f'Exported to {out}:', f'  {"split":<12}{"folder":<13}{"written":>10}'
                                  f'{"left out":>10}{"skipped":>10}']
  for r in results:
    lines.append(f'  {r.split:<12}{r.folder + "/":<13}{r.clips:>10,}{r.left_out:>10,}'
                 f'{len(r.summary.problems):>10,}')
  problems = [p for r in results for p in r.summary.problems]
  if problems:
    lines += problem_lines(problems)
  return lines
