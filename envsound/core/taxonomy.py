"""The environment taxonomy: environments as sets of AudioSet classes (``environments.yaml``).

The file's order of environments is the model's class index order. A clip belongs to the
environment holding most of its distinct labels, ties going to the environment listed first;
a clip with none of the listed labels is unassigned (``None``).
"""

import dataclasses
import re
import types
from importlib import resources
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Tuple

import numpy as np
import yaml

from envsound.core.labels import ClassLabels, bundled_class_labels_path, load_class_labels
from envsound.core.errors import InvalidInputError

_ID_PATTERN = re.compile(r'^[a-z][a-z0-9_]*$')
_ENV_FIELDS = ('id', 'title', 'description', 'classes')


def bundled_taxonomy_path() -> Path:
  """The taxonomy shipped with envsound (``schemas/environments.yaml``)."""
  return Path(str(resources.files('envsound.schemas') / 'environments.yaml'))


@dataclasses.dataclass(frozen=True)
class Environment:
  """One environment: its id, title, description and AudioSet class indices."""
  id: str
  title: str
  description: str
  classes: Tuple[int, ...]
  mids: Tuple[str, ...]


class Taxonomy:
  """Environments in index order, with the AudioSet class -> environment map."""

  def __init__(self, environments: Iterable[Environment], class_labels: ClassLabels):
    self.environments: Tuple[Environment, ...] = tuple(environments)
    self.class_labels = class_labels
    self.names: Tuple[str, ...] = tuple(e.id for e in self.environments)
    self.titles: Tuple[str, ...] = tuple(e.title for e in self.environments)
    self.class_to_environment: Mapping[int, int] = types.MappingProxyType(
        {c: i for i, e in enumerate(self.environments) for c in e.classes})
    self._table = np.full(len(class_labels), -1, dtype=np.int64)
    for c, env in self.class_to_environment.items():
      self._table[c] = env

  def __len__(self) -> int:
    return len(self.environments)

  def __repr__(self) -> str:
    return f'Taxonomy({", ".join(self.names)})'

  def environment_mids(self, i: int) -> Tuple[str, ...]:
    """The AudioSet mids of environment ``i``."""
    return self.environments[i].mids

  def environment_classes(self, i: int) -> Tuple[int, ...]:
    """The AudioSet class indices of environment ``i``."""
    return self.environments[i].classes

  def index(self, name: str) -> int:
    """The index of the environment with id ``name``; raises KeyError if there is none."""
    try:
      return self.names.index(name)
    except ValueError:
      raise KeyError(f'unknown environment {name!r}; known: {", ".join(self.names)}') from None

  def environment_of(self, labels: Iterable[int]) -> Optional[int]:
    """The environment of a clip with these AudioSet labels, or None if unassigned.

    The environment holding most of the clip's distinct labels wins; ties go to the one
    listed first. Labels outside every environment are ignored.
    """
    counts = [0] * len(self)
    for label in set(int(l) for l in labels):
      env = self.class_to_environment.get(label)
      if env is not None:
        counts[env] += 1
    best = max(range(len(counts)), key=lambda i: (counts[i], -i))
    return best if counts[best] else None

  def environments_of(self, labels: np.ndarray) -> np.ndarray:
    """:meth:`environment_of` for many clips at once.

    Args:
      labels: int ``[clips, k]`` AudioSet class indices, padded with -1.

    Returns:
      int64 ``[clips]``: environment indices, -1 where unassigned.
    """
    labels = np.sort(np.asarray(labels, dtype=np.int64), axis=1)
    labels[:, 1:][labels[:, 1:] == labels[:, :-1]] = -1  # count each label once
    env = np.where(labels >= 0, self._table[np.clip(labels, 0, None)], -1)
    counts = (env[:, :, None] == np.arange(len(self))).sum(axis=1)
    return np.where(counts.max(axis=1) > 0, counts.argmax(axis=1), -1)

  def class_environment_array(self) -> np.ndarray:
    """int64 ``[num_audioset_classes]``: environment of each class, -1 for none."""
    return self._table.copy()


def _require(path, cond: bool, reason: str, field: Optional[str] = None) -> None:
  if not cond:
    raise InvalidInputError(path, reason, field=field)


