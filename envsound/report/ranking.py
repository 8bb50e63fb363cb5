"""Whether the approaches rank as the research project reports, and if not, the likely why."""

from typing import Optional, Sequence

from envsound.report import differences, markdown
from envsound.report.runs import ApproachResult
from envsound.report.scores import collapsed_class
from envsound.report.study import STUDY_ORDER, STUDY_RESULTS


def _still_rising(values: Sequence[float]) -> bool:
  return len(values) == 1 or values[-1] > max(values[:-1])


def ranking_text(results: Sequence[ApproachResult], class_names: Sequence[str],
                 cap: Optional[int] = None, capped: Optional[bool] = None) -> str:
  """Whether the approaches rank as the research project reports (3 > 2 > 1), each step's
  accuracy difference with its standard error (differences.py: paired on shared clips where
  the report scored them), and if the order differs, the likely why.

  Args:
    results: every approach's result (missing ones have no scores).
    class_names: environment ids, to name a collapsed model's only class.
    cap: the '150k' set's clip cap; None when unknown.
    capped: whether that cap dropped clips (False: the data ran out first).
  """
  by_name = {r.approach.name: r for r in results}
  short = lambda r: r.approach.title.split(':')[0]
  study = ' > '.join(f'{short(by_name[n])} ({STUDY_RESULTS[n][1]:.2f})' for n in STUDY_ORDER)
  scored = [by_name[n] for n in STUDY_ORDER if by_name[n].scores is not None]
  if len(scored) < 2:
    return (f'The research project reports {study}. Fewer than two approaches were evaluated '
            'in this run: there is no ranking to compare.')
  ranked = sorted(scored, key=lambda r: -r.scores.accuracy)
  text = [f'The research project reports {study}; this run: '
          + ' > '.join(f'{short(r)} ({r.scores.accuracy:.3f})' for r in ranked) + '.']
  steps = [(a, b, differences.accuracy_difference(a.scores, b.scores))
           for a, b in zip(scored, scored[1:])]
  weak = [f'{short(a)} − {short(b)}' for a, b, d in steps if d.value <= 0 or not d.beyond_two_se]
  order = ' > '.join(short(r) for r in scored)
  uncertainty = ('Each step of the research project\'s order, with its standard error: '
                 + '; '.join(f'{short(a)} − {short(b)} = {d.text()}' for a, b, d in steps)
                 + '. ' + (f'The order {order} holds beyond two standard errors at every step.'
                           if not weak else
                           f'The order {order} does not hold beyond two standard errors at '
                           f'every step: not at {", ".join(weak)}.'))
  collapses = []
  for r in scored:
    collapse = collapsed_class(r.scores)
    if collapse:
      collapses.append(f'{short(r)} predicts {class_names[collapse[0]]} for {collapse[1]:.0%} '
                       'of the validation clips (a collapsed model).')
  if [r.approach.name for r in ranked] == [r.approach.name for r in scored]:
    text.append('The approaches rank as the research project reports.')
    return ' '.join(text + [uncertainty] + collapses)
  text.append('The ranking differs from the research project\'s:')
  text += [f'{short(a)} does not beat {short(b)} ({a.scores.accuracy:.3f} vs '
           f'{b.scores.accuracy:.3f}).' for a, b, _ in steps
           if a.scores.accuracy <= b.scores.accuracy]
  ours = ', '.join(f'{short(r)} {markdown.fmt(r.train_clips)}' for r in scored)
  theirs = ', '.join(f'{short(by_name[n])} {STUDY_RESULTS[n][0]}' for n in STUDY_ORDER)
  text.append(f'Training clips: {ours} (the research project: {theirs}).')
  big = by_name['cnn1d_150k']
  if big.scores is not None and big.train_clips is not None and capped is False:
    text.append(f'The 150k set is capped by the available data: the release holds only '
                f'{big.train_clips:,} labelled training clips'
                + (f' (cap {cap:,}).' if cap else '.'))
  epochs = [f'{short(r)} {r.epochs}' for r in scored if r.epochs is not None]
  if epochs:
    text.append('Epochs: ' + ', '.join(epochs) + '.')
  rising = [short(r) for r in scored
            if r.history and _still_rising(r.history['history'].get('val_accuracy', [0]))]
  if rising:
    text.append(f'Validation accuracy was still rising at the last epoch for '
                f'{", ".join(rising)}: longer training may change the order.')
  text += collapses
  text.append(uncertainty)
  return ' '.join(text)
