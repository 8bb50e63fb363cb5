"""The report of a multi-label (``--target audioset``) run: AudioSet tagging as the literature
scores it, beside the published figures.

Each approach's figures are its TaggingEvaluator's (``tagging.json``: the exported model run
over its ExampleGen's eval split), each training set's reference and label prior its
Reference component's (components/tagging_reference.py). Both keep every eval clip's scores
(``eval_scores.npz``), so each approach's mAP difference to its reference comes with the
paired bootstrap standard error (components/tagging_uncertainty.py).
"""

from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from envsound.components import eval_scores, tagging_uncertainty
from envsound.core import approaches as approaches_lib
from envsound.report.markdown import GOAL_MARGIN, fmt, label, markdown_table
from envsound.report.runs import RunRecord

# mAP on Google's full release (2M-clip unbalanced training set, 20,371-clip eval split).
PUBLISHED = (
    ('Hershey et al. 2017: Google\'s baseline on the released embeddings', 0.314),
    ('Kong et al. 2018: decision-level attention', 0.327),
    ('Yu et al. 2018: multi-level attention ("Multi-level attention model for weakly '
     'supervised audio classification")', 0.360),
    ('Kong et al. 2019: feature-level attention', 0.369),
)

DESCRIPTION = (
    'Every approach was trained on AudioSet\'s {classes} classes as multi-label tagging '
    '(sigmoid outputs, binary cross-entropy, multi-hot labels from each clip\'s `labels`) and '
    'scored on the eval split of its training set\'s ExampleGen (every clip with a label), as '
    'Hershey et al. 2017 and Kong et al. 2018/2019 score models: per class, the average '
    'precision and the ROC AUC of the model\'s scores; mAP and mean AUC average them over '
    'the classes that have them (AP: a positive clip; AUC: positives and negatives), and '
    'd\' = sqrt(2) Φ⁻¹(mean AUC). The reference is a one-vs-rest logistic regression '
    '(L2, C = {c:g}) on the standardised mean and standard deviation of each clip\'s '
    'embeddings; the label prior scores every clip by each class\'s training frequency (the '
    'floor: its AP is the class\'s share of the eval clips). Δ mAP is the approach\'s mAP '
    'minus its reference\'s, ± its standard error: the standard deviation of that difference '
    'over {resamples:,} bootstrap resamples of the eval clips, both models scored on the same '
    'resample. The published figures were '
    'measured on Google\'s full release (about 2 million training clips, 20,371 eval '
    'clips); this run\'s figures are comparable with them only on that release.')


Differences = Dict[str, Union[tagging_uncertainty.MapDifference, str]]


def map_differences(record: RunRecord) -> Differences:
  """Approach name -> the paired bootstrap of its mAP minus its training set's reference's,
  or why there is none (approaches without figures or without a reference are left out)."""
  out: Differences = {}
  for r in record.results:
    ref_uri = record.reference_uris.get(r.approach.training_set)
    if not r.tagging or r.approach.training_set not in record.references:
      continue
    model = eval_scores.read(r.evaluation_uri) if r.evaluation_uri else None
    ref = eval_scores.read(ref_uri) if ref_uri else None
    if model is None or ref is None:
      out[r.approach.name] = 'no per-clip eval scores were kept'
    elif model[0].shape != ref[0].shape or not np.array_equal(model[0], ref[0]):
      out[r.approach.name] = 'the model and the reference were scored on different clips'
    else:
      out[r.approach.name] = tagging_uncertainty.paired_map_difference(model[0], model[1],
                                                                       ref[1])
  return out


def _delta(diff: float, uncertainty) -> str:
  if isinstance(uncertainty, tagging_uncertainty.MapDifference):
    return f'{diff:+.3f} ± {uncertainty.standard_error:.3f}'
  return f'{diff:+.3f}'


