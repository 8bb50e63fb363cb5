"""The results report of a pipeline run: the seed's Results table, on the data actually used.

:func:`write_report` reads ML Metadata for the latest artifacts of each approach's components
(ExampleGen clip counts, Trainer ``history.json``, Evaluator metrics and blessing, Pusher
result), fits a reference model (logistic regression on mean-pooled embeddings), and writes
``report.md`` with PNG plots (confusion matrices, training curves) into one folder, atomically.
An approach whose components did not run is listed as missing.
"""

import dataclasses
import json
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from envsound.core import approaches as approaches_lib
from envsound.components import audioset_example_gen as example_gen_lib
from envsound.core import features

from envsound.components import training

REPORT_FILE = 'report.md'
REFERENCE_TITLE = 'Reference: logistic regression on mean-pooled embeddings'
MACRO_F1 = 'macro_average: true\n_f1_score'  # TFMA's name of the macro-averaged F1
ACCURACY = 'sparse_categorical_accuracy'
# The seed's Results table: approach -> (training set, validation accuracy).
SEED_RESULTS = {'cnn2d': ('500 spectrogram-images', 0.35),
                'cnn1d': ('22k balanced embeddings', 0.41),
                'cnn1d_150k': ('150k balanced + unbalanced', 0.43)}
SEED_ORDER = ('cnn1d_150k', 'cnn1d', 'cnn2d')  # best first, as the seed reports
COLLAPSE_SHARE = 0.9  # a model predicting one class this often has collapsed


@dataclasses.dataclass
class Scores:
  """Validation scores of one model.

  Attributes:
    accuracy: share of clips whose top class is the true environment.
    macro_f1: unweighted mean of the per-class F1 scores (top-1 predictions).
    per_class: [num_classes, 3] recall, precision, F1 of top-1 predictions (NaN where
      undefined).
    confusion: [true, predicted] clip counts.
    evaluator_macro_f1: TFMA's macro-F1 as the Evaluator computes it (one-vs-rest,
      a class predicted when its probability exceeds 0.5); NaN for the reference.
  """
  accuracy: float
  macro_f1: float
  per_class: np.ndarray
  confusion: np.ndarray
  evaluator_macro_f1: float = math.nan


@dataclasses.dataclass
class ApproachResult:
  """What a run recorded for one approach; None where a component did not run."""
  approach: approaches_lib.Approach
  train_clips: Optional[int] = None
  eval_clips: Optional[int] = None
  scores: Optional[Scores] = None
  history: Optional[dict] = None
  model_run: Optional[str] = None
  blessed: Optional[bool] = None
  pushed: Optional[str] = None  # pushed version, '' when not pushed
  missing: List[str] = dataclasses.field(default_factory=list)

  @property
  def epochs(self) -> Optional[int]:
    return len(self.history['history'].get('loss', [])) if self.history else None


# ---------------------------------------------------------------- reference model


def pool_embeddings(frames: np.ndarray, mask: np.ndarray) -> np.ndarray:
  """Mean of each clip's dequantised frames, pad/absent frames masked out.

  Args:
    frames: uint8 [clips, frames, 128] quantised embeddings.
    mask: [clips, frames], true/1 for real frames.

  Returns:
    float32 [clips, 128]; zeros for a clip without frames.
  """
  x = features.dequantize(frames.astype(np.float32))
  mask = mask.astype(np.float32)[..., None]
  return ((x * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)).astype(np.float32)


