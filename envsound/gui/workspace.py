"""What the window holds and works out, without Tk: clips, maps, results, selection.

The widgets (``app.py``, ``window.py``) show this state and forward the user's actions
here; everything a test wants to check about behaviour can be checked on a Workspace.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from envsound.gui import export, loader, neighbours as nn, panels
from envsound.gui.maps import Map
from envsound.gui.reference import ReferenceSet
from envsound.gui.results import ModelChoice, Results

Outcome = Tuple[Results, Map, np.ndarray]  # a model's results, its map, the clips' positions


class Workspace:
  """The loaded clips, the reference set, the maps drawn and the results of Predict."""

  def __init__(self):
    self.clips: List[loader.LoadedClip] = []
    self.rejected: List[Tuple[object, str]] = []
    self.choices: Dict[str, ModelChoice] = {}
    self.reference: Optional[ReferenceSet] = None
    self.maps: List[Map] = []  # drawn before Predict: the selected model's map
    self.outcome: List[Outcome] = []  # after Predict, per model shown
    self.selection: List[int] = []  # clip indices
    self.colour_by = panels.TRUE

  # Clips.
  def add(self, result: loader.LoadResult) -> int:
    """Adds newly loaded clips (not those already held); returns how many were added."""
    known = {c.path.resolve() for c in self.clips}
    fresh = [c for c in result.clips if c.path.resolve() not in known]
    self.clips += fresh
    self.rejected += result.rejected
    self.reset_results()
    return len(fresh)

  def clear(self) -> None:
    self.clips, self.rejected = [], []
    self.reset_results()

  def reset_results(self) -> None:
    self.outcome, self.selection = [], []

  @property
  def names(self) -> List[str]:
    return [c.name for c in self.clips]

  @property
  def predicted(self) -> Optional[Results]:
    """The first model's results, or None before Predict."""
    return self.outcome[0][0] if self.outcome else None

  # Maps.
  def panels(self) -> List[panels.Panel]:
    """The panels to draw: each model's results on its map, or the maps alone."""
    if self.outcome:
      return [panels.build(m, r, p, self.names, self.colour_by) for r, m, p in self.outcome]
    return [panels.build(m, None, None, self.names, self.colour_by) for m in self.maps]

  def panel_map(self, panel: int) -> Tuple[Map, Optional[Results]]:
    if self.outcome:
      results, fitted, _ = self.outcome[panel]
      return fitted, results
    return self.maps[panel], None

  def neighbours(self, panel: int, point: nn.Point, k: int = nn.K) -> List[nn.Neighbour]:
    """The ``k`` nearest points to ``point`` in the embedding space of ``panel``'s model."""
    fitted, results = self.panel_map(panel)
    return nn.of_map(point, fitted, results, self.names, k)

  # Table.
  def matching(self, query: str) -> List[int]:
    """Clips whose file name or predicted environment contains ``query`` (any case)."""
    query = query.strip().lower()
    envs = self.predicted.top_class if self.predicted is not None else [''] * len(self.clips)
    return [i for i, (name, env) in enumerate(zip(self.names, envs))
            if not query or query in name.lower() or query in env.lower()]

  def select(self, indices: Sequence[int]) -> None:
    self.selection = sorted(set(int(i) for i in indices))

  def export(self, path, selection_only: bool = False) -> int:
    """Writes the predictions CSV (of the selection only, if asked); returns rows written.

    Raises:
      ValueError: nothing predicted yet, or an empty selection.
    """
    if not self.outcome:
      raise ValueError('Nothing to export yet: press Predict first.')
    if selection_only and not self.selection:
      raise ValueError('Nothing selected: click rows, or draw a box or lasso on the map.')
    return export.write_csv(path, self.clips, self.outcome,
                            self.selection if selection_only else None)
