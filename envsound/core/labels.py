"""AudioSet's class list, ``class_labels_indices.csv`` (index, mid, display_name)."""

import csv
import dataclasses
from importlib import resources
from pathlib import Path
from typing import Dict, Tuple

from envsound.core.errors import InvalidInputError

_HEADER = ['index', 'mid', 'display_name']


@dataclasses.dataclass(frozen=True)
class ClassLabels:
  """The ordered AudioSet classes; ``mids[i]`` and ``names[i]`` describe label index i."""
  mids: Tuple[str, ...]
  names: Tuple[str, ...]

  def __len__(self) -> int:
    return len(self.mids)

  def index_of(self) -> Dict[str, int]:
    """Returns a map from mid to class index."""
    return {mid: i for i, mid in enumerate(self.mids)}


def load_class_labels(path) -> ClassLabels:
  """Reads and validates a ``class_labels_indices.csv``.

  Raises:
    InvalidInputError: the file is missing, has the wrong header, or its indices are not
      0..N-1 in order, or a mid repeats.
  """
  path = Path(path)
  try:
    with open(path, newline='', encoding='utf-8') as f:
      rows = list(csv.reader(f))
  except OSError as e:
    raise InvalidInputError(path, f'cannot read class list ({e.strerror})') from e
  except (UnicodeDecodeError, csv.Error) as e:
    raise InvalidInputError(path, f'not a CSV class list ({e})') from e
  if not rows or [c.strip() for c in rows[0]] != _HEADER:
    raise InvalidInputError(path, f'expected header {",".join(_HEADER)}', record=0)
  mids, names, seen = [], [], set()
  for line, row in enumerate(rows[1:], start=2):
    if len(row) != 3:
      raise InvalidInputError(path, f'line {line}: expected 3 columns, got {len(row)}')
    index, mid, name = (c.strip() for c in row)
    if index != str(len(mids)):
      raise InvalidInputError(path, f'line {line}: index {index!r}, expected {len(mids)}')
    if not mid or mid in seen:
      raise InvalidInputError(path, f'line {line}: empty or repeated mid {mid!r}')
    seen.add(mid)
    mids.append(mid)
    names.append(name)
  if not mids:
    raise InvalidInputError(path, 'class list has no classes')
  return ClassLabels(tuple(mids), tuple(names))


def bundled_class_labels_path() -> Path:
  """The 527-class list shipped with envsound (used to write sample releases)."""
  return Path(str(resources.files('envsound.schemas') / 'class_labels_indices.csv'))
