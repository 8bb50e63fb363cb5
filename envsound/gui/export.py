"""The predictions CSV: one row per clip and model. No Tk here."""

import csv
from typing import Optional, Sequence

from envsound.core.atomic import atomic_file

HEADER = (['file', 'path', 'model', 'model_version', 'environment', 'confidence'] +
          [f'top{i}{s}' for i in (1, 2, 3) for s in ('', '_probability')])


def write_csv(path, clips, outcome, indices: Optional[Sequence[int]] = None) -> int:
  """Writes the predictions of ``clips`` (only ``indices`` if given) atomically.

  Args:
    path: where to write.
    clips: the loaded clips (``LoadedClip``).
    outcome: ``(Results, Map, points)`` per model shown.
    indices: the clips to write, in this order; default every clip.

  Returns:
    The number of rows written.
  """
  keep = range(len(clips)) if indices is None else list(indices)
  rows = 0
  with atomic_file(path, 'w') as f:
    out = csv.writer(f)
    out.writerow(HEADER)
    for results, _, _ in outcome:
      classes, scores, tops = results.top_class, results.top_score, results.top_k(3)
      for i in keep:
        out.writerow([clips[i].name, str(clips[i].path), str(results.model),
                      results.model_version, classes[i], f'{scores[i]:.6f}'] +
                     [x for n, p in tops[i] for x in (n, f'{p:.6f}')])
        rows += 1
  return rows
