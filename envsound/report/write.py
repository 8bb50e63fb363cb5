"""Writes a pipeline run's results report: ``report.md`` and its PNG plots, atomically.

:func:`write_report` reads ML Metadata for the latest artifacts of each approach's components
and of the balanced set's reference, and writes the research project's Results table on the
data actually used, the quality gate's decisions, the ranking, per-environment metrics
(average precision from each evaluated model's probabilities on its eval split), confusion
matrices and training curves into one folder. An approach whose components did not run is
listed as missing. A run of a multi-label target (``--target audioset``) gets the tagging
report instead (tagging.py: mAP, mean AUC and d' beside the published figures).
"""

import pathlib
from typing import List, Optional, Sequence

from envsound.core import approaches as approaches_lib
from envsound.core.atomic import atomic_dir
from envsound.core import targets
from envsound.core.taxonomy import load_taxonomy
from envsound.report import markdown, plots, precision, ranking, runs, separation_text, tagging
from envsound.report import reference as reference_lib
from envsound.report.scores import Scores

REPORT_FILE = 'report.md'


def _separation_lines(results) -> List[str]:
  if not any(r.separation for r in results):
    return ['## Separation', '', 'No model recorded separation figures (a Trainer that exports '
            'a map writes them to separation.json beside history.json).', '']
  return ['## Separation', '',
          'How well the classes sit apart among each model\'s validation reference clips '
          '(core.separation): the share of each clip\'s 10 nearest neighbours with its '
          'environment (labels shuffled at random would score the chance figure), the '
          'silhouette by environment, and the dense groups HDBSCAN finds without labels; '
          'in the model\'s embedding space (penultimate layer) and on its exported 2-D map.',
          '', separation_text.separation_table(results), '',
          separation_text.separation_ranking(results), '']


def render(record: runs.RunRecord, reference: Optional[Scores], reference_note: str,
           class_names: Sequence[str], pipeline_root: str,
           ap_problems: Sequence[str] = ()) -> str:
  """The report's markdown text (plots are referred to by file name); ``ap_problems`` name
  the models whose average precision could not be scored."""
  results = record.results
  balanced = record.references.get(approaches_lib.BALANCED)
  ref_clips = ((balanced.train_clips, balanced.eval_clips) if balanced is not None
               else (None, None))
  data_roots = sorted({str(s['input_base']) for s in record.settings.values()
                       if s.get('input_base')})
  big = record.examples.get(approaches_lib.WITH_UNBALANCED)
  big_settings = record.settings.get(approaches_lib.WITH_UNBALANCED, {})
  capped = None if big is None else bool(runs.custom_property(big, 'clips_train_over_cap', 0))
  where = [f'Pipeline root: `{pipeline_root}`']
  if data_roots:
    where.append('Data: ' + ', '.join(f'`{d}`' for d in data_roots))
  lines = [
      '# envsound results', '', '  \n'.join(where), '', '## Results', '',
      'The research project\'s Results table, reproduced on the data this run used. '
      'Validation clips are the eval split of each training set\'s ExampleGen. Accuracy, '
      'macro-F1 and the per-environment metrics score each model\'s top class (the '
      'Evaluator\'s confusion matrix); macro-F1 is the unweighted mean of the '
      'per-environment F1 scores. "Evaluator macro-F1" is TFMA\'s own: it binarises each '
      'class one-vs-rest at probability 0.5, so a model whose top probabilities stay below '
      '0.5 scores 0 there. "Mean AP" is the mean over environments of each environment\'s '
      'one-vs-rest average precision of the model\'s probabilities on the same validation '
      'clips (the evaluated SavedModel run over its ExampleGen\'s eval split).', '',
      markdown.results_table(results, reference, ref_clips), '',
      *([f'- {p}' for p in ap_problems] + [''] if ap_problems else []),
      reference_lib.DESCRIPTION + (f' {reference_note}' if reference_note else ''), '',
      *markdown.reference_lines(results, reference), '',
      '## Ranking', '',
      ranking.ranking_text(results, class_names, big_settings.get('max_train_clips'), capped), '',
      *_separation_lines(results),
      '## Per-environment metrics', '']
  scores = {r.approach.name: r.scores for r in results if r.scores is not None}
  if reference is not None:
    scores['reference'] = reference
  lines += [markdown.per_class_tables(class_names, scores) if scores
            else 'No model was evaluated.', '',
            '## Confusion matrices and training curves', '',
            'Rows: true environment; columns: predicted (top class). Curves: loss and '
            'accuracy per epoch, training vs validation (from the Trainer\'s history.json).', '']
  for r in results:
    lines += [f'### {r.approach.title}', '']
    if r.scores is not None:
      lines.append(f'![confusion matrix of {r.approach.name}](confusion_{r.approach.name}.png)')
    if r.history is not None:
      lines.append(f'![training curves of {r.approach.name}](training_{r.approach.name}.png)')
    if r.scores is None or r.history is None:
      lines.append(f'Missing: {", ".join(r.missing)} did not run.')
    lines.append('')
  if reference is not None:
    lines += ['### Reference', '',
              '![confusion matrix of the reference](confusion_reference.png)', '']
  logged = [r for r in results if r.model_run]
  lines += ['## TensorBoard', '']
  if logged:
    spec = ','.join(f'{r.approach.name}:{r.model_run}' for r in logged)
    lines += ['This run\'s training logs:', '', '```',
              f'tensorboard --logdir_spec {spec}', '```', '',
              f'Every run under the pipeline root: `tensorboard --logdir {pipeline_root}`', '']
  else:
    lines += ['No Trainer logs were found.', '']
  return '\n'.join(lines)