def read_pooled(examples_uri: str, split: str) -> Tuple[np.ndarray, np.ndarray]:
  """Mean-pooled embeddings and environments of an ExampleGen split (unlabelled dropped)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  files = sorted(tf.io.gfile.glob(os.path.join(examples_uri, f'Split-{split}', '*')))
  if not files:
    raise FileNotFoundError(f'no records in {examples_uri}/Split-{split}')
  compression = 'GZIP' if files[0].endswith('.gz') else ''
  xs, ys = [np.zeros((0, features.EMBEDDING_DIM), np.float32)], [np.zeros(0, np.int64)]
  for batch in tf.data.TFRecordDataset(files, compression_type=compression).batch(1024):
    context, sequence, lengths = tf.io.parse_sequence_example(
        batch,
        context_features={features.ENVIRONMENT_KEY: tf.io.FixedLenFeature(
            [], tf.int64, default_value=-1)},
        sequence_features={features.AUDIO_EMBEDDING_KEY: tf.io.FixedLenSequenceFeature(
            [], tf.string, allow_missing=True)})
    frames = tf.io.decode_raw(sequence[features.AUDIO_EMBEDDING_KEY], tf.uint8,
                              fixed_length=features.EMBEDDING_DIM)
    mask = tf.sequence_mask(lengths[features.AUDIO_EMBEDDING_KEY], tf.shape(frames)[1])
    xs.append(pool_embeddings(frames.numpy(), mask.numpy()))
    ys.append(context[features.ENVIRONMENT_KEY].numpy())
  x, y = np.concatenate(xs), np.concatenate(ys)
  return x[y >= 0], y[y >= 0]


def scores_from_confusion(confusion: np.ndarray,
                          evaluator_macro_f1: float = math.nan) -> Scores:
  """Top-1 scores from a [true, predicted] confusion matrix (NaN where undefined).

  Precision, recall and F1 as scikit-learn's ``zero_division=nan`` defines them; macro-F1
  averages the classes whose F1 is defined.
  """
  confusion = np.asarray(confusion)
  tp = np.diag(confusion).astype(np.float64)
  true, predicted = confusion.sum(axis=1), confusion.sum(axis=0)
  with np.errstate(divide='ignore', invalid='ignore'):
    recall, precision = tp / true, tp / predicted
    f1 = 2 * tp / (true + predicted)
  defined = f1[~np.isnan(f1)]
  return Scores(accuracy=float(tp.sum() / max(confusion.sum(), 1)),
                macro_f1=float(defined.mean()) if defined.size else math.nan,
                per_class=np.stack([recall, precision, f1], axis=1), confusion=confusion,
                evaluator_macro_f1=evaluator_macro_f1)


def scores_from_predictions(y_true: np.ndarray, y_pred: np.ndarray,
                            num_classes: int) -> Scores:
  """Top-1 scores of predicted class indices."""
  from sklearn.metrics import confusion_matrix  # pylint: disable=import-outside-toplevel
  return scores_from_confusion(confusion_matrix(y_true, y_pred,
                                                labels=list(range(num_classes))))


def fit_reference(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray,
                  y_eval: np.ndarray, num_classes: int) -> Scores:
  """Trains the reference (standardised multinomial logistic regression) and scores it.

  Raises:
    ValueError: the training set holds fewer than two classes.
  """
  # pylint: disable=import-outside-toplevel
  from sklearn.linear_model import LogisticRegression
  from sklearn.pipeline import make_pipeline
  from sklearn.preprocessing import StandardScaler
  model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
  model.fit(x_train, y_train)
  return scores_from_predictions(y_eval, model.predict(x_eval), num_classes)


# ---------------------------------------------------------------- evaluator output


def confusion_from_plot(plot: dict, num_classes: int) -> np.ndarray:
  """[true, predicted] counts from TFMA's MultiClassConfusionMatrixPlot (JSON form).

  Proto defaults are omitted in TFMA's JSON: a missing class id is class 0. Entries
  without a prediction (class id -1) are left out.
  """
  matrix = np.zeros((num_classes, num_classes), np.int64)
  matrices = plot.get('multiClassConfusionMatrixAtThresholds', {}).get('matrices', [])
  for entry in (matrices[0].get('entries', []) if matrices else []):
    true, predicted = entry.get('actualClassId', 0), entry.get('predictedClassId', 0)
    if 0 <= true < num_classes and 0 <= predicted < num_classes:
      matrix[true, predicted] += round(entry.get('numWeightedExamples', 0))
  return matrix


def load_candidate_result(uri: str):
  """``tfma.load_eval_result`` of the evaluated (candidate) model.

  With a baseline model TFMA keys metrics and plots by model name, and plots come back
  empty unless the candidate's name is given.
  """
  import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel
  result = tfma.load_eval_result(uri)
  specs = result.config.model_specs if result.config else []
  if len(specs) > 1:
    result = tfma.load_eval_result(uri, model_name=next(s.name for s in specs
                                                        if not s.is_baseline))
  return result


def scores_from_eval_result(result, num_classes: int) -> Scores:
  """Overall-slice scores from ``tfma.load_eval_result``.

  Per-class metrics come from the confusion matrix (top-1 predictions, as accuracy): the
  Evaluator's per-class Recall/Precision/F1 binarise each class at probability 0.5.
  """
  metrics = dict(result.slicing_metrics)[()]['']['']
  value = lambda key: float(metrics.get(key, {}).get('doubleValue', math.nan))
  plot = dict(result.plots).get((), {}).get('', {}).get('', {})
  scores = scores_from_confusion(confusion_from_plot(plot, num_classes), value(MACRO_F1))
  scores.accuracy = value(ACCURACY)  # the Evaluator's own; equal to the matrix's
  return scores


# ---------------------------------------------------------------- ML Metadata


def _under(uri: str, root: Optional[str]) -> bool:
  if not root:
    return True
  if '://' in root:
    return uri.startswith(root.rstrip('/') + '/')
  return os.path.realpath(uri).startswith(os.path.realpath(root).rstrip(os.sep) + os.sep)


def _latest_by_component(store, type_name: str, root: Optional[str]) -> Dict[str, object]:
  """Latest live artifact of a type per producing component (the folder above the key)."""
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
  latest = {}
  for artifact in store.get_artifacts_by_type(type_name):
    if artifact.state != metadata_store_pb2.Artifact.LIVE or not _under(artifact.uri, root):
      continue
    component = artifact.uri.rstrip('/').split('/')[-3]
    if component not in latest or artifact.id > latest[component].id:
      latest[component] = artifact
  return latest


def _property(artifact, key: str, default=None):
  if key not in artifact.custom_properties:
    return default
  value = artifact.custom_properties[key]
  return getattr(value, value.WhichOneof('value'))


def _open_store(metadata_path: str):
  # pylint: disable=import-outside-toplevel
  from ml_metadata import metadata_store
  from ml_metadata.proto import metadata_store_pb2
  from envsound.core.errors import EnvsoundError
  if '://' not in metadata_path and not os.path.exists(metadata_path):
    raise EnvsoundError(f'{metadata_path}: no ML Metadata database')
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  return metadata_store.MetadataStore(config)


def _example_gen_settings(store, artifact) -> Dict[str, object]:
  """The ExampleGen settings (class_csv, max_train_clips...) and input_base of an artifact."""
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
  events = [e for e in store.get_events_by_artifact_ids([artifact.id])
            if e.type == metadata_store_pb2.Event.OUTPUT]
  if not events:
    return {}
  execution = store.get_executions_by_id([events[0].execution_id])[0]
  custom_config = _property(execution, 'custom_config')
  settings = (example_gen_lib.read_settings({'custom_config': custom_config})
              if custom_config else {})
  return {**settings, 'input_base': _property(execution, 'input_base')}


@dataclasses.dataclass
class RunRecord:
  """What :func:`collect` found in ML Metadata."""
  results: List[ApproachResult]
  examples: Dict[str, object]  # training set -> ExampleGen Examples artifact
  settings: Dict[str, dict]    # training set -> ExampleGen settings


def collect(pipeline_root: Optional[str], metadata_path: str,
            num_classes: int) -> RunRecord:
  """Reads each approach's latest artifacts from ML Metadata (artifacts under the root)."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  store = _open_store(metadata_path)
  latest = {t: _latest_by_component(store, t, pipeline_root) for t in (
      'Examples', 'Model', 'ModelRun', 'ModelEvaluation', 'ModelBlessing', 'PushedModel')}
  examples, settings = {}, {}
  for training_set in approaches_lib.TRAINING_SETS:
    artifact = latest['Examples'].get(f'ExampleGen_{training_set}')
    if artifact is not None:
      examples[training_set] = artifact
      settings[training_set] = _example_gen_settings(store, artifact)
  results = []
  for approach in approaches_lib.APPROACHES:
    result = ApproachResult(approach)
    results.append(result)
    trainer, evaluator = f'Trainer_{approach.name}', f'Evaluator_{approach.name}'
    pusher = f'Pusher_{approach.name}'
    data = examples.get(approach.training_set)
    if data is None:
      result.missing.append(f'ExampleGen_{approach.training_set}')
    else:
      result.train_clips = _property(data, 'clips_train_kept')
      result.eval_clips = _property(data, 'clips_eval_kept')
    model, run = latest['Model'].get(trainer), latest['ModelRun'].get(trainer)
    history = run and os.path.join(run.uri, training.HISTORY_FILE)
    if history and tf.io.gfile.exists(history):
      with tf.io.gfile.GFile(history) as f:
        result.history, result.model_run = json.load(f), run.uri
    else:
      result.missing.append(trainer)
    blessing = latest['ModelBlessing'].get(evaluator)
    evaluation = latest['ModelEvaluation'].get(evaluator)
    # An evaluation of an older model than the latest one is not this run's.
    if (model is None or blessing is None or evaluation is None
        or _property(blessing, 'current_model_id') != model.id):
      result.missing.append(evaluator)
    else:
      result.blessed = bool(_property(blessing, 'blessed', 0))
      result.scores = scores_from_eval_result(load_candidate_result(evaluation.uri),
                                              num_classes)
      pushed = latest['PushedModel'].get(pusher)
      if pushed is None or pushed.id < blessing.id:
        result.missing.append(pusher)
      else:
        result.pushed = (_property(pushed, 'pushed_version', '')
                         if _property(pushed, 'pushed', 0) else '')
  return RunRecord(results, examples, settings)


