"""What a pipeline run's data stages found: ingestion counts and schema anomalies, from MLMD."""

import json
import os
from typing import List

from envsound.components import audioset_example_gen as example_gen_lib
from envsound.report import runs


def summarize(metadata_path: str) -> List[str]:
  """Returns report lines: clips kept/dropped per training set, anomalies per split.

  Args:
    metadata_path: the run's ML Metadata SQLite file.
  """
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  from tensorflow_metadata.proto.v0 import anomalies_pb2
  store = runs.open_store(metadata_path)
  lines = []
  for component, artifact in sorted(runs.latest_by_component(store, 'Examples').items()):
    path = os.path.join(artifact.uri, example_gen_lib.COUNTS_FILE)
    if not component.startswith('ExampleGen') or not tf.io.gfile.exists(path):
      continue
    with tf.io.gfile.GFile(path) as f:
      counts = json.load(f)
    for split in (example_gen_lib.TRAIN, example_gen_lib.EVAL):
      dropped = ', '.join(f'{k.split("/")[1]} {v}' for k, v in sorted(counts.items())
                          if k.startswith(f'{split}/') and not k.endswith('/kept') and v)
      lines.append(f'{component} {split}: kept {counts.get(f"{split}/kept", 0)} clips'
                   f'{"; dropped " + dropped if dropped else ""}')
  for component, artifact in sorted(runs.latest_by_component(store, 'ExampleAnomalies').items()):
    for split_dir in sorted(tf.io.gfile.listdir(artifact.uri)):
      path = os.path.join(artifact.uri, split_dir, 'SchemaDiff.pb')
      if not tf.io.gfile.exists(path):
        continue
      anomalies = anomalies_pb2.Anomalies.FromString(tf.io.gfile.GFile(path, 'rb').read())
      found = [f'{name}: {info.short_description}' for name, info in
               sorted(anomalies.anomaly_info.items())]
      found += [d.short_description for d in anomalies.dataset_anomaly_info.reason]
      split = split_dir.replace('Split-', '').rstrip('/')
      lines.append(f'{component} {split}: ' +
                   ('no anomalies' if not found else 'ANOMALIES: ' + '; '.join(found)))
  return lines