def _rows(record: RunRecord, differences: Differences) -> List[List[str]]:
  rows = []
  for r in record.results:
    head = [r.approach.title, r.approach.training_set, fmt(r.train_clips), fmt(r.eval_clips)]
    if not r.tagging:
      rows.append(head + ['n/a'] * 5 + [f'missing: {", ".join(r.missing)} did not run'])
      continue
    ref = record.references.get(r.approach.training_set)
    delta = ('n/a' if ref is None else
             _delta(r.tagging['mean_average_precision'] - ref.mean_average_precision,
                    differences.get(r.approach.name)))
    pushed = 'n/a' if r.pushed is None else f'v{r.pushed}' if r.pushed else 'no'
    rows.append(head + [fmt(r.tagging['mean_average_precision']), fmt(r.tagging['mean_auc']),
                        fmt(r.tagging['d_prime']), delta, fmt(r.tagging['ap_classes']),
                        f'{"yes" if r.blessed else "no"} / {pushed}'])
  for training_set in approaches_lib.TRAINING_SETS:
    ref = record.references.get(training_set)
    if ref is None:
      continue
    clips = [training_set, fmt(ref.train_clips), fmt(ref.eval_clips)]
    rows.append([f'Reference: one-vs-rest logistic regression ({ref.fitted_classes} classes '
                 'fitted)', *clips, fmt(ref.mean_average_precision), fmt(ref.mean_auc),
                 fmt(ref.d_prime), '', fmt(ref.ap_classes), ''])
    rows.append(['Label prior (training class frequencies)', *clips, fmt(ref.prior_map),
                 '0.500', '0.000', '', fmt(ref.ap_classes), ''])
  for title, published in PUBLISHED:
    rows.append([f'Published: {title}', 'AudioSet (full)', '', '', fmt(published), '', '',
                 '', '', ''])
  return rows


def results_table(record: RunRecord, differences: Optional[Differences] = None) -> str:
  """Approaches, references and the published figures: mAP, mean AUC, d' (``differences``:
  :func:`map_differences`, computed when not given)."""
  differences = map_differences(record) if differences is None else differences
  return markdown_table(
      ['Model', 'Training set', 'Training clips', 'Eval clips', 'mAP', 'Mean AUC', "d'",
       'Δ mAP vs reference', 'Classes in mAP', 'Blessed / pushed'],
      _rows(record, differences), numeric=[False, False] + [True] * 7 + [False])


def _uncertainty_text(uncertainty, clips: int) -> str:
  if isinstance(uncertainty, tagging_uncertainty.MapDifference):
    where = 'beyond' if uncertainty.beyond_two_se else 'within'
    return (f'standard error {uncertainty.standard_error:.3f} (paired bootstrap, '
            f'{uncertainty.resamples:,} resamples of the {clips:,} eval clips): {where} two '
            'standard errors of 0')
  return f'{clips:,} eval clips; no standard error: {uncertainty}'


def gate_lines(record: RunRecord, differences: Optional[Differences] = None) -> List[str]:
  """One line per approach: its difference to its training set's reference with its
  standard error, and the gate."""
  differences = map_differences(record) if differences is None else differences
  lines = []
  for r in record.results:
    if not r.tagging:
      lines.append(f'- {label(r.approach)}: missing ({", ".join(r.missing)} did not run).')
      continue
    ref = record.references.get(r.approach.training_set)
    gate = f' Quality gate: {r.gate_reason}.' if r.gate_reason else ''
    if ref is None:
      lines.append(f'- {label(r.approach)}: no reference ran.{gate}')
      continue
    diff = r.tagging['mean_average_precision'] - ref.mean_average_precision
    goal = ('meets' if diff >= GOAL_MARGIN else 'misses')
    uncertainty = _uncertainty_text(differences.get(r.approach.name), r.tagging['clips'])
    lines.append(f'- {label(r.approach)}: mAP {diff:+.3f} against the reference ({uncertainty}), '
                 f'{r.tagging["mean_average_precision"] - ref.prior_map:+.3f} against the label '
                 f'prior; it {goal} the goal (reference + {GOAL_MARGIN:.2f}).{gate}')
  return lines


def render(record: RunRecord, class_names: Sequence[str], pipeline_root: str) -> str:
  """The report's markdown text (training curves referred to by file name)."""
  c = next((ref.c for ref in record.references.values()), 0.0)
  differences = map_differences(record)
  lines = ['# envsound results: AudioSet tagging', '', f'Pipeline root: `{pipeline_root}`', '',
           '## Results', '', DESCRIPTION.format(classes=len(class_names), c=c,
                                                resamples=tagging_uncertainty.RESAMPLES), '',
           results_table(record, differences), '', *gate_lines(record, differences), '',
           '## Training curves', '',
           'Loss and the Keras PR AUC (its interpolated mean average precision over classes, '
           'logged per epoch), training vs validation (from the Trainer\'s history.json).', '']
  for r in record.results:
    lines += [f'### {r.approach.title}', '']
    if r.history is not None:
      lines.append(f'![training curves of {r.approach.name}](training_{r.approach.name}.png)')
    else:
      lines.append(f'Missing: {", ".join(r.missing) or "the Trainer"} did not run.')
    lines.append('')
  return '\n'.join(lines)