# ---------------------------------------------------------------- plots


def _figure(width: float, height: float):
  """A matplotlib Figure drawn by the Agg backend, without pyplot's global state."""
  # pylint: disable=import-outside-toplevel
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure
  fig = Figure(figsize=(width, height))
  FigureCanvasAgg(fig)
  return fig


def plot_confusion(matrix: np.ndarray, class_names: Sequence[str], path, title: str) -> None:
  """Writes a confusion matrix (rows: true environment, columns: predicted) as a PNG."""
  from sklearn.metrics import ConfusionMatrixDisplay  # pylint: disable=import-outside-toplevel
  fig = _figure(1.0 + 0.6 * len(class_names), 1.2 + 0.55 * len(class_names))
  ax = fig.subplots()
  ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(class_names)).plot(
      ax=ax, cmap='Blues', values_format='d', xticks_rotation=45, colorbar=False)
  for label in ax.get_xticklabels():
    label.set(ha='right', rotation_mode='anchor')
  ax.set_title(title)
  ax.set_xlabel('predicted environment')
  ax.set_ylabel('true environment')
  fig.tight_layout()
  fig.savefig(path, dpi=100)


def plot_history(history: Dict[str, Sequence[float]], path, title: str) -> None:
  """Writes loss and accuracy per epoch, training vs validation, as a PNG."""
  fig = _figure(10, 4)
  for ax, metric in zip(fig.subplots(1, 2), ('loss', 'accuracy')):
    for key, label in ((metric, 'training'), (f'val_{metric}', 'validation')):
      values = history.get(key)
      if values:
        ax.plot(range(1, len(values) + 1), values, marker='o', label=label)
    ax.set_xlabel('epoch')
    ax.set_ylabel(metric)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    if ax.lines:
      ax.legend()
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=100)


