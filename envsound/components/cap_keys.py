"""The cap's choice: per environment, the largest sort key kept under max-min fair caps.

A capped split keeps, per environment, the clips with the smallest sort keys
(``labelling.sort_key``), as many as ``core.caps.fair_caps`` gives that environment.
:class:`SmallestKeys` finds each environment's largest key kept without holding more than
``2 x cap`` keys per environment, whatever the number of clips read.
"""

from typing import Dict, Iterable, List

import apache_beam as beam
import numpy as np

from envsound.core.caps import fair_caps


def threshold(keys: Iterable[float], cap: int) -> float:
  """Returns the largest sort key kept when at most ``cap`` of ``keys`` survive."""
  kept = sorted(keys)[:cap]
  return kept[-1] if kept else -1.0


class SmallestKeys(beam.CombineFn):
  """Per environment: how many keys, and the ``cap`` smallest (the only ones a cap keeps).

  Input: {environment: sort keys}. Output: {environment: largest key kept}. The accumulator
  maps an environment to [count, arrays of keys, keys held]; the arrays are cut back to the
  ``cap`` smallest whenever they hold more than twice that.
  """

  def __init__(self, cap: int):
    self._cap = cap

  def create_accumulator(self):
    return {}

  def _add(self, accumulator, env: int, count: int, arrays: List[np.ndarray]):
    entry = accumulator.setdefault(env, [0, [], 0])
    entry[0] += count
    entry[1].extend(arrays)
    entry[2] += sum(len(a) for a in arrays)
    if entry[2] > 2 * self._cap:
      keys = np.concatenate(entry[1])
      entry[1] = [np.partition(keys, self._cap - 1)[:self._cap]]
      entry[2] = self._cap
    return accumulator

  def add_input(self, accumulator, keys: Dict[int, np.ndarray]):
    for env, k in keys.items():
      self._add(accumulator, env, len(k), [k])
    return accumulator

  def merge_accumulators(self, accumulators):
    accumulators = iter(accumulators)
    merged = next(accumulators, {})
    for accumulator in accumulators:
      for env, (count, arrays, _) in accumulator.items():
        self._add(merged, env, count, arrays)
    return merged

  def extract_output(self, accumulator) -> Dict[int, float]:
    caps = fair_caps({env: entry[0] for env, entry in accumulator.items()}, self._cap)
    return {env: threshold(np.concatenate(arrays), caps[env])
            for env, (_, arrays, _) in accumulator.items()}
