"""Fair per-class caps, shared by ingestion (training sets) and ``envsound data export``."""

from typing import Dict, Mapping


def fair_caps(counts: Mapping[int, int], total: int) -> Dict[int, int]:
  """Splits ``total`` items among groups, max-min fair (water filling).

  Groups with fewer items than the fair share keep all of them; the rest share what is left
  equally (the remainder goes to the lowest group ids), so abundant groups cannot drown rare
  ones.

  Args:
    counts: items available per group.
    total: the most items to keep in all.

  Returns:
    The most items to keep per group; they sum to min(total, sum(counts)).
  """
  caps, left = {}, total
  pending = sorted(counts, key=lambda g: (counts[g], g))
  while pending:
    share, group = left // len(pending), pending[0]
    if counts[group] > share:
      extra = left - share * len(pending)
      caps.update({g: share + (i < extra) for i, g in enumerate(sorted(pending))})
      break
    caps[group] = counts[group]
    left -= counts[group]
    pending.pop(0)
  return caps
