"""The report's Markdown tables: results against the reference, and per-environment metrics."""

import math
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from envsound.core import approaches as approaches_lib
from envsound.report.reference import REFERENCE_TITLE
from envsound.report.runs import ApproachResult
from envsound.report.scores import Scores
from envsound.report.study import STUDY_RESULTS

GOAL_MARGIN = 0.03  # the quality goal: two standard errors at about 1,000 validation clips


def fmt(value, digits: int = 3) -> str:
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return 'n/a'
  if isinstance(value, (int, np.integer)):
    return f'{value:,}'
  return f'{value:.{digits}f}'


def _shortfall(gap: float) -> str:
  """A goal's shortfall to three decimals; one that rounds to 0.000 reads "less than 0.001"."""
  return f'{gap:.3f}' if gap >= 0.0005 else 'less than 0.001'


def _delta(value, reference) -> str:
  if value is None or reference is None or math.isnan(value) or math.isnan(reference):
    return 'n/a'
  return f'{value - reference:+.3f}'


def label(approach: approaches_lib.Approach) -> str:
  """'Approach 2 (cnn1d)'."""
  return f'{approach.title.split(":")[0]} ({approach.name})'


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   numeric: Sequence[bool] = ()) -> str:
  """A GitHub-flavoured markdown table; ``numeric`` columns are right-aligned."""
  align = ['---:' if i < len(numeric) and numeric[i] else '---' for i in range(len(header))]
  return '\n'.join('| ' + ' | '.join(str(c) for c in line) + ' |'
                   for line in (header, align, *rows))


def results_table(results: Sequence[ApproachResult], reference: Optional[Scores],
                  reference_clips: Tuple[Optional[int], Optional[int]]) -> str:
  """The research project's Results table on this run's data, with deltas to the reference."""
  ref_acc = reference.accuracy if reference else None
  ref_f1 = reference.macro_f1 if reference else None
  rows = []
  for r in results:
    study = fmt(STUDY_RESULTS[r.approach.name][1], 2) if r.approach.name in STUDY_RESULTS else ''
    head = [r.approach.title, r.approach.training_set, fmt(r.train_clips), fmt(r.eval_clips)]
    if r.scores is None:
      rows.append(head + ['n/a'] * 6 + [f'missing: {", ".join(r.missing)} did not run', study])
      continue
    pushed = 'n/a' if r.pushed is None else f'v{r.pushed}' if r.pushed else 'no'
    rows.append(head + [
        fmt(r.scores.accuracy), fmt(r.scores.macro_f1),
        fmt(r.scores.mean_average_precision), _delta(r.scores.accuracy, ref_acc),
        _delta(r.scores.macro_f1, ref_f1), fmt(r.scores.evaluator_macro_f1),
        f'{"yes" if r.blessed else "no"} / {pushed}', study])
  rows.append([REFERENCE_TITLE, approaches_lib.BALANCED, fmt(reference_clips[0]),
               fmt(reference_clips[1]), fmt(ref_acc) if reference else 'missing',
               fmt(ref_f1), fmt(reference.mean_average_precision) if reference else '',
               '', '', '', '', ''])
  return markdown_table(
      ['Model', 'Training set', 'Training clips', 'Validation clips', 'Val. acc', 'Macro-F1',
       'Mean AP', 'Δ acc vs reference', 'Δ macro-F1 vs reference',
       'Evaluator macro-F1 (p > 0.5)', 'Blessed / pushed', 'Research project val. acc'],
      rows, numeric=[False, False] + [True] * 8 + [False, True])


def reference_lines(results: Sequence[ApproachResult], reference: Optional[Scores]) -> List[str]:
  """One line per approach: whether and by how much it beats the reference, and the gate's
  decision (against its own training set's reference) when the gate ran."""
  lines = []
  for r in results:
    if r.scores is None:
      lines.append(f'- {label(r.approach)}: missing ({", ".join(r.missing)} did not run).')
      continue
    gate = f' Quality gate: {r.gate_reason}.' if r.gate_reason else ''
    if reference is None:
      if gate:
        lines.append(f'- {label(r.approach)}.{gate}')
      continue
    acc = r.scores.accuracy - reference.accuracy
    f1 = r.scores.macro_f1 - reference.macro_f1
    verdict = ('beats the reference' if acc > 0 and f1 > 0 else
               'beats the reference on accuracy only' if acc > 0 else
               'beats the reference on macro-F1 only' if f1 > 0 else
               'does not beat the reference')
    se = math.hypot(r.scores.standard_error, reference.standard_error)
    goal = (f'meets the goal (reference + {GOAL_MARGIN:.2f})' if acc >= GOAL_MARGIN else
            f'misses the goal (reference + {GOAL_MARGIN:.2f}) by {_shortfall(GOAL_MARGIN - acc)}')
    lines.append(f'- {label(r.approach)} {verdict}: accuracy {acc:+.3f} ± {se:.3f} '
                 f'(standard error of the difference), macro-F1 '
                 f'{_delta(r.scores.macro_f1, reference.macro_f1)}; it {goal}.{gate}')
  return lines


def _class_value(s: Scores, metric: int, c: int):
  """Per-class figure ``metric`` (0-2: recall, precision, F1; 3: average precision)."""
  if metric < 3:
    return float(s.per_class[c, metric])
  return None if s.average_precision is None else float(s.average_precision[c])


def per_class_tables(class_names: Sequence[str], scores: Dict[str, Scores]) -> str:
  """Recall, precision, F1 and average precision per environment: one table per metric, one
  column per model (n/a where a model was not scored)."""
  support = next(iter(scores.values())).confusion.sum(axis=1)
  parts = []
  for i, metric in enumerate(('Recall', 'Precision', 'F1', 'Average precision')):
    rows = [[name, fmt(int(support[c])), *(fmt(_class_value(s, i, c))
                                             for s in scores.values())]
            for c, name in enumerate(class_names)]
    parts.append(f'### {metric}\n\n' + markdown_table(
        ['Environment', 'Validation clips', *scores], rows,
        numeric=[False] + [True] * (1 + len(scores))))
  return '\n\n'.join(parts)
