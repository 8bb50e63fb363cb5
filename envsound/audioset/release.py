"""Locating an AudioSet feature release on disk.

A release root holds split folders ``bal_train/``, ``unbal_train/`` and ``eval/`` of
``*.tfrecord`` files and ``class_labels_indices.csv``. Google's ``features.tar.gz`` unpacks
to ``audioset_v1_embeddings/{bal_train,unbal_train,eval}/``, so a folder whose splits live in
``audioset_v1_embeddings/`` is accepted too, with the CSV beside the splits or one level up.
"""

import dataclasses
from pathlib import Path
from typing import Dict, List, Tuple

from envsound.core.labels import ClassLabels, load_class_labels
from envsound.core import features
from envsound.core.errors import InvalidInputError

GOOGLE_FOLDER = 'audioset_v1_embeddings'  # what Google's features.tar.gz unpacks to
RECORD_GLOB = '*.tfrecord'


@dataclasses.dataclass(frozen=True)
class Release:
  """A located release: its split files (present splits only) and its class list."""
  root: Path  # the folder holding the split folders
  class_csv: Path
  class_labels: ClassLabels
  files: Dict[str, Tuple[Path, ...]]  # split -> sorted .tfrecord files

  @property
  def splits(self) -> Tuple[str, ...]:
    """The present splits, in AudioSet's order (bal_train, unbal_train, eval)."""
    return tuple(s for s in features.SPLITS if s in self.files)

  def split_files(self, split: str) -> Tuple[Path, ...]:
    """The .tfrecord files of ``split``.

    Raises:
      InvalidInputError: the release has no such split.
    """
    if split not in self.files:
      raise InvalidInputError(self.root, f'no {split}/ split here (present: '
                                         f'{", ".join(self.splits)})')
    return self.files[split]


def _split_root(path: Path) -> Path:
  """The folder holding the split folders: ``path`` or ``path/audioset_v1_embeddings``."""
  for candidate in (path, path / GOOGLE_FOLDER):
    if any((candidate / s).exists() for s in features.SPLITS):
      return candidate
  raise InvalidInputError(path, f'no AudioSet split folders ({", ".join(features.SPLITS)}) '
                                f'here or in {GOOGLE_FOLDER}/')


def _split_files(root: Path) -> Dict[str, Tuple[Path, ...]]:
  files = {}
  for split in features.SPLITS:
    folder = root / split
    if not folder.exists():
      continue
    if not folder.is_dir():
      raise InvalidInputError(folder, 'expected a folder of .tfrecord files')
    found = tuple(sorted(p for p in folder.glob(RECORD_GLOB) if p.is_file()))
    if not found:
      raise InvalidInputError(folder, f'split folder has no {RECORD_GLOB} files')
    files[split] = found
  return files


def _class_csv(path: Path, root: Path) -> Path:
  candidates: List[Path] = [root / features.CLASS_CSV]
  if root != path:
    candidates.append(path / features.CLASS_CSV)
  elif root.name == GOOGLE_FOLDER:
    candidates.append(root.parent / features.CLASS_CSV)
  for candidate in candidates:
    if candidate.is_file():
      return candidate
  raise InvalidInputError(candidates[0], 'missing class list: download AudioSet\'s '
                                         f'{features.CLASS_CSV} and put it beside the split '
                                         'folders')


def find_release(path) -> Release:
  """Locates and checks a release: split folders, their files and the class list.

  Args:
    path: the release root, or the folder holding Google's ``audioset_v1_embeddings/``.

  Returns:
    The Release, its class list loaded and validated.

  Raises:
    InvalidInputError: ``path`` is missing or not a folder, has no split folder, a split
      folder holds no .tfrecord file, or the class list is missing or malformed.
  """
  path = Path(path)
  if not path.exists():
    raise InvalidInputError(path, 'no such folder')
  if not path.is_dir():
    raise InvalidInputError(path, 'not a folder (expected an AudioSet release root)')
  root = _split_root(path)
  files = _split_files(root)
  csv_path = _class_csv(path, root)
  return Release(root, csv_path, load_class_labels(csv_path), files)