# ---------------------------------------------------------------- text


def _fmt(value, digits: int = 3) -> str:
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return 'n/a'
  if isinstance(value, (int, np.integer)):
    return f'{value:,}'
  return f'{value:.{digits}f}'


def _delta(value, reference) -> str:
  if value is None or reference is None or math.isnan(value) or math.isnan(reference):
    return 'n/a'
  return f'{value - reference:+.3f}'


def _label(approach: approaches_lib.Approach) -> str:
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
  """The seed's Results table on this run's data, with deltas against the reference."""
  ref_acc = reference.accuracy if reference else None
  ref_f1 = reference.macro_f1 if reference else None
  rows = []
  for r in results:
    seed = _fmt(SEED_RESULTS[r.approach.name][1], 2) if r.approach.name in SEED_RESULTS else ''
    head = [r.approach.title, r.approach.training_set, _fmt(r.train_clips), _fmt(r.eval_clips)]
    if r.scores is None:
      rows.append(head + ['n/a'] * 5 + [f'missing: {", ".join(r.missing)} did not run', seed])
      continue
    pushed = 'n/a' if r.pushed is None else f'v{r.pushed}' if r.pushed else 'no'
    rows.append(head + [
        _fmt(r.scores.accuracy), _fmt(r.scores.macro_f1), _delta(r.scores.accuracy, ref_acc),
        _delta(r.scores.macro_f1, ref_f1), _fmt(r.scores.evaluator_macro_f1),
        f'{"yes" if r.blessed else "no"} / {pushed}', seed])
  rows.append([REFERENCE_TITLE, approaches_lib.BALANCED, _fmt(reference_clips[0]),
               _fmt(reference_clips[1]), _fmt(ref_acc) if reference else 'missing',
               _fmt(ref_f1), '', '', '', '', ''])
  return markdown_table(
      ['Model', 'Training set', 'Training clips', 'Validation clips', 'Val. acc', 'Macro-F1',
       'Δ acc vs reference', 'Δ macro-F1 vs reference', 'Evaluator macro-F1 (p > 0.5)',
       'Blessed / pushed', 'Seed val. acc'],
      rows, numeric=[False, False] + [True] * 7 + [False, True])


