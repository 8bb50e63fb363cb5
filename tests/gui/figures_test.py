"""The separation figures in the maps' titles, on synthetic maps whose answer is known.

core.separation's own behaviour is tested in tests/core/separation_test.py; these tests check
that the window measures the right points in each space and says so in the title.
"""

import numpy as np
import pytest

from envsound.gui import figures, maps
from envsound.gui.results import ModelChoice

CLASSES = 4
PER_CLASS = 60


def _map(embedding, xy, environments, source=maps.FROM_MODEL):
  return maps.Map(ModelChoice('cnn1d_150k'), 3, source, np.asarray(xy, np.float32),
                  list(environments), [f'clip{i}' for i in range(len(xy))],
                  np.asarray(embedding, np.float32))


@pytest.fixture(scope='module')
def pure_embedding_mixed_map():
  """Classes far apart in a 32-D embedding space, but a 2-D map that scatters them."""
  rng = np.random.default_rng(0)
  labels = np.repeat([f'env{c}' for c in range(CLASSES)], PER_CLASS)
  centres = 12 * np.eye(CLASSES, 32)
  embedding = centres[np.repeat(np.arange(CLASSES), PER_CLASS)] + rng.normal(
      size=(len(labels), 32))
  xy = rng.uniform(-10, 10, size=(len(labels), 2))
  return _map(embedding, xy, labels)


def test_each_space_is_measured_on_its_own_points(pure_embedding_mixed_map):
  found = figures.of_map(pure_embedding_mixed_map)
  chance = (PER_CLASS - 1) / (CLASSES * PER_CLASS - 1)
  embedding, flat = found['embedding'], found['map']
  assert embedding.chance == pytest.approx(chance) == flat.chance
  assert embedding.knn_agreement > 0.99 and embedding.clusters == CLASSES
  assert embedding.silhouette > 0.5
  assert abs(flat.knn_agreement - chance) < 0.1 and abs(flat.silhouette) < 0.1
  assert embedding.n == flat.n == CLASSES * PER_CLASS


def test_the_title_shows_both_spaces_once_measured(pure_embedding_mixed_map):
  fitted = pure_embedding_mixed_map
  fitted.separation = None
  measuring = figures.title(fitted).split('\n')
  assert measuring == [
      'cnn1d_150k (version 3)', f'{maps.FROM_MODEL} · {len(fitted)} reference clips',
      'kNN agreement (chance) · silhouette · clusters', 'embedding space  measuring…',
      '2-D map  measuring…']
  fitted.separation = figures.of_map(fitted)
  lines = figures.title(fitted, version=4).split('\n')
  assert len(lines) == len(measuring)  # the axes keep their place when the figures arrive
  assert lines[0] == 'cnn1d_150k (version 4)'
  emb, flat = fitted.separation['embedding'], fitted.separation['map']
  assert lines[2:] == [
      'kNN agreement (chance) · silhouette · clusters',
      f'embedding space  {emb.knn_agreement:.2f} ({emb.chance:.2f}) · {emb.silhouette:.2f} · '
      f'{CLASSES}',
      f'2-D map  {flat.knn_agreement:.2f} ({flat.chance:.2f}) · {flat.silhouette:.2f} · '
      f'{flat.clusters}']
  assert f'{emb.knn_agreement:.2f}' == '1.00' and lines[3] != lines[4]


def test_a_map_of_one_class_has_no_figures():
  rng = np.random.default_rng(1)
  fitted = _map(rng.normal(size=(30, 8)), rng.normal(size=(30, 2)), ['rail'] * 30,
                maps.FITTED)
  assert figures.of_map(fitted) is None and not figures.measurable(fitted)
  assert figures.title(fitted).split('\n') == ['cnn1d_150k (version 3)',
                                               f'{maps.FITTED} · 30 reference clips']