def write_report(pipeline_root: str, metadata_path: str, out_dir) -> pathlib.Path:
  """Writes ``report.md`` and its plots into ``out_dir`` (replaced as a whole).

  Args:
    pipeline_root: the run's pipeline root (only artifacts under it are read).
    metadata_path: the run's ML Metadata SQLite file.
    out_dir: the report folder.

  Returns:
    The pathlib.Path of ``report.md``.
  """
  class_names = list(load_taxonomy().names)
  record = runs.collect(pipeline_root, metadata_path, len(class_names))
  trained = next((r.history for r in record.results if r.history), None)
  if trained and trained.get('class_names'):
    class_names = list(trained['class_names'])
  if targets.by_name(record.target).multi_label:
    return _write_tagging(record, class_names, pipeline_root, out_dir)
  ap_problems = precision.add_average_precision(record, class_names)
  reference, note = None, ''
  balanced = record.references.get(approaches_lib.BALANCED)
  if balanced is None:
    note = 'It is missing: the balanced set\'s Reference component did not run.'
  else:
    reference = reference_lib.reference_scores(balanced)
    note = f'Cross-validation chose C = {balanced.c:g}.'
  with atomic_dir(out_dir, overwrite=True) as tmp:
    for r in record.results:
      if r.scores is not None:
        plots.plot_confusion(r.scores.confusion, class_names,
                             tmp / f'confusion_{r.approach.name}.png',
                             f'{r.approach.title}\naccuracy {r.scores.accuracy:.3f}')
      if r.history is not None:
        plots.plot_history(r.history['history'], tmp / f'training_{r.approach.name}.png',
                           r.approach.title)
    if reference is not None:
      plots.plot_confusion(reference.confusion, class_names, tmp / 'confusion_reference.png',
                           f'{reference_lib.REFERENCE_TITLE}\naccuracy {reference.accuracy:.3f}')
    (tmp / REPORT_FILE).write_text(
        render(record, reference, note, class_names, pipeline_root, ap_problems),
        encoding='utf-8')
  return pathlib.Path(out_dir) / REPORT_FILE


def _write_tagging(record: runs.RunRecord, class_names: Sequence[str], pipeline_root: str,
                   out_dir) -> pathlib.Path:
  """The tagging report of a multi-label run, and its training curves."""
  with atomic_dir(out_dir, overwrite=True) as tmp:
    for r in record.results:
      if r.history is not None:
        plots.plot_history(r.history['history'], tmp / f'training_{r.approach.name}.png',
                           r.approach.title, metrics=('loss', 'pr_auc'))
    (tmp / REPORT_FILE).write_text(tagging.render(record, class_names, pipeline_root),
                                   encoding='utf-8')
  return pathlib.Path(out_dir) / REPORT_FILE
