"""TF Serving's configuration files: ``model_config_list``, ``batching_parameters`` and
``monitoring_config``.

Both are text protos read with TF Serving's own message definitions, so a file that
``tensorflow_model_server`` accepts is read the same way here (and vice versa).
"""

import dataclasses
from pathlib import Path
from typing import Iterable, Optional, Set, Tuple

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from envsound.core import atomic
from envsound.core.errors import EnvsoundError
from envsound.serving import config_protos

DEFAULT_METRICS_PATH = '/monitoring/prometheus/metrics'
STABLE = 'stable'
CANARY = 'canary'
DEFAULT_LABELS = (STABLE, CANARY)


def read_model_server_config(path) -> model_server_config_pb2.ModelServerConfig:
  """Parses a ``--model_config_file`` (text ModelServerConfig) and checks it.

  Raises:
    EnvsoundError: the file is missing, does not parse, or names a model badly.
  """
  path = Path(path)
  config = config_protos.read_text_proto(path, model_server_config_pb2.ModelServerConfig())
  check_model_server_config(config, path)
  return config


def check_model_server_config(config, where='model config') -> None:
  """Raises EnvsoundError for what tensorflow_model_server would also refuse."""
  if config.WhichOneof('config') != 'model_config_list':
    raise EnvsoundError(f'{where}: only model_config_list is supported')
  names = set()
  for model in config.model_config_list.config:
    if not model.name or model.name in names:
      raise EnvsoundError(f'{where}: model names must be set and unique ({model.name!r})')
    names.add(model.name)
    if model.model_platform not in ('', 'tensorflow'):
      raise EnvsoundError(f'{where}: model {model.name}: only model_platform "tensorflow"')
    if not Path(model.base_path).is_absolute():
      raise EnvsoundError(f'{where}: model {model.name}: base_path {model.base_path!r} '
                          'must be absolute (as TF Serving requires)')


def single_model_config(name: str, base_path) -> model_server_config_pb2.ModelServerConfig:
  """The config ``--model_name`` with ``--model_base_path`` stands for (latest version)."""
  config = model_server_config_pb2.ModelServerConfig()
  model = config.model_config_list.config.add(name=name, model_platform='tensorflow')
  model.base_path = str(Path(base_path).resolve())
  return config


def version_dirs(base_path) -> Set[int]:
  """Versions under ``base_path`` that are complete (``saved_model.pb`` written last)."""
  base = Path(base_path)
  if not base.is_dir():
    return set()
  return {int(p.name) for p in base.iterdir()
          if p.name.isdigit() and (p / 'saved_model.pb').exists()}


def aspired_versions(policy, available: Iterable[int]) -> Set[int]:
  """Applies a FileSystemStoragePathSource ServableVersionPolicy to the versions on disk."""
  available = sorted(set(available))
  kind = policy.WhichOneof('policy_choice')
  if kind == 'all':
    return set(available)
  if kind == 'specific':
    return set(available) & set(policy.specific.versions)
  num = policy.latest.num_versions if kind == 'latest' else 1
  return set(available[-max(num, 1):])


def write_model_config(serving_dir, out_path, labels: bool = True, num_versions: int = 2,
                       base_path_prefix: Optional[str] = None) -> Path:
  """Writes a model_config_list for every model pushed under ``serving_dir``.

  Each ``<serving_dir>/<name>/`` holding at least one complete version becomes a model with
  policy ``latest { num_versions }`` and, with ``labels``, ``stable`` on the older of the
  two newest versions and ``canary`` on the newest (both on it when there is one).

  Args:
    serving_dir: the Pusher's serving root.
    out_path: where to write the text proto.
    labels: add stable/canary version labels.
    num_versions: how many of the newest versions each model keeps loaded.
    base_path_prefix: write ``<prefix>/<name>`` as base_path instead of the absolute local
      path, e.g. ``/models`` for the tensorflow/serving container.

  Returns:
    ``out_path``.

  Raises:
    EnvsoundError: ``serving_dir`` is missing or no model under it has a complete version.
  """
  serving_dir = Path(serving_dir).resolve()
  if not serving_dir.is_dir():
    raise EnvsoundError(f'{serving_dir}: no such serving dir')
  config = model_server_config_pb2.ModelServerConfig()
  for model_dir in sorted(p for p in serving_dir.iterdir() if p.is_dir()):
    versions = sorted(version_dirs(model_dir))
    if not versions:
      continue
    model = config.model_config_list.config.add(name=model_dir.name,
                                                model_platform='tensorflow')
    model.base_path = (f'{base_path_prefix.rstrip("/")}/{model_dir.name}'
                       if base_path_prefix else str(model_dir))
    model.model_version_policy.latest.num_versions = num_versions
    if labels:
      newest = versions[-num_versions:]
      model.version_labels[STABLE] = newest[0] if num_versions > 1 else newest[-1]
      model.version_labels[CANARY] = newest[-1]
  if not config.model_config_list.config:
    raise EnvsoundError(f'{serving_dir}: no <model>/<version>/saved_model.pb to serve')
  with atomic.atomic_file(out_path, 'w') as f:
    f.write(text_format.MessageToString(config))
  return Path(out_path)


