"""The report of a multi-label (``--target audioset``) run: AudioSet tagging as the literature
scores it, beside the published figures.

Each approach's figures are its TaggingEvaluator's (``tagging.json``: the exported model run
over its ExampleGen's eval split), each training set's reference and label prior its
Reference component's (components/tagging_reference.py).
"""

from typing import List, Sequence

from envsound.core import approaches as approaches_lib
from envsound.report.markdown import GOAL_MARGIN, fmt, label, markdown_table
from envsound.report.runs import RunRecord

# mAP on Google's full release (2M-clip unbalanced training set, 20,371-clip eval split).
PUBLISHED = (
    ('Hershey et al. 2017: Google\'s baseline on the released embeddings', 0.314),
    ('Kong et al. 2018: decision-level attention', 0.327),
    ('Multi-level attention (Yu et al. 2018), as tabulated by Kong et al. 2019', 0.360),
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
    'floor: its AP is the class\'s share of the eval clips). The published figures were '
    'measured on Google\'s full release (about 2 million training clips, 20,371 eval '
    'clips); this run\'s figures are comparable with them only on that release.')


def _rows(record: RunRecord) -> List[List[str]]:
  rows = []
  for r in record.results:
    head = [r.approach.title, r.approach.training_set, fmt(r.train_clips), fmt(r.eval_clips)]
    if not r.tagging:
      rows.append(head + ['n/a'] * 5 + [f'missing: {", ".join(r.missing)} did not run'])
      continue
    ref = record.references.get(r.approach.training_set)
    delta = ('n/a' if ref is None else
             f'{r.tagging["mean_average_precision"] - ref.mean_average_precision:+.3f}')
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


def results_table(record: RunRecord) -> str:
  """Approaches, references and the published figures: mAP, mean AUC, d'."""
  return markdown_table(
      ['Model', 'Training set', 'Training clips', 'Eval clips', 'mAP', 'Mean AUC', "d'",
       'Δ mAP vs reference', 'Classes in mAP', 'Blessed / pushed'],
      _rows(record), numeric=[False, False] + [True] * 7 + [False])


def gate_lines(record: RunRecord) -> List[str]:
  """One line per approach: its difference to its training set's reference and the gate."""
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
    lines.append(f'- {label(r.approach)}: mAP {diff:+.3f} against the reference, '
                 f'{r.tagging["mean_average_precision"] - ref.prior_map:+.3f} against the label '
                 f'prior ({r.tagging["clips"]:,} eval clips; no standard error is computed for '
                 f'mAP); it {goal} the goal (reference + {GOAL_MARGIN:.2f}).{gate}')
  return lines


def render(record: RunRecord, class_names: Sequence[str], pipeline_root: str) -> str:
  """The report's markdown text (training curves referred to by file name)."""
  c = next((ref.c for ref in record.references.values()), 0.0)
  lines = ['# envsound results: AudioSet tagging', '', f'Pipeline root: `{pipeline_root}`', '',
           '## Results', '', DESCRIPTION.format(classes=len(class_names), c=c), '',
           results_table(record), '', *gate_lines(record), '',
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
