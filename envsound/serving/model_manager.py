"""Which model versions are loaded: polling base paths, version policies and labels.

Like TF Serving's ServerCore with a FileSystemStoragePathSource and the
availability-preserving policy: a version folder counts once its ``saved_model.pb`` exists;
new aspired versions load (and warm up) before old ones unload, so requests never find a
model without a servable version; a version that fails to load is reported END with its
error and is not retried until its ``saved_model.pb`` changes, and the others keep serving.
"""

import dataclasses
import logging
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional

from tensorflow_serving.apis import get_model_status_pb2

from envsound.core.errors import EnvsoundError
from envsound.serving import metrics, model_config, server_errors
from envsound.serving.model_config import BatchingOptions
from envsound.serving.servable import Servable

log = logging.getLogger(__name__)
State = get_model_status_pb2.ModelVersionStatus.State


@dataclasses.dataclass
class Version:
  """One version folder of one model and what the server made of it."""
  number: int
  state: int = State.START
  servable: Optional[Servable] = None
  error: Optional[str] = None
  stamp: float = 0.0  # saved_model.pb's mtime when the load was tried


class _Model:

  def __init__(self, config):
    self.config = config
    self.versions: Dict[int, Version] = {}

  @property
  def name(self) -> str:
    return self.config.name