def reference_lines(results: Sequence[ApproachResult], reference: Optional[Scores]) -> List[str]:
  """One line per approach: whether and by how much it beats the reference."""
  lines = []
  for r in results:
    if r.scores is None:
      lines.append(f'- {_label(r.approach)}: missing ({", ".join(r.missing)} did not run).')
      continue
    if reference is None:
      continue
    acc = r.scores.accuracy - reference.accuracy
    f1 = r.scores.macro_f1 - reference.macro_f1
    verdict = ('beats the reference' if acc > 0 and f1 > 0 else
               'beats the reference on accuracy only' if acc > 0 else
               'beats the reference on macro-F1 only' if f1 > 0 else
               'does not beat the reference')
    lines.append(f'- {_label(r.approach)} {verdict}: accuracy {acc:+.3f}, macro-F1 '
                 f'{_delta(r.scores.macro_f1, reference.macro_f1)}.')
  return lines


def per_class_tables(class_names: Sequence[str], scores: Dict[str, Scores]) -> str:
  """Recall, precision and F1 per environment: one table per metric, one column per model."""
  support = next(iter(scores.values())).confusion.sum(axis=1)
  parts = []
  for i, metric in enumerate(('Recall', 'Precision', 'F1')):
    rows = [[name, _fmt(int(support[c])), *(_fmt(float(s.per_class[c, i]))
                                             for s in scores.values())]
            for c, name in enumerate(class_names)]
    parts.append(f'### {metric}\n\n' + markdown_table(
        ['Environment', 'Validation clips', *scores], rows,
        numeric=[False] + [True] * (1 + len(scores))))
  return '\n\n'.join(parts)


