"""Which HDBSCAN settings count clusters right, on Gaussian blobs whose count is known.

Each case is ``k`` unit-variance blobs (``k`` in 1, 2, 4, 8, 12) whose centres sit ``gap``
standard deviations apart (8 or 12), with 300 or 2,000 points in 2 or 64 dimensions and
blob sizes even or up to 1:4 apart. For each setting the bench prints how many cases give
the true count, and the cases it misses. The first row is envsound.core.separation's choice.

  .venv/bin/python bench/separation_settings.py [--quick]
"""

import argparse
import itertools
import warnings

import numpy as np
from sklearn.datasets import make_blobs

from envsound.core import separation

SETTINGS = [  # (share of points, min_samples, min_coverage)
    (separation.CLUSTER_SHARE, separation.MIN_SAMPLES, separation.MIN_COVERAGE),
    (separation.CLUSTER_SHARE, separation.MIN_SAMPLES, 0.0),
    (0.05, separation.MIN_SAMPLES, separation.MIN_COVERAGE),
    (0.01, separation.MIN_SAMPLES, separation.MIN_COVERAGE),
    (separation.CLUSTER_SHARE, 20, separation.MIN_COVERAGE),
]


def blobs(k, dims, sizes, gap, seed):
  """Blobs on a circle (2-D) or on the axes (more dimensions), ``gap`` apart."""
  if dims == 2:
    angles = 2 * np.pi * np.arange(k) / k
    radius = gap / (2 * np.sin(np.pi / max(k, 2)))
    centers = radius * np.stack([np.cos(angles), np.sin(angles)], 1)
  else:
    centers = gap * np.eye(k, dims)
  return make_blobs(n_samples=sizes, centers=centers, random_state=seed)[0]


def cases(quick):
  grid = itertools.product((1, 2, 4, 8, 12), (300,) if quick else (300, 2000), (2, 64),
                           (1, 4), (0,) if quick else (0, 1), (8, 12))
  for k, n, dims, uneven, seed, gap in grid:
    if k == 1 and uneven != 1:
      continue
    weights = np.linspace(1, uneven, k)
    sizes = [max(10, int(n * w / weights.sum())) for w in weights]
    yield (k, n, dims, uneven, seed, gap), blobs(k, dims, sizes, gap, seed)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--quick', action='store_true', help='300 points, one seed')
  args = parser.parse_args()
  data = list(cases(args.quick))
  print('case = (blobs, points, dims, size ratio, seed, gap) -> clusters found')
  for share, min_samples, coverage in SETTINGS:
    misses = []
    for case, points in data:
      with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        found = separation.cluster_count(points, share, min_samples, coverage)
      if found != case[0]:
        misses.append(f'{case}->{found}')
    print(f'share {share:.2f} min_samples {min_samples:2d} coverage {coverage:.2f}: '
          f'{len(data) - len(misses)}/{len(data)} right; missed {", ".join(misses[:6]) or "none"}'
          + (f' (+{len(misses) - 6} more)' if len(misses) > 6 else ''))


if __name__ == '__main__':
  main()
