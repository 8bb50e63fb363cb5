"""Reading ML Metadata: what a pipeline run recorded, for the report, run summaries and benches.

:func:`open_store` opens a run's SQLite store read-only; :func:`latest_by_component` picks
each component's latest artifact of a type; :func:`collect` gathers every approach's latest
ExampleGen counts, Trainer history, Evaluator scores, quality-gate decision and Pusher
result, and each training set's reference (under a multi-label target, the ExampleGen's
``target`` setting, the tagging Evaluator's and Reference's figures instead of TFMA's);
:func:`execution_spans` gives each component's start and end.
"""

import dataclasses
import json
import os
from typing import Dict, List, Optional, Tuple

from envsound.components import audioset_example_gen as example_gen_lib
from envsound.components import quality_gate, tagging_evaluator, tagging_reference, training
from envsound.components.model_map import SEPARATION_FILE
from envsound.components import reference as reference_lib
from envsound.core import approaches as approaches_lib
from envsound.core import targets
from envsound.core.errors import EnvsoundError
from envsound.report import scores as scores_lib
from envsound.report import tfma_results


@dataclasses.dataclass
class ApproachResult:
  """What a run recorded for one approach; None where a component did not run."""
  approach: approaches_lib.Approach
  train_clips: Optional[int] = None
  eval_clips: Optional[int] = None
  scores: Optional[scores_lib.Scores] = None
  history: Optional[dict] = None
  model_run: Optional[str] = None
  blessed: Optional[bool] = None
  pushed: Optional[str] = None  # pushed version, '' when not pushed
  gate_reason: Optional[str] = None  # the quality gate's decision in words
  separation: Optional[dict] = None  # the Trainer's separation.json, when it wrote one
  model_uri: Optional[str] = None  # the evaluated Trainer Model artifact
  tagging: Optional[dict] = None  # a multi-label target's eval figures (tagging.json)
  evaluation_uri: Optional[str] = None  # the Evaluator's ModelEvaluation (its eval_scores.npz)
  missing: List[str] = dataclasses.field(default_factory=list)

  @property
  def epochs(self) -> Optional[int]:
    return len(self.history['history'].get('loss', [])) if self.history else None


@dataclasses.dataclass
class RunRecord:
  """What :func:`collect` found in ML Metadata."""
  results: List[ApproachResult]
  examples: Dict[str, object]  # training set -> ExampleGen Examples artifact
  settings: Dict[str, dict]    # training set -> ExampleGen settings
  references: Dict[str, object]  # training set -> its reference (the target's result type)
  target: str = targets.DEFAULT  # what the run's models learnt (its ExampleGens' setting)
  # training set -> its Reference artifact's folder (a multi-label one's eval_scores.npz)
  reference_uris: Dict[str, str] = dataclasses.field(default_factory=dict)


def open_store(metadata_path: str):
  """The ML Metadata store of a run's SQLite file, read-only.

  Raises:
    EnvsoundError: there is no such file.
  """
  # pylint: disable=import-outside-toplevel
  from ml_metadata import metadata_store
  from ml_metadata.proto import metadata_store_pb2
  if '://' not in metadata_path and not os.path.exists(metadata_path):
    raise EnvsoundError(f'{metadata_path}: no ML Metadata database')
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  return metadata_store.MetadataStore(config)


def _under(uri: str, root: Optional[str]) -> bool:
  if not root:
    return True
  if '://' in root:
    return uri.startswith(root.rstrip('/') + '/')
  return os.path.realpath(uri).startswith(os.path.realpath(root).rstrip(os.sep) + os.sep)


def latest_by_component(store, type_name: str, root: Optional[str] = None
                        ) -> Dict[str, object]:
  """Latest live artifact of a type per producing component (the folder above the key).

  Args:
    store: an ML Metadata store.
    type_name: the artifact type ('Examples', 'Model', ...).
    root: when given, only artifacts under this pipeline root count.
  """
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
  latest = {}
  for artifact in store.get_artifacts_by_type(type_name):
    if artifact.state != metadata_store_pb2.Artifact.LIVE or not _under(artifact.uri, root):
      continue
    component = artifact.uri.rstrip('/').split('/')[-3]
    if component not in latest or artifact.id > latest[component].id:
      latest[component] = artifact
  return latest


def custom_property(item, key: str, default=None):
  """An artifact's or execution's custom property value, or ``default``."""
  if key not in item.custom_properties:
    return default
  value = item.custom_properties[key]
  return getattr(value, value.WhichOneof('value'))


def execution_spans(store) -> Dict[str, Tuple[float, float]]:
  """(start, end) epoch seconds of each execution, by component id."""
  spans = {}
  for execution in store.get_executions():
    node = next((c.name.split('.')[-1] for c in store.get_contexts_by_execution(execution.id)
                 if c.type == 'node'), execution.name)
    spans[node] = (execution.create_time_since_epoch / 1000,
                   execution.last_update_time_since_epoch / 1000)
  return spans