def collapsed_class(scores: Scores) -> Optional[Tuple[int, float]]:
  """(class, share) when one predicted class takes at least COLLAPSE_SHARE of the clips."""
  predicted = scores.confusion.sum(axis=0)
  total = predicted.sum()
  if not total or predicted.max() / total < COLLAPSE_SHARE:
    return None
  return int(predicted.argmax()), float(predicted.max() / total)


def _still_rising(values: Sequence[float]) -> bool:
  return len(values) == 1 or values[-1] > max(values[:-1])


def ranking_text(results: Sequence[ApproachResult], class_names: Sequence[str],
                 cap: Optional[int] = None, capped: Optional[bool] = None) -> str:
  """Whether the approaches rank as the seed reports (3 > 2 > 1), and if not, why.

  Args:
    results: every approach's result (missing ones have no scores).
    class_names: environment ids, to name a collapsed model's only class.
    cap: the '150k' set's clip cap; None when unknown.
    capped: whether that cap dropped clips (False: the data ran out first).
  """
  by_name = {r.approach.name: r for r in results}
  short = lambda r: r.approach.title.split(':')[0]
  seed = ' > '.join(f'{short(by_name[n])} ({SEED_RESULTS[n][1]:.2f})' for n in SEED_ORDER)
  scored = [by_name[n] for n in SEED_ORDER if by_name[n].scores is not None]
  if len(scored) < 2:
    return (f'The seed reports {seed}. Fewer than two approaches were evaluated in this run: '
            'there is no ranking to compare.')
  ranked = sorted(scored, key=lambda r: -r.scores.accuracy)
  text = [f'The seed reports {seed}; this run: '
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
    text.append('The approaches rank as the seed reports' + (f', but {noise_text}' if close
                                                              else '.'))
    return ' '.join(text + collapses)
  text.append('The ranking differs from the seed\'s:')
  text += [f'{short(a)} does not beat {short(b)} ({a.scores.accuracy:.3f} vs '
           f'{b.scores.accuracy:.3f}).' for a, b in pairs
           if a.scores.accuracy <= b.scores.accuracy]
  text.append('Training clips: ' + ', '.join(f'{short(r)} {_fmt(r.train_clips)}'
                                             for r in scored)
              + ' (the seed: ' + ', '.join(f'{short(by_name[n])} {SEED_RESULTS[n][0]}'
                                           for n in SEED_ORDER) + ').')
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


def render(record: RunRecord, reference: Optional[Scores], reference_note: str,
           class_names: Sequence[str], pipeline_root: str) -> str:
  """The report's markdown text (plots are referred to by file name)."""
  results = record.results
  balanced = record.examples.get(approaches_lib.BALANCED)
  ref_clips = ((_property(balanced, 'clips_train_kept'), _property(balanced, 'clips_eval_kept'))
               if balanced is not None else (None, None))
  data_roots = sorted({str(s['input_base']) for s in record.settings.values()
                       if s.get('input_base')})
  big = record.examples.get(approaches_lib.WITH_UNBALANCED)
  big_settings = record.settings.get(approaches_lib.WITH_UNBALANCED, {})
  capped = None if big is None else bool(_property(big, 'clips_train_over_cap', 0))
  where = [f'Pipeline root: `{pipeline_root}`']
  if data_roots:
    where.append('Data: ' + ', '.join(f'`{d}`' for d in data_roots))
  lines = [
      '# envsound results', '', '  \n'.join(where), '', '## Results', '',
      'The seed\'s Results table, reproduced on the data this run used. Validation clips are '
      'the eval split of each training set\'s ExampleGen. Accuracy, macro-F1 and the '
      'per-environment metrics score each model\'s top class (the Evaluator\'s confusion '
      'matrix); macro-F1 is the unweighted mean of the per-environment F1 scores. '
      '"Evaluator macro-F1" is TFMA\'s own: it binarises each class one-vs-rest at '
      'probability 0.5, so a model whose top probabilities stay below 0.5 scores 0 there.', '',
      results_table(results, reference, ref_clips), '',
      'The reference is a multinomial logistic regression (scikit-learn, standardised inputs) '
      'on each clip\'s mean dequantised VGGish embedding (pad frames masked out), trained on '
      'the balanced set\'s training split and scored on its validation split.'
      + (f' {reference_note}' if reference_note else ''), '',
      *reference_lines(results, reference), '',
      '## Ranking', '',
      ranking_text(results, class_names, big_settings.get('max_train_clips'), capped), '',
      '## Per-environment metrics', '']
  scores = {r.approach.name: r.scores for r in results if r.scores is not None}
  if reference is not None:
    scores['reference'] = reference
  lines += [per_class_tables(class_names, scores) if scores else 'No model was evaluated.', '',
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
  runs = [r for r in results if r.model_run]
  lines += ['## TensorBoard', '']
  if runs:
    spec = ','.join(f'{r.approach.name}:{r.model_run}' for r in runs)
    lines += ['This run\'s training logs:', '', '```',
              f'tensorboard --logdir_spec {spec}', '```', '',
              f'Every run under the pipeline root: `tensorboard --logdir {pipeline_root}`', '']
  else:
    lines += ['No Trainer logs were found.', '']
  return '\n'.join(lines)


# ---------------------------------------------------------------- entry point


def write_report(pipeline_root: str, metadata_path: str, out_dir):
  """Writes ``report.md`` and its plots into ``out_dir`` (replaced as a whole).

  Args:
    pipeline_root: the run's pipeline root (only artifacts under it are read).
    metadata_path: the run's ML Metadata SQLite file.
    out_dir: the report folder.

  Returns:
    The pathlib.Path of ``report.md``.
  """
  # pylint: disable=import-outside-toplevel
  import pathlib
  from envsound.core.atomic import atomic_dir
  from envsound.core.taxonomy import load_taxonomy
  class_names = list(load_taxonomy().names)
  record = collect(pipeline_root, metadata_path, len(class_names))
  trained = next((r.history for r in record.results if r.history), None)
  if trained and trained.get('class_names'):
    class_names = list(trained['class_names'])
  reference, note = None, ''
  balanced = record.examples.get(approaches_lib.BALANCED)
  if balanced is None:
    note = 'It is missing: the balanced set\'s ExampleGen did not run.'
  else:
    try:
      reference = fit_reference(*read_pooled(balanced.uri, example_gen_lib.TRAIN),
                                *read_pooled(balanced.uri, example_gen_lib.EVAL),
                                len(class_names))
    except (ValueError, FileNotFoundError) as e:
      note = f'It is missing: {e}'
  with atomic_dir(out_dir, overwrite=True) as tmp:
    for r in record.results:
      if r.scores is not None:
        plot_confusion(r.scores.confusion, class_names, tmp / f'confusion_{r.approach.name}.png',
                       f'{r.approach.title}\naccuracy {r.scores.accuracy:.3f}')
      if r.history is not None:
        plot_history(r.history['history'], tmp / f'training_{r.approach.name}.png',
                     r.approach.title)
    if reference is not None:
      plot_confusion(reference.confusion, class_names, tmp / 'confusion_reference.png',
                     f'{REFERENCE_TITLE}\naccuracy {reference.accuracy:.3f}')
    (tmp / REPORT_FILE).write_text(
        render(record, reference, note, class_names, pipeline_root), encoding='utf-8')
  return pathlib.Path(out_dir) / REPORT_FILE
