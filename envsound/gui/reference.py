"""The reference set: labelled clips that show where the model's classes lie on the map.

A reference set is a folder of ``.npy`` clips with a ``manifest.csv`` (what
``envsound data export`` writes: columns ``file`` and ``environment`` among others). A
folder whose ``eval/`` subfolder holds the manifest is accepted too. The GUI sends these
clips through the same server and model as the user's clips, so any TF Serving suffices.
"""

import csv
import dataclasses
import os
from pathlib import Path
from typing import List, Optional

import numpy as np

from envsound.core.errors import InvalidInputError
from envsound.gui import loader

MANIFEST = 'manifest.csv'
MAX_REFERENCE = 1000  # a map of more points costs seconds per fit and adds little
UNLABELLED = '(no environment)'
# Where `envsound demo` exports its clips, relative to the working folder.
DEMO_EXPORT = Path('runs/demo/npy')


@dataclasses.dataclass
class ReferenceSet:
  """Reference clips and the environment each belongs to."""
  root: Path
  clips: List[np.ndarray]
  environments: List[str]
  files: List[str]
  skipped: int = 0  # manifest rows whose clip was missing or invalid
  chosen: bool = False  # picked by the user (fitted live even if the model has a map)

  def __len__(self) -> int:
    return len(self.clips)

  @property
  def key(self) -> str:
    """Identifies the set for caches (folder and size)."""
    return f'{self.root.resolve()}#{len(self)}'


def find_manifest(folder) -> Path:
  """Returns the manifest in ``folder`` or ``folder/eval``.

  Raises:
    InvalidInputError: neither exists.
  """
  folder = Path(folder)
  for candidate in (folder / MANIFEST, folder / 'eval' / MANIFEST):
    if candidate.is_file():
      return candidate
  raise InvalidInputError(folder, f'no {MANIFEST} here or in eval/ (export one with '
                                  '`envsound data export`)')


def default_folder() -> Optional[Path]:
  """The reference folder used when none is given: $ENVSOUND_REFERENCE or the demo's export."""
  env = os.environ.get('ENVSOUND_REFERENCE')
  for folder in ([Path(env)] if env else []) + [DEMO_EXPORT]:
    try:
      find_manifest(folder)
      return folder
    except InvalidInputError:
      continue
  return None


def load_reference(folder, limit: int = MAX_REFERENCE, seed: int = 0,
                   chosen: bool = False) -> ReferenceSet:
  """Reads a reference set; more than ``limit`` clips are subsampled (seeded, stable).

  ``chosen`` marks a folder the user picked, as opposed to a default one.

  Rows without an environment are skipped when the manifest has labelled rows.

  Raises:
    InvalidInputError: no manifest, a manifest without ``file``/``environment`` columns,
      or no valid clip at all.
  """
  manifest = find_manifest(folder)
  try:
    with open(manifest, newline='', encoding='utf-8') as f:
      rows = list(csv.DictReader(f))
  except (OSError, UnicodeDecodeError, csv.Error) as e:
    raise InvalidInputError(manifest, f'cannot read manifest ({e})') from e
  missing = {'file', 'environment'} - set(rows[0].keys() if rows else ())
  if missing:
    raise InvalidInputError(manifest, f'missing column(s) {", ".join(sorted(missing))}')
  # Clips of no environment say nothing about where the classes lie (and blur the
  # separation score): they are left off the map unless the set has nothing else.
  labelled = [r for r in rows if (r['environment'] or '').strip()]
  rows = labelled or rows
  if len(rows) > limit:
    keep = np.sort(np.random.default_rng(seed).choice(len(rows), limit, replace=False))
    rows = [rows[i] for i in keep]
  ref = ReferenceSet(manifest.parent, [], [], [], chosen=chosen)
  for row in rows:
    try:
      clip = loader.load_clip(manifest.parent / row['file'])
    except InvalidInputError:
      ref.skipped += 1
      continue
    ref.clips.append(clip.frames)
    ref.environments.append(row['environment'].strip() or UNLABELLED)
    ref.files.append(row['file'])
  if not ref.clips:
    raise InvalidInputError(manifest, 'no valid clip listed')
  return ref
