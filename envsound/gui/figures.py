"""How well a map separates the environments: the figures in each map's title. No Tk here.

The figures are ``envsound.core.separation``'s, computed on the map's reference points, with
their true environments as labels: kNN class agreement (beside its chance level), silhouette
and HDBSCAN's cluster count, in the model's embedding space (penultimate vectors) and on the
2-D map. For a model's own map these are the points and labels its Trainer measured for
``separation.json``, so the window shows the figures of the results report.
"""

from typing import Dict, List, Optional

from envsound.core import separation

SPACES = (('embedding', 'embedding space'), ('map', '2-D map'))
MEASURING = 'measuring…'
HEADER = 'kNN agreement (chance) · silhouette · clusters'


def measurable(fitted) -> bool:
  """Whether the map's reference points carry two classes or more to measure."""
  return len(set(fitted.environments)) >= 2


def of_map(fitted) -> Optional[Dict[str, separation.Separation]]:
  """``{'embedding': .., 'map': ..}`` figures of a map's reference points, or None without
  two classes."""
  if not measurable(fitted):
    return None
  return separation.compare(fitted.embedding, fitted.xy, fitted.environments)


def _fmt(value: Optional[float]) -> str:
  return 'n/a' if value is None else f'{value:.2f}'


def lines(figures: Dict[str, separation.Separation]) -> List[str]:
  """A header line, then one short line per space: ``2-D map  0.90 (0.25) · 0.45 · 5``
  (short enough for the compare view's two maps side by side)."""
  out = [HEADER]
  for space, name in SPACES:
    if space in figures:
      f = figures[space]
      out.append(f'{name}  {_fmt(f.knn_agreement)} ({_fmt(f.chance)}) · '
                 f'{_fmt(f.silhouette)} · {f.clusters}')
  return out


def title(fitted, version: Optional[int] = None) -> str:
  """A map's title: model and the version that answered; where the map comes from and its
  reference clips; the figures (or, in as many lines, that they are being measured)."""
  answered = version if version is not None else fitted.version
  out = [f'{fitted.model}' + (f' (version {answered})' if answered is not None else ''),
         fitted.source + (f' · {len(fitted)} reference clips' if len(fitted) else '')]
  if fitted.separation is not None:
    out += lines(fitted.separation)
  elif measurable(fitted):
    out += measuring_lines()
  return '\n'.join(out)


def measuring_lines() -> List[str]:
  """The figures' lines while they are measured, as many as ``lines`` gives: the title
  keeps its height when the figures arrive, so the constrained layout leaves the axes (and
  every point under the pointer) where they are."""
  return [HEADER] + [f'{name}  {MEASURING}' for _, name in SPACES]