# --- batching_parameters -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchingOptions:
  """Server-side batching settings (TF Serving's defaults where the file leaves a field out).

  As in TF Serving, ``max_batch_size`` is the largest batch run at once; with
  ``enable_large_batch_splitting`` it is the largest request accepted instead, and requests
  are split into batches of at most ``max_execution_batch_size`` rows.
  """
  max_batch_size: int = 1000
  batch_timeout_micros: int = 0
  max_enqueued_batches: int = 10
  num_batch_threads: int = 2
  allowed_batch_sizes: Tuple[int, ...] = ()
  enable_large_batch_splitting: bool = False
  max_execution_batch_size: Optional[int] = None

  @property
  def execution_batch_size(self) -> int:
    """The most rows one model call runs."""
    if self.enable_large_batch_splitting and self.max_execution_batch_size:
      return self.max_execution_batch_size
    return self.max_batch_size

  @classmethod
  def from_proto(cls, params) -> 'BatchingOptions':
    kwargs = {f.name: getattr(params, f.name).value for f in dataclasses.fields(cls)
              if f.name != 'allowed_batch_sizes' and params.HasField(f.name)}
    options = cls(allowed_batch_sizes=tuple(params.allowed_batch_sizes), **kwargs)
    options.check()
    return options

  def check(self) -> None:
    """Raises EnvsoundError for settings tensorflow_model_server would refuse."""
    if min(self.max_batch_size, self.num_batch_threads, self.max_enqueued_batches) < 1:
      raise EnvsoundError('max_batch_size, num_batch_threads and max_enqueued_batches '
                          'must be at least 1')
    if self.execution_batch_size > self.max_batch_size or self.execution_batch_size < 1:
      raise EnvsoundError('max_execution_batch_size must be between 1 and max_batch_size')
    sizes = list(self.allowed_batch_sizes)
    if sizes and (sizes != sorted(sizes) or sizes[-1] != self.execution_batch_size):
      raise EnvsoundError('allowed_batch_sizes must increase and end at max_batch_size '
                          '(max_execution_batch_size with enable_large_batch_splitting)')


def read_batching_parameters(path: Optional[str]) -> BatchingOptions:
  """Reads a ``--batching_parameters_file``; TF Serving's defaults when ``path`` is None."""
  if not path:
    return BatchingOptions()
  return BatchingOptions.from_proto(
      config_protos.read_text_proto(path, config_protos.BatchingParameters()))


def read_monitoring_config(path: Optional[str]) -> Optional[str]:
  """Reads a ``--monitoring_config_file``: the Prometheus path it turns on, or None.

  An empty ``path`` in ``prometheus_config`` means TF Serving's default,
  ``/monitoring/prometheus/metrics``.

  Raises:
    EnvsoundError: the file does not parse, or names a path not starting with '/'.
  """
  if not path:
    return None
  prometheus = config_protos.read_text_proto(
      path, config_protos.MonitoringConfig()).prometheus_config
  if not prometheus.enable:
    return None
  url_path = prometheus.path or DEFAULT_METRICS_PATH
  if not url_path.startswith('/'):
    raise EnvsoundError(f'{path}: prometheus_config path {url_path!r} must start with "/"')
  return url_path
