"""What one pipeline component did, read from ML Metadata: its status and key counts.

:func:`latest` returns the status of a component's last execution (ran, cached, failed) and
one short phrase per output artifact: clips kept and dropped by reason (ingestion), examples
transformed, epochs and validation accuracy (Trainer), the quality gate's decision and
reason, the version pushed.
"""

import dataclasses
import json
import os
from typing import Callable, Dict, List, Optional

RAN, CACHED, FAILED = 'ran', 'cached', 'failed'


@dataclasses.dataclass(frozen=True)
class Outcome:
  """A component's last execution: status and phrases about its outputs."""
  status: str
  details: List[str]


def _props(artifact) -> Dict[str, object]:
  return {k: getattr(v, v.WhichOneof('value')) for k, v in artifact.custom_properties.items()
          if v.WhichOneof('value') in ('int_value', 'double_value', 'string_value')}


def ingestion_counts(props: Dict[str, object]) -> List[str]:
  """'train: kept 162, dropped 138 (unassigned 138)' per split from ``clips_<split>_<reason>``."""
  out = []
  for split in ('train', 'eval'):
    prefix = f'clips_{split}_'
    counts = {k[len(prefix):]: int(v) for k, v in props.items() if k.startswith(prefix)}
    if not counts:
      continue
    kept = counts.pop('kept', 0)
    drops = {k: v for k, v in sorted(counts.items()) if v}
    why = f' ({", ".join(f"{k} {v:,}" for k, v in drops.items())})' if drops else ''
    out.append(f'{split}: kept {kept:,}, dropped {sum(drops.values()):,}{why}')
  return out


def _examples(artifact) -> List[str]:
  props = _props(artifact)
  if any(k.startswith('clips_') for k in props):
    return ingestion_counts(props)
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  splits = json.loads(artifact.properties['split_names'].string_value or '[]')
  counts = []
  for split in splits:
    files = tf.io.gfile.glob(os.path.join(artifact.uri, f'Split-{split}', '*'))
    n = sum(1 for _ in tf.data.TFRecordDataset(files, compression_type='GZIP')) if files else 0
    counts.append(f'{split} {n:,}')
  return [f'examples transformed: {", ".join(counts)}'] if counts else []


def _model_run(artifact) -> List[str]:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  path = os.path.join(artifact.uri, 'history.json')
  if not tf.io.gfile.exists(path):
    return []
  with tf.io.gfile.GFile(path) as f:
    history = json.load(f)['history']
  epochs = len(history.get('loss', []))
  accuracy = history.get('val_accuracy', [])
  pr_auc = history.get('val_pr_auc', [])  # a multi-label target's (heads.py)
  return [f'{epochs} epoch(s)' + (f', validation accuracy {accuracy[-1]:.3f}' if accuracy
                                  else f', validation PR AUC {pr_auc[-1]:.3f}' if pr_auc
                                  else '')]


def _blessing(artifact) -> List[str]:
  """The quality gate's decision and reason; the Evaluator's TFMA thresholds, met or not."""
  props = _props(artifact)
  if not props.get('reason'):  # the Evaluator's: only the quality gate decides what is pushed
    met = props.get('blessed') == 1
    if 'map' in props:  # the tagging Evaluator's
      return [f'mAP {props["map"]:.3f}, ' + ('not below' if met else 'below') +
              ' the last blessed model']
    return ['TFMA thresholds ' + ('met' if met else 'not met')]
  verdict = 'blessed' if props.get('blessed') == 1 else 'not blessed'
  # The reason opens with 'pushed: ' or 'not pushed: ' (for the report); the verdict says it.
  return [f'{verdict}: {props["reason"].split(": ", 1)[-1]}']


def _pushed(artifact) -> List[str]:
  props = _props(artifact)
  if props.get('pushed') != 1:
    return ['not pushed']
  return [f'pushed version {props.get("pushed_version")} to {props.get("pushed_destination")}']


def _reference(artifact) -> List[str]:
  props = _props(artifact)
  if 'map' in props:  # a multi-label target's
    return [f'reference mAP {props["map"]:.3f}, label prior {props.get("prior_map", 0.0):.3f}']
  if 'accuracy' not in props:
    return []
  return [f'reference accuracy {props["accuracy"]:.3f}, majority class '
          f'{props.get("majority_rate", 0.0):.3f}']


_BY_TYPE: Dict[str, Callable] = {'Examples': _examples, 'ModelRun': _model_run,
                                 'ModelBlessing': _blessing, 'PushedModel': _pushed}


def latest(store, pipeline_name: str, node_id: str) -> Optional[Outcome]:
  """The outcome of ``node_id``'s last execution, or None when it has none.

  Args:
    store: an ml_metadata MetadataStore.
    pipeline_name: the pipeline's name (node contexts are '<pipeline>.<node>').
    node_id: the component id.
  """
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
  context = store.get_context_by_type_and_name('node', f'{pipeline_name}.{node_id}')
  executions = store.get_executions_by_context(context.id) if context else []
  if not executions:
    return None
  execution = max(executions, key=lambda e: e.id)
  state = metadata_store_pb2.Execution.State
  status = {state.CACHED: CACHED, state.FAILED: FAILED}.get(execution.last_known_state, RAN)
  events = store.get_events_by_execution_ids([execution.id])
  ids = [e.artifact_id for e in events if e.type == metadata_store_pb2.Event.OUTPUT]
  artifacts = store.get_artifacts_by_id(ids) if ids else []
  types = {t.id: t.name for t in store.get_artifact_types_by_id(
      list({a.type_id for a in artifacts}))} if artifacts else {}
  details = []
  for artifact in sorted(artifacts, key=lambda a: a.id):
    summarize = _BY_TYPE.get(types[artifact.type_id], _reference)
    details += summarize(artifact)
  return Outcome(status, details)