def _parse_environment(path, k: int, raw, labels: ClassLabels, index_of, owner) -> Environment:
  """Validates one ``environments`` entry; ``owner`` maps mids already used to env ids."""
  where = f'environments[{k}]'
  _require(path, isinstance(raw, dict), f'{where} must be a mapping with fields '
           f'{", ".join(_ENV_FIELDS)}', where)
  env_id = raw.get('id')
  _require(path, isinstance(env_id, str) and bool(_ID_PATTERN.match(env_id)),
           f'{where}: id must be a snake_case string, got {env_id!r}', f'{where}.id')
  where = f'environment {env_id!r}'
  for name in _ENV_FIELDS[1:]:
    _require(path, name in raw, f'{where}: missing field {name!r}', name)
  unknown = sorted(set(raw) - set(_ENV_FIELDS))
  _require(path, not unknown, f'{where}: unknown fields {unknown}')
  for name in ('title', 'description'):
    _require(path, isinstance(raw[name], str) and raw[name].strip() != '',
             f'{where}: {name} must be a non-empty string', name)
  classes = raw['classes']
  _require(path, isinstance(classes, list) and len(classes) > 0,
           f'{where}: classes must be a non-empty list of {{mid, name}}', 'classes')
  indices, mids = [], []
  for entry in classes:
    _require(path, isinstance(entry, dict) and set(entry) == {'mid', 'name'},
             f'{where}: each class must be {{mid: ..., name: ...}}, got {entry!r}', 'classes')
    mid, name = str(entry['mid']), str(entry['name'])
    _require(path, mid in index_of, f'{where}: unknown AudioSet mid {mid!r} ({name})',
             'classes')
    i = index_of[mid]
    _require(path, labels.names[i] == name,
             f'{where}: mid {mid} is {labels.names[i]!r} in the class list, not {name!r}',
             'classes')
    _require(path, mid not in owner,
             f'{where}: class {mid} ({name}) is already in environment {owner.get(mid)!r}',
             'classes')
    owner[mid] = env_id
    indices.append(i)
    mids.append(mid)
  return Environment(env_id, raw['title'].strip(), raw['description'].strip(), tuple(indices),
                     tuple(mids))


def parse_taxonomy(text: str, class_labels: ClassLabels, path='<string>') -> Taxonomy:
  """Parses and validates taxonomy YAML text (``path`` only names it in errors)."""
  try:
    doc = yaml.safe_load(text)
  except yaml.YAMLError as e:
    mark = getattr(e, 'problem_mark', None)
    where = f' at line {mark.line + 1}, column {mark.column + 1}' if mark else ''
    problem = getattr(e, 'problem', None) or str(e).splitlines()[0]
    raise InvalidInputError(path, f'not valid YAML{where}: {problem}') from e
  _require(path, isinstance(doc, dict) and isinstance(doc.get('environments'), list),
           'expected a mapping with an `environments` list', 'environments')
  _require(path, doc.get('version', 1) == 1, f'unsupported version {doc.get("version")!r}',
           'version')
  index_of = class_labels.index_of()
  owner: dict = {}
  envs: List[Environment] = []
  for k, raw in enumerate(doc['environments']):
    env = _parse_environment(path, k, raw, class_labels, index_of, owner)
    _require(path, env.id not in [e.id for e in envs], f'duplicate environment id {env.id!r}',
             'environments')
    envs.append(env)
  _require(path, len(envs) >= 2, f'need at least 2 environments, got {len(envs)}',
           'environments')
  return Taxonomy(envs, class_labels)


def load_taxonomy(path=None, class_labels: Optional[ClassLabels] = None) -> Taxonomy:
  """Loads and validates a taxonomy file.

  Args:
    path: the YAML file (default: the bundled ``environments.yaml``).
    class_labels: the AudioSet classes it refers to (default: the bundled 527-class list).

  Returns:
    The validated Taxonomy.

  Raises:
    InvalidInputError: the file is unreadable, not YAML, misses a field, names an unknown mid
      or one whose display name differs from the class list, puts a class in two
      environments, has an empty or duplicate environment, or fewer than 2 environments.
  """
  path = Path(path) if path is not None else bundled_taxonomy_path()
  if class_labels is None:
    class_labels = load_class_labels(bundled_class_labels_path())
  try:
    text = path.read_text(encoding='utf-8')
  except (OSError, UnicodeDecodeError) as e:
    raise InvalidInputError(path, f'cannot read taxonomy ({e})') from e
  return parse_taxonomy(text, class_labels, path)