def _example_gen_settings(store, artifact) -> Dict[str, object]:
  """The ExampleGen settings (class_csv, max_train_clips...) and input_base of an artifact."""
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
  events = [e for e in store.get_events_by_artifact_ids([artifact.id])
            if e.type == metadata_store_pb2.Event.OUTPUT]
  if not events:
    return {}
  execution = store.get_executions_by_id([events[0].execution_id])[0]
  custom_config = custom_property(execution, 'custom_config')
  settings = (example_gen_lib.read_settings({'custom_config': custom_config})
              if custom_config else {})
  return {**settings, 'input_base': custom_property(execution, 'input_base')}


def _read_model_run(result: ApproachResult, run) -> bool:
  """Fills ``result.history`` (and ``separation``, if written) from a ModelRun folder;
  False when it holds no history.json."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  history = run and os.path.join(run.uri, training.HISTORY_FILE)
  if not history or not tf.io.gfile.exists(history):
    return False
  with tf.io.gfile.GFile(history) as f:
    result.history, result.model_run = json.load(f), run.uri
  separation = os.path.join(run.uri, SEPARATION_FILE)
  if tf.io.gfile.exists(separation):
    with tf.io.gfile.GFile(separation) as f:
      result.separation = json.load(f)
  return True


def collect(pipeline_root: Optional[str], metadata_path: str,
            num_classes: int) -> RunRecord:
  """Reads each approach's latest artifacts from ML Metadata (artifacts under the root)."""
  store = open_store(metadata_path)
  latest = {t: latest_by_component(store, t, pipeline_root) for t in (
      'Examples', 'Model', 'ModelRun', 'ModelEvaluation', 'ModelBlessing', 'PushedModel',
      quality_gate.Reference.TYPE_NAME)}
  examples, settings, references, reference_uris = {}, {}, {}, {}
  for training_set in approaches_lib.TRAINING_SETS:
    artifact = latest['Examples'].get(f'ExampleGen_{training_set}')
    if artifact is not None:
      examples[training_set] = artifact
      settings[training_set] = _example_gen_settings(store, artifact)
  target = targets.by_name(next((s['target'] for s in settings.values() if 'target' in s),
                                targets.DEFAULT))
  reader = (tagging_reference.TaggingReference if target.multi_label
            else reference_lib.ReferenceResult)
  for training_set in approaches_lib.TRAINING_SETS:
    reference = latest[quality_gate.Reference.TYPE_NAME].get(f'Reference_{training_set}')
    if reference is not None:
      references[training_set] = reader.read(reference.uri)
      reference_uris[training_set] = reference.uri
  results = []
  for approach in approaches_lib.APPROACHES:
    result = ApproachResult(approach)
    results.append(result)
    trainer, evaluator = f'Trainer_{approach.name}', f'Evaluator_{approach.name}'
    data = examples.get(approach.training_set)
    if data is None:
      result.missing.append(f'ExampleGen_{approach.training_set}')
    else:
      result.train_clips = custom_property(data, 'clips_train_kept')
      result.eval_clips = custom_property(data, 'clips_eval_kept')
    if not _read_model_run(result, latest['ModelRun'].get(trainer)):
      result.missing.append(trainer)
    model = latest['Model'].get(trainer)
    blessing = latest['ModelBlessing'].get(evaluator)
    evaluation = latest['ModelEvaluation'].get(evaluator)
    # An evaluation of an older model than the latest one is not this run's.
    if (model is None or blessing is None or evaluation is None
        or custom_property(blessing, 'current_model_id') != model.id):
      result.missing.append(evaluator)
      continue
    if target.multi_label:
      result.tagging = tagging_evaluator.read_scores(evaluation.uri)
      result.evaluation_uri = evaluation.uri
    else:
      result.scores = tfma_results.scores_from_eval_result(
          tfma_results.load_candidate_result(evaluation.uri), num_classes)
    result.model_uri = model.uri
    gate = latest['ModelBlessing'].get(f'QualityGate_{approach.name}')
    if gate is not None and custom_property(gate, 'current_model_id') == model.id:
      blessing = gate  # what the Pusher obeys
      result.gate_reason = custom_property(gate, quality_gate.REASON_KEY)
    result.blessed = bool(custom_property(blessing, quality_gate.BLESSED_KEY, 0))
    pushed = latest['PushedModel'].get(f'Pusher_{approach.name}')
    if pushed is None or pushed.id < blessing.id:
      result.missing.append(f'Pusher_{approach.name}')
    else:
      result.pushed = (custom_property(pushed, 'pushed_version', '')
                       if custom_property(pushed, 'pushed', 0) else '')
  return RunRecord(results, examples, settings, references, target.name, reference_uris)
