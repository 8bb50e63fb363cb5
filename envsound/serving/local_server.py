"""``envsound serve``: a TF Serving-compatible model server for machines without one.

It takes ``tensorflow_model_server``'s flags for what it supports, reads the same
models.config and base paths, and answers TF Serving's gRPC and REST calls (see
docs/serving.md for exactly which).
"""

import argparse
import contextlib
import dataclasses
import logging
import signal
import sys
import threading
from concurrent import futures
from pathlib import Path
from typing import Iterator, Optional, Sequence, Tuple

from envsound.core.errors import EnvsoundError

log = logging.getLogger(__name__)
GRPC_PORT = 8500
REST_PORT = 8501
DEFAULT_HOST = '127.0.0.1'
DEFAULT_MAX_MESSAGE_BYTES = 64 << 20
MAX_RECEIVE = 'grpc.max_receive_message_length'


def _flag_bool(value: str) -> bool:
  if value.lower() in ('1', 'true', 'yes'):
    return True
  if value.lower() in ('0', 'false', 'no'):
    return False
  raise argparse.ArgumentTypeError(f'expected true or false, got {value!r}')


def add_server_flags(parser: argparse.ArgumentParser) -> None:
  """Adds tensorflow_model_server's flag names (``--flag=value`` or ``--flag value``)."""
  add = parser.add_argument
  add('--port', type=int, default=GRPC_PORT, help='gRPC port (default: %(default)s)')
  add('--rest_api_port', type=int, default=REST_PORT,
      help='REST port; 0 turns REST off (default: %(default)s)')
  add('--host', default=DEFAULT_HOST,
      help='address to bind (envsound only; TF Serving binds all; default: %(default)s)')
  add('--model_config_file', help='text ModelServerConfig (model_config_list)')
  add('--model_config_file_poll_wait_seconds', type=int, default=0,
      help='re-read --model_config_file this often; 0: never (default)')
  add('--model_name', default='default', help='model name with --model_base_path')
  add('--model_base_path', help='serve one model from this base path (latest version)')
  add('--enable_batching', type=_flag_bool, nargs='?', const=True, default=False,
      help='batch concurrent requests on the server')
  add('--batching_parameters_file', help='text BatchingParameters')
  add('--file_system_poll_wait_seconds', type=int, default=1,
      help='poll base paths for new versions this often; 0: only at start (default: 1)')
  add('--allow_version_labels_for_unavailable_models', type=_flag_bool, nargs='?',
      const=True, default=False, help='allow labels on versions that are not loaded')
  add('--grpc_max_threads', type=int, default=32, help='gRPC worker threads')
  add('--grpc_channel_arguments', default='',
      help=f'comma-separated gRPC args, e.g. {MAX_RECEIVE}=8388608 (the message size '
           f'limit, also used for REST bodies; default {DEFAULT_MAX_MESSAGE_BYTES})')
  add('--rest_api_timeout_in_ms', type=int, default=30000, help='REST request timeout')


@dataclasses.dataclass
class ServerOptions:
  """What ``envsound serve`` was asked to do (see add_server_flags)."""
  port: int = GRPC_PORT
  rest_api_port: int = REST_PORT
  host: str = DEFAULT_HOST
  model_config_file: Optional[str] = None
  model_config_file_poll_wait_seconds: int = 0
  model_name: str = 'default'
  model_base_path: Optional[str] = None
  enable_batching: bool = False
  batching_parameters_file: Optional[str] = None
  file_system_poll_wait_seconds: int = 1
  allow_version_labels_for_unavailable_models: bool = False
  grpc_max_threads: int = 32
  grpc_channel_arguments: str = ''
  rest_api_timeout_in_ms: int = 30000

  @classmethod
  def from_args(cls, args: argparse.Namespace) -> 'ServerOptions':
    return cls(**{f.name: getattr(args, f.name) for f in dataclasses.fields(cls)})

  def channel_args(self) -> Tuple[Tuple[str, object], ...]:
    """gRPC server options; the receive limit defaults to 64 MiB."""
    args = {}
    for item in filter(None, self.grpc_channel_arguments.split(',')):
      key, _, value = item.partition('=')
      args[key.strip()] = int(value) if value.strip().lstrip('-').isdigit() else value.strip()
    args.setdefault(MAX_RECEIVE, DEFAULT_MAX_MESSAGE_BYTES)
    args.setdefault('grpc.max_send_message_length', -1)
    return tuple(args.items())

  @property
  def max_message_bytes(self) -> int:
    return int(dict(self.channel_args())[MAX_RECEIVE])


