"""``envsound serve``'s options: tensorflow_model_server's flag names and what they ask for."""

import argparse
import dataclasses
from pathlib import Path
from typing import Optional, Tuple

from envsound.core.errors import EnvsoundError

GRPC_PORT = 8500
REST_PORT = 8501
DEFAULT_HOST = '127.0.0.1'
DEFAULT_MAX_MESSAGE_BYTES = 64 << 20
MAX_RECEIVE = 'grpc.max_receive_message_length'
# The batching parameters envsound's own configs and the demo use.
BATCHING_PARAMETERS_FILE = Path(__file__).parent / 'config' / 'batching_parameters.pbtxt'


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
  add('--monitoring_config_file',
      help='text MonitoringConfig; prometheus_config { enable: true } serves Prometheus '
           'metrics on the REST port (default path /monitoring/prometheus/metrics)')


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
  monitoring_config_file: Optional[str] = None

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
