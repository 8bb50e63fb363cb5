"""Tests for the environment taxonomy (schemas/environments.yaml and its loader)."""

import re

import pytest

from envsound.core.labels import ClassLabels, bundled_class_labels_path, load_class_labels
from envsound.core.errors import InvalidInputError
from envsound.core.taxonomy import load_taxonomy

LABELS = ClassLabels(mids=('/m/a', '/m/b', '/m/c', '/m/d', '/m/e'),
                     names=('Alpha', 'Beta', 'Gamma', 'Delta', 'Epsilon'))

GOOD = """\
environments:
  - id: first
    title: First
    description: "a and b"
    classes:
      - {mid: /m/a, name: Alpha}
      - {mid: /m/b, name: Beta}
  - id: second
    title: Second
    description: "c and d"
    classes:
      - {mid: /m/c, name: Gamma}
      - {mid: /m/d, name: Delta}
"""


@pytest.fixture(name='bundled', scope='module')
def _bundled():
  return load_taxonomy()


def _load(tmp_path, text):
  path = tmp_path / 'envs.yaml'
  path.write_text(text)
  return load_taxonomy(path, LABELS), path


def test_bundled_taxonomy_has_8_to_12_named_environments(bundled):
  assert 8 <= len(bundled) <= 12
  assert all(re.fullmatch(r'[a-z][a-z0-9_]*', n) for n in bundled.names)
  assert len(bundled.titles) == len(bundled)
  assert {'urban_traffic', 'rail', 'nature_birdsong', 'speech_crowd', 'music'} <= set(
      bundled.names)


def test_bundled_taxonomy_uses_only_real_classes(bundled):
  real = load_class_labels(bundled_class_labels_path())
  index_of = real.index_of()
  for i in range(len(bundled)):
    mids = bundled.environment_mids(i)
    assert len(mids) >= 5, bundled.names[i]
    for mid, cls in zip(mids, bundled.environment_classes(i)):
      assert index_of[mid] == cls
      assert bundled.class_to_environment[cls] == i


def test_bundled_taxonomy_assigns_typical_clips(bundled):
  index_of = bundled.class_labels.index_of()
  speech, car, train, music = (index_of[m] for m in ('/m/09x0r', '/m/0k4j', '/m/07jdr',
                                                     '/m/04rlf'))
  assert bundled.environment_of([speech, car]) == bundled.index('urban_traffic')
  assert bundled.environment_of([train]) == bundled.index('rail')
  assert bundled.environment_of([speech, music]) == bundled.index('speech_crowd')
  assert bundled.environment_of([index_of['/m/07yv9']]) is None  # Vehicle: too generic


def test_environment_of_majority_tie_and_unassigned(tmp_path):
  tax, _ = _load(tmp_path, GOOD)
  assert tax.names == ('first', 'second')
  assert tax.environment_of([2, 3, 0]) == 1        # most labels win
  assert tax.environment_of([0, 2]) == 0           # a tie goes to the first listed
  assert tax.environment_of([2, 2, 2, 0, 1]) == 0  # repeated labels count once
  assert tax.environment_of([3, 4]) == 1           # labels outside the taxonomy are ignored
  assert tax.environment_of([4]) is None
  assert tax.environment_of([]) is None
  assert list(tax.class_environment_array()) == [0, 0, 1, 1, -1]
  assert tax.environment_mids(1) == ('/m/c', '/m/d')


@pytest.mark.parametrize('text, expected', [
    (GOOD.replace('description: "a and b"', 'description: a: b: c'),
     r'not valid YAML at line \d+'),
    ('environments: {}\n', r'`environments` list'),
    (GOOD.replace('    title: First\n', ''), r"environment 'first': missing field 'title'"),
    (GOOD.replace('/m/d, name: Delta', '/m/zz, name: Delta'),
     r"environment 'second': unknown AudioSet mid '/m/zz'"),
    (GOOD.replace('/m/d, name: Delta', '/m/a, name: Alpha'),
     r"environment 'second': class /m/a \(Alpha\) is already in environment 'first'"),
    (GOOD.replace('name: Delta', 'name: Delta force'),
     r"mid /m/d is 'Delta' in the class list, not 'Delta force'"),
    (GOOD.replace('id: second', 'id: first'), r"duplicate environment id 'first'"),
    (GOOD.replace('id: second', 'id: Second env'), r'id must be a snake_case string'),
    (GOOD[:GOOD.index('  - id: second')], r'need at least 2 environments, got 1'),
    (GOOD.replace("""    classes:
      - {mid: /m/c, name: Gamma}
      - {mid: /m/d, name: Delta}
""", '    classes: []\n'), r"environment 'second': classes must be a non-empty list"),
    (GOOD.replace('{mid: /m/c, name: Gamma}', '/m/c'),
     r"environment 'second': each class must be \{mid: \.\.\., name: \.\.\.\}"),
])
def test_invalid_taxonomy_raises_clear_error(tmp_path, text, expected):
  with pytest.raises(InvalidInputError, match=expected) as info:
    _load(tmp_path, text)
  assert info.value.path == str(tmp_path / 'envs.yaml')
  assert '\n' not in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path):
  with pytest.raises(InvalidInputError, match='cannot read taxonomy'):
    load_taxonomy(tmp_path / 'absent.yaml', LABELS)
