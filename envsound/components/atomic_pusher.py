"""A Pusher executor that never leaves a half-written model version in the serving base path.

TFX's Pusher copies into ``<base>/<version>/`` directly (``saved_model.pb`` last). This one
lets it copy into ``<base>/.staging/`` (TF Serving ignores names that are not integers),
then renames the finished version into ``<base>/``; leftovers of an interrupted push stay
in ``.staging`` and are cleared by the next push. A model whose files are identical to a
version already in the base path is not pushed again: a re-run whose Trainer was cached
(but whose Evaluator re-ran against the newly blessed baseline) adds no duplicate version.
"""

import hashlib
import os
from typing import Optional

from absl import logging
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

STAGING = '.staging'


class Executor(pusher_executor.Executor):
  """Pushes through a staging folder, then renames the version into place."""

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    destination = pusher_pb2.PushDestination()
    proto_utils.json_to_proto(exec_properties[standard_component_specs.PUSH_DESTINATION_KEY],
                              destination)
    base = destination.filesystem.base_directory
    staging = os.path.join(base, STAGING)
    if fileio.exists(staging):
      fileio.rmtree(staging)
    destination.filesystem.base_directory = staging
    staged = dict(exec_properties)
    staged[standard_component_specs.PUSH_DESTINATION_KEY] = proto_utils.proto_to_json(
        destination)
    super().Do(input_dict, output_dict, staged)

    pushed = artifact_utils.get_single_instance(
        output_dict[standard_component_specs.PUSHED_MODEL_KEY])
    if not pushed.get_int_custom_property('pushed'):
      return
    version = pushed.get_string_custom_property('pushed_version')
    same = _same_version(base, os.path.join(staging, version))
    if same is not None:
      fileio.rmtree(staging)
      pushed.set_string_custom_property('pushed_version', same)
      pushed.set_string_custom_property('pushed_destination', os.path.join(base, same))
      logging.info('Model already served as version %s; nothing pushed.', same)
      return
    final = os.path.join(base, version)
    fileio.makedirs(base)
    fileio.rename(os.path.join(staging, version), final)
    fileio.rmtree(staging)
    pushed.set_string_custom_property('pushed_destination', final)
    logging.info('Model version %s is in place at %s.', version, final)


def _digest(model_dir: str) -> str:
  """A hash of a SavedModel's saved_model.pb and variables (what serving loads)."""
  h = hashlib.sha256()
  for root in (model_dir, os.path.join(model_dir, 'variables')):
    if not fileio.isdir(root):
      continue
    for name in sorted(fileio.listdir(root)):
      path = os.path.join(root, name)
      if name == 'saved_model.pb' or root != model_dir and not fileio.isdir(path):
        h.update(name.encode())
        with fileio.open(path, 'rb') as f:
          h.update(f.read())
  return h.hexdigest()


def _same_version(base: str, staged: str) -> Optional[str]:
  """The version in ``base`` whose model files equal ``staged``'s, if any."""
  if not fileio.isdir(base):
    return None
  digest = None
  for name in sorted(fileio.listdir(base), reverse=True):
    name = name.rstrip('/')
    if not name.isdigit() or not fileio.exists(os.path.join(base, name, 'saved_model.pb')):
      continue
    digest = digest or _digest(staged)
    if _digest(os.path.join(base, name)) == digest:
      return name
  return None
