"""Runs a Pusher executor directly on a Trainer-style Model folder, the model counted blessed."""

from pathlib import Path

from tfx.components.pusher import executor as tfx_pusher
from tfx.proto import pusher_pb2
from tfx.types import standard_artifacts, standard_component_specs as specs
from tfx.utils import proto_utils

from envsound.components import atomic_pusher


def push(model_uri: Path, base: Path, work: Path, atomic: bool = True):
  """Pushes ``<model_uri>/Format-Serving`` into ``base`` with envsound's AtomicPusher
  executor (or TFX's own Pusher executor when ``atomic`` is False), as the pipeline's
  Pusher does; blessing and PushedModel artifacts live under ``work``.

  Returns:
    The PushedModel artifact (``pushed``, ``pushed_version``, ``pushed_destination``).
  """
  model = standard_artifacts.Model()
  model.uri = str(model_uri)
  blessing = standard_artifacts.ModelBlessing()
  blessing.uri = str(Path(work) / 'blessing')
  blessing.set_int_custom_property('blessed', 1)
  pushed = standard_artifacts.PushedModel()
  pushed.uri = str(Path(work) / 'pushed')
  destination = pusher_pb2.PushDestination(
      filesystem=pusher_pb2.PushDestination.Filesystem(base_directory=str(base)))
  executor = atomic_pusher.Executor() if atomic else tfx_pusher.Executor()
  executor.Do({specs.MODEL_KEY: [model], specs.MODEL_BLESSING_KEY: [blessing]},
              {specs.PUSHED_MODEL_KEY: [pushed]},
              {specs.PUSH_DESTINATION_KEY: proto_utils.proto_to_json(destination)})
  return pushed
