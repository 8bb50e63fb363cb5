"""Whether the approaches rank as the research project reports, and if not, the likely why."""

import math
from typing import Optional, Sequence

import numpy as np

from envsound.report import markdown
from envsound.report.runs import ApproachResult
from envsound.report.scores import collapsed_class
from envsound.report.study import STUDY_ORDER, STUDY_RESULTS


def _still_rising(values: Sequence[float]) -> bool:
  return len(values) == 1 or values[-1] > max(values[:-1])


def ranking_text(results: Sequence[ApproachResult], class_names: Sequence[str],
                 cap: Optional[int] = None, capped: Optional[bool] = None) -> str:
  """Whether the approaches rank as the research project reports (3 > 2 > 1); if not, why.

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
  n = min(r.eval_clips or int(r.scores.confusion.sum()) for r in scored)
  p = float(np.mean([r.scores.accuracy for r in scored]))
  noise = 2 * math.sqrt(p * (1 - p) / n) if n else math.inf
  pairs = list(zip(scored, scored[1:]))
  close = [(a, b) for a, b in pairs if abs(a.scores.accuracy - b.scores.accuracy) < noise]
  noise_text = (f'with {n:,} validation clips, accuracy differences below {noise:.3f} (two '
                f'standard errors) are within noise: '
                + ', '.join(f'{short(a)} vs {short(b)} differ by '
                            f'{abs(a.scores.accuracy - b.scores.accuracy):.3f}'
                            for a, b in close) + '.')
  collapses = []
  for r in scored:
    collapse = collapsed_class(r.scores)
    if collapse:
      collapses.append(f'{short(r)} predicts {class_names[collapse[0]]} for {collapse[1]:.0%} '
                       'of the validation clips (a collapsed model).')
  if [r.approach.name for r in ranked] == [r.approach.name for r in scored]:
    text.append('The approaches rank as the research project reports'
                + (f', but {noise_text}' if close else '.'))
    return ' '.join(text + collapses)
  text.append('The ranking differs from the research project\'s:')
  text += [f'{short(a)} does not beat {short(b)} ({a.scores.accuracy:.3f} vs '
           f'{b.scores.accuracy:.3f}).' for a, b in pairs
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
  if close:
    text.append(noise_text[0].upper() + noise_text[1:])
  return ' '.join(text)