def model_server_config(options: ServerOptions):
  """The ModelServerConfig that --model_config_file or --model_base_path stands for."""
  from envsound.serving import model_config  # pylint: disable=import-outside-toplevel
  if bool(options.model_config_file) == bool(options.model_base_path):
    raise EnvsoundError('give exactly one of --model_config_file and --model_base_path')
  if options.model_config_file:
    return model_config.read_model_server_config(options.model_config_file)
  return model_config.single_model_config(options.model_name, options.model_base_path)


class ModelServer:
  """The gRPC (and REST) server around a ModelManager; start() loads the models first."""

  def __init__(self, options: ServerOptions):
    self.options = options
    self.manager = None
    self.grpc_port: Optional[int] = None
    self.rest_port: Optional[int] = None
    self._grpc = None
    self._rest = None
    self._stop = threading.Event()
    self._config_thread: Optional[threading.Thread] = None

  def start(self) -> 'ModelServer':
    """Loads every configured model, then opens the ports."""
    import grpc  # pylint: disable=import-outside-toplevel
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc  # pylint: disable=import-outside-toplevel
    from envsound.serving import grpc_services, model_config  # pylint: disable=import-outside-toplevel
    from envsound.serving.model_manager import ModelManager  # pylint: disable=import-outside-toplevel
    opts = self.options
    batching = (model_config.read_batching_parameters(opts.batching_parameters_file)
                if opts.enable_batching else None)
    self.manager = ModelManager(model_server_config(opts), batching,
                                opts.allow_version_labels_for_unavailable_models)
    self.manager.start_polling(opts.file_system_poll_wait_seconds)
    self._grpc = grpc.server(futures.ThreadPoolExecutor(opts.grpc_max_threads),
                             options=opts.channel_args(),
                             maximum_concurrent_rpcs=opts.grpc_max_threads * 4)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        grpc_services.PredictionService(self.manager), self._grpc)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        grpc_services.ModelService(self.manager), self._grpc)
    try:
      self.grpc_port = self._grpc.add_insecure_port(f'{_bracket(opts.host)}:{opts.port}')
    except RuntimeError:
      self.grpc_port = 0
    if not self.grpc_port:
      raise EnvsoundError(f'cannot bind gRPC to {opts.host}:{opts.port} (port in use?)')
    self._grpc.start()
    print(f'Running gRPC ModelServer at {opts.host}:{self.grpc_port} ...', flush=True)
    if opts.rest_api_port:
      from envsound.serving import rest  # pylint: disable=import-outside-toplevel
      self._rest = rest.RestServer(self.manager, opts.host, opts.rest_api_port,
                                   opts.max_message_bytes, opts.rest_api_timeout_in_ms / 1e3)
      self.rest_port = self._rest.start()
      print(f'Exporting HTTP/REST API at:{opts.host}:{self.rest_port} ...', flush=True)
    if opts.model_config_file and opts.model_config_file_poll_wait_seconds > 0:
      self._config_thread = threading.Thread(target=self._poll_config, daemon=True)
      self._config_thread.start()
    return self

  def _poll_config(self) -> None:
    from envsound.serving import model_config  # pylint: disable=import-outside-toplevel
    last = None
    while not self._stop.wait(self.options.model_config_file_poll_wait_seconds):
      try:
        text = Path(self.options.model_config_file).read_text()
        if text != last:
          if last is not None:
            self.manager.reload_config(
                model_config.read_model_server_config(self.options.model_config_file))
          last = text
      except (OSError, EnvsoundError) as e:
        log.error('reloading %s failed: %s', self.options.model_config_file, e)

  def wait(self) -> None:
    """Blocks until stop() (or Ctrl-C)."""
    self._stop.wait()

  def stop(self, grace_s: float = 2.0) -> None:
    """Stops accepting requests, lets in-flight ones finish, unloads the models."""
    self._stop.set()
    if self._rest:
      self._rest.stop()
    if self._grpc:
      self._grpc.stop(grace_s).wait()
    if self.manager:
      self.manager.stop()


