"""What each map panel shows, built from a map and (after Predict) its clips. No Tk here.

Reference clips are coloured by their true environment, or by the model's predicted one;
the user's clips have no true environment and are always coloured by the prediction.
"""

import dataclasses
from typing import List, Optional, Sequence

import numpy as np

from envsound.gui import figures
from envsound.gui.maps import Map
from envsound.gui.results import Results

TRUE = 'true environment'
PREDICTED = 'predicted environment'
COLOUR_MODES = (TRUE, PREDICTED)
NO_PREDICTION = '(reference: no prediction)'


@dataclasses.dataclass
class Panel:
  """What one map shows."""
  title: str
  reference_points: np.ndarray  # [r, 2]
  reference_labels: Sequence[str]  # colour class per reference point
  reference_text: Sequence[str]  # hover text per reference point
  new_points: np.ndarray  # [n, 2]
  new_labels: Sequence[str]  # predicted class per clip (colour)
  new_text: Sequence[str]  # hover text per clip


def build(fitted: Map, results: Optional[Results], points: Optional[np.ndarray],
          clip_names: Sequence[str], colour_by: str = TRUE) -> Panel:
  """The panel of ``fitted`` with, when predicted, the clips at ``points``."""
  ref_labels: List[str] = list(fitted.environments)
  if colour_by == PREDICTED:
    ref_labels = list(fitted.predicted) if fitted.predicted else [NO_PREDICTION] * len(fitted)
  ref_text = [f'reference: {env}\n{cid}' + (f'\npredicted: {p}' if p else '')
              for env, cid, p in zip(fitted.environments, fitted.ids,
                                     fitted.predicted or [''] * len(fitted))]
  if results is None:
    return Panel(figures.title(fitted), fitted.xy, ref_labels, ref_text,
                 np.zeros((0, 2), np.float32), [], [])
  text = [f'{n}\npredicted: {c}\n' + '\n'.join(f'  {k}: {p:.2f}' for k, p in top)
          for n, c, top in zip(clip_names, results.top_class, results.top_k(3))]
  return Panel(figures.title(fitted, results.model_version), fitted.xy, ref_labels, ref_text,
               points, results.top_class, text)