class ModelManager:
  """Loads and unloads versions of the configured models; resolves requests to servables.

  Args:
    config: a ModelServerConfig (model_config_list).
    batching_options: per-signature batching for every servable; None turns it off.
    allow_unavailable_labels: accept labels naming versions that are not loaded
      (TF Serving's --allow_version_labels_for_unavailable_models).
    server_metrics: where loads, unloads and batching figures go.
    on_change: called with ``availability()`` after each round of loads and unloads (e.g. to
      update health).
  """

  def __init__(self, config, batching_options: Optional[BatchingOptions] = None,
               allow_unavailable_labels: bool = False,
               server_metrics: metrics.Metrics = metrics.NO_METRICS,
               on_change: Callable[[Dict[str, bool]], None] = lambda availability: None):
    self._batching = batching_options
    self._allow_unavailable_labels = allow_unavailable_labels
    self._metrics = server_metrics
    self._on_change = on_change
    self._lock = threading.RLock()
    self._poll_lock = threading.Lock()  # one poll (load/unload round) at a time
    self._models: Dict[str, _Model] = {}
    self._stop = threading.Event()
    self._thread: Optional[threading.Thread] = None
    self.reload_config(config)

  # --- configuration -----------------------------------------------------------------

  def reload_config(self, config) -> None:
    """Switches to ``config``: loads what it adds, unloads models it drops, checks labels.

    Raises:
      EnvsoundError: the config is invalid or a label names a version that is not loaded.
    """
    model_config.check_model_server_config(config)
    with self._poll_lock:
      with self._lock:
        new = {}
        for cfg in config.model_config_list.config:
          model = self._models.get(cfg.name) or _Model(cfg)
          model.config = cfg
          new[cfg.name] = model
        dropped = [m for name, m in self._models.items() if name not in new]
        self._models = new
      for model in dropped:
        for version in list(model.versions.values()):
          self._unload(model, version)
      self._poll_locked()
      self._check_labels()

  def _check_labels(self) -> None:
    if self._allow_unavailable_labels:
      return
    with self._lock:
      for model in self._models.values():
        for label, number in model.config.version_labels.items():
          version = model.versions.get(number)
          if not version or version.state != State.AVAILABLE:
            raise EnvsoundError(
                f'model {model.name}: label {label!r} names version {number}, which is not '
                'loaded (pass --allow_version_labels_for_unavailable_models to allow it)')

  # --- polling -------------------------------------------------------------------------

  def start_polling(self, wait_s: float) -> None:
    """Polls the base paths every ``wait_s`` seconds in a thread (none when ``wait_s`` <= 0)."""
    if wait_s <= 0:
      return
    def loop():
      while not self._stop.wait(wait_s):
        self.poll()
    self._thread = threading.Thread(target=loop, name='poll-base-paths', daemon=True)
    self._thread.start()

  def poll(self) -> None:
    """One round: load newly aspired versions, then unload those no longer aspired."""
    with self._poll_lock:
      self._poll_locked()

  def _poll_locked(self) -> None:
    with self._lock:
      models = list(self._models.values())
    for model in models:
      try:
        self._poll_model(model)
      except Exception:  # pylint: disable=broad-except
        log.exception('polling %s failed', model.name)
    self._on_change(self.availability())

  def _poll_model(self, model: _Model) -> None:
    base = Path(model.config.base_path)
    on_disk = {n: (base / str(n) / 'saved_model.pb').stat().st_mtime
               for n in model_config.version_dirs(base)}
    while True:  # a failed load lets the policy fall back to the next version
      failed = {n for n, v in model.versions.items()
                if v.error and v.stamp == on_disk.get(n)}
      aspired = model_config.aspired_versions(model.config.model_version_policy,
                                              set(on_disk) - failed)
      todo = [n for n in sorted(aspired, reverse=True)
              if n not in model.versions or model.versions[n].state != State.AVAILABLE]
      if not todo:
        break
      for number in todo:
        self._load(model, number, base / str(number), on_disk[number])
    loaded = {n for n, v in model.versions.items() if v.state == State.AVAILABLE}
    for number in sorted(set(model.versions) - aspired):
      version = model.versions[number]
      if version.error and number in on_disk:
        continue  # keep reporting the failed load
      if version.state == State.AVAILABLE and not (aspired & loaded) and number in on_disk:
        continue  # availability first: never drop the last servable version
      self._unload(model, version)

  def _load(self, model: _Model, number: int, path: Path, stamp: float) -> None:
    version = Version(number, State.LOADING, stamp=stamp)
    with self._lock:
      model.versions[number] = version
    try:
      servable = Servable(model.name, number, path, self._batching, self._metrics)
      warmed = servable.warm_up()
    except Exception as e:  # pylint: disable=broad-except
      message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
      log.error('model %s version %d failed to load: %s', model.name, number, message)
      self._metrics.model_loaded(model.name, number, path, ok=False)
      with self._lock:
        version.state, version.error = State.END, f'{type(e).__name__}: {message}'
      return
    self._metrics.model_loaded(model.name, number, path, ok=True)
    with self._lock:
      version.servable, version.state = servable, State.AVAILABLE
    log.info('model %s version %d AVAILABLE (%d warm-up requests)', model.name, number, warmed)

  def _unload(self, model: _Model, version: Version) -> None:
    with self._lock:
      version.state = State.UNLOADING
      servable, version.servable = version.servable, None
    if servable is not None:
      servable.close()  # queued batches finish; in-flight calls hold their own reference
      self._metrics.model_unloaded(model.name, version.number)
    with self._lock:
      model.versions.pop(version.number, None)
    log.info('model %s version %d unloaded', model.name, version.number)

  def stop(self) -> None:
    """Stops polling and unloads every version."""
    self._stop.set()
    if self._thread:
      self._thread.join()
    with self._poll_lock:
      for model in self._models.values():
        for version in list(model.versions.values()):
          self._unload(model, version)
    self._on_change(self.availability())

  # --- requests ------------------------------------------------------------------------

  def model_names(self) -> List[str]:
    with self._lock:
      return sorted(self._models)

  def availability(self) -> Dict[str, bool]:
    """Model name -> whether a version of it is AVAILABLE."""
    with self._lock:
      return {name: any(v.state == State.AVAILABLE for v in model.versions.values())
              for name, model in self._models.items()}

  def labels(self, name: str) -> Dict[str, int]:
    with self._lock:
      return dict(self._model(name, None).config.version_labels)

  def _model(self, name: str, version: Optional[int]) -> _Model:
    model = self._models.get(name)
    if model is None:
      spec = f'Specific({name}, {version})' if version is not None else f'Latest({name})'
      raise server_errors.not_found(f'Servable not found for request: {spec}')
    return model

  def resolve_version(self, name: str, version: Optional[int] = None,
                      label: Optional[str] = None) -> Optional[int]:
    """Turns a label into its version number (INVALID_ARGUMENT for an unknown label)."""
    if not label:
      return version
    with self._lock:
      labels = self._model(name, None).config.version_labels
      if label not in labels:
        raise server_errors.invalid_argument(f'Unrecognized servable version label: {label}')
      return labels[label]

  def servable(self, name: str, version: Optional[int] = None,
               label: Optional[str] = None) -> Servable:
    """The servable a request for (name, version or label) runs on; the newest by default.

    Raises:
      server_errors.ServingError: NOT_FOUND (unknown model or version), INVALID_ARGUMENT (unknown
        label), UNAVAILABLE (still loading) or FAILED_PRECONDITION (failed to load).
    """
    version = self.resolve_version(name, version, label)
    with self._lock:
      model = self._model(name, version)
      if version is None:
        available = [v for v in model.versions.values() if v.state == State.AVAILABLE]
        if available:
          return max(available, key=lambda v: v.number).servable
        if any(v.state in (State.START, State.LOADING) for v in model.versions.values()):
          raise server_errors.unavailable(f'Model {name} has no version loaded yet')
        raise server_errors.not_found(f'Servable not found for request: Latest({name})')
      entry = model.versions.get(version)
      if entry is None:
        raise server_errors.not_found(
            f'Servable not found for request: Specific({name}, {version})')
      if entry.state == State.AVAILABLE:
        return entry.servable
      if entry.error:
        raise server_errors.failed_precondition(
            f'Model {name} version {version} failed to load: {entry.error}')
      raise server_errors.unavailable(f'Model {name} version {version} is not available '
                                      f'({State.Name(entry.state)})')

  def version_states(self, name: str, version: Optional[int] = None,
                     label: Optional[str] = None) -> List[Version]:
    """Copies of the versions GetModelStatus reports (NOT_FOUND when there are none)."""
    version = self.resolve_version(name, version, label)
    with self._lock:
      model = self._models.get(name)
      if model is None:
        raise server_errors.not_found(f'Could not find any versions of model {name}')
      versions = [dataclasses.replace(v, servable=None) for v in model.versions.values()
                  if version is None or v.number == version]
    if not versions:
      raise server_errors.not_found(f'Could not find version {version} of model {name}'
                                    if version is not None else
                                    f'Could not find any versions of model {name}')
    return sorted(versions, key=lambda v: v.number, reverse=True)