def _bracket(host: str) -> str:
  return f'[{host}]' if ':' in host and not host.startswith('[') else host


def _interrupt(signum, frame):  # pylint: disable=unused-argument
  raise KeyboardInterrupt


@contextlib.contextmanager
def stopped_on_interrupt(server: ModelServer) -> Iterator[ModelServer]:
  """Stops ``server`` when the block ends, also on Ctrl-C or SIGTERM (kill, docker stop,
  systemd), which end the block like Ctrl-C: requests finish, models unload."""
  previous = (signal.signal(signal.SIGTERM, _interrupt)
              if threading.current_thread() is threading.main_thread() else None)
  try:
    yield server
  except KeyboardInterrupt:
    pass
  finally:
    server.stop()
    if previous is not None:
      signal.signal(signal.SIGTERM, previous)


def serve(options: ServerOptions) -> int:
  """Runs the server until interrupted (Ctrl-C or SIGTERM); returns the exit status."""
  with stopped_on_interrupt(ModelServer(options)) as server:
    server.start()
    server.wait()
  return 0


def serve_pushed_models(serving_dir, port: int = GRPC_PORT, rest_api_port: int = REST_PORT,
                        host: str = DEFAULT_HOST, enable_batching: bool = True,
                        batching_parameters_file: Optional[str] = None) -> ModelServer:
  """Starts a server for every model the Pusher wrote under ``serving_dir``.

  Writes ``<serving_dir>/models.config`` (absolute base paths, stable/canary labels) first,
  so the same file can be handed to tensorflow_model_server. Call ``.wait()`` to block and
  ``.stop()`` to end it.
  """
  from envsound.serving import model_config  # pylint: disable=import-outside-toplevel
  config_path = model_config.write_model_config(serving_dir,
                                                Path(serving_dir) / 'models.config')
  default_batching = Path(__file__).parent / 'config' / 'batching_parameters.pbtxt'
  options = ServerOptions(
      port=port, rest_api_port=rest_api_port, host=host, model_config_file=str(config_path),
      enable_batching=enable_batching,
      batching_parameters_file=batching_parameters_file or str(default_batching))
  return ModelServer(options).start()


def usage_text(server: ModelServer, models: Sequence[str] = ()) -> str:
  """What to print once the server runs: how to query it and open the desktop client."""
  host = server.options.host
  models = list(models) or server.manager.model_names()
  first = models[0] if models else 'MODEL'
  lines = [f'Serving {", ".join(models)} (gRPC {host}:{server.grpc_port}'
           + (f', REST {host}:{server.rest_port}' if server.rest_port else '') + ').',
           'Query it:',
           f'  envsound predict --server {host}:{server.grpc_port} --model {first} clip.npy']
  if server.rest_port:
    lines += [f'  curl http://{host}:{server.rest_port}/v1/models/{first}',
              f'  curl http://{host}:{server.rest_port}/v1/models/{first}/metadata']
  lines += ['Open the desktop client:',
            f'  envsound gui --server {host}:{server.grpc_port} --model {first}',
            'Press Ctrl-C to stop the server.']
  return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
  """``python -m envsound.serving.local_server`` with tensorflow_model_server's flags."""
  parser = argparse.ArgumentParser(prog='envsound serve')
  add_server_flags(parser)
  args = parser.parse_args(argv)
  logging.basicConfig(level=logging.INFO, format='%(levelname)s %(name)s: %(message)s')
  try:
    return serve(ServerOptions.from_args(args))
  except EnvsoundError as e:
    print(f'envsound serve: error: {e}', file=sys.stderr)
    return 1


if __name__ == '__main__':
  sys.exit(main())
