"""The report's separation section: how well each model's classes sit apart, and the ranking.

Figures are core.separation's, recorded by each Trainer in ``separation.json`` for its
validation reference set: in the model's embedding space (penultimate layer) and on the 2-D
map it exports. The text says whether they rank the approaches as accuracy does, and sets the
research project's "4 clusters versus 2" (approach 3 against approach 2) against this run's.
"""

from typing import Dict, List, Optional, Sequence

from envsound.report import markdown
from envsound.report.runs import ApproachResult

SPACES = (('embedding', 'embedding'), ('map', 'map'))
STUDY_CLUSTERS = {'cnn1d_150k': 4, 'cnn1d': 2}  # the research project's UMAP cluster counts


def _figure(result: ApproachResult, space: str, key: str):
  return (result.separation or {}).get(space, {}).get(key)


def separation_table(results: Sequence[ApproachResult]) -> str:
  """One row per approach with figures: kNN agreement (chance), silhouette and clusters."""
  rows = []
  for r in results:
    if not r.separation:
      continue
    row = [r.approach.title, markdown.fmt(r.separation.get('n'))]
    for space, _ in SPACES:
      row += [f'{markdown.fmt(_figure(r, space, "knn_agreement"))} '
              f'({markdown.fmt(_figure(r, space, "chance"))})',
              markdown.fmt(_figure(r, space, 'silhouette')),
              markdown.fmt(_figure(r, space, 'clusters'))]
    rows.append(row)
  header = ['Model', 'Reference clips']
  for _, name in SPACES:
    header += [f'{name} kNN agreement (chance)', f'{name} silhouette', f'{name} clusters']
  return markdown.markdown_table(header, rows, numeric=[False] + [True] * (len(header) - 1))


def _order(results: Sequence[ApproachResult], key) -> List[str]:
  return [r.approach.name for r in sorted(results, key=key, reverse=True)]


def separation_ranking(results: Sequence[ApproachResult]) -> str:
  """Whether kNN agreement ranks the approaches as accuracy does; the cluster claim."""
  scored = [r for r in results if r.separation and r.scores is not None
            and _figure(r, 'embedding', 'knn_agreement') is not None]
  text = []
  if len(scored) >= 2:
    by_accuracy = _order(scored, lambda r: r.scores.accuracy)
    short = {r.approach.name: r.approach.title.split(':')[0] for r in scored}
    text.append('By accuracy: ' + ' > '.join(short[n] for n in by_accuracy) + '.')
    for space, name in SPACES:
      if all(_figure(r, space, 'knn_agreement') is not None for r in scored):
        order = _order(scored, lambda r, s=space: _figure(r, s, 'knn_agreement'))
        same = 'the same order' if order == by_accuracy else 'a different order'
        text.append(f'kNN agreement on the {name} gives {same}: '
                    + ' > '.join(short[n] for n in order) + '.')
  clusters: Dict[str, Optional[int]] = {
      r.approach.name: _figure(r, 'map', 'clusters') for r in results if r.separation}
  if all(clusters.get(n) is not None for n in STUDY_CLUSTERS):
    more = 'yes' if clusters['cnn1d_150k'] > clusters['cnn1d'] else 'no'
    text.append(f'The research project reports {STUDY_CLUSTERS["cnn1d_150k"]} clusters on '
                f'approach 3\'s map versus {STUDY_CLUSTERS["cnn1d"]} on approach 2\'s; this '
                f'run: {clusters["cnn1d_150k"]} versus {clusters["cnn1d"]} (more clusters on '
                f'approach 3\'s map: {more}).')
  return ' '.join(text)
