"""``envsound serve``'s lifecycle: a TF Serving-compatible model server for machines without one.

It takes ``tensorflow_model_server``'s flags for what it supports (envsound/serving/options.py),
reads the same models.config and base paths, and answers TF Serving's gRPC and REST calls (see
docs/serving.md for exactly which).
"""

import logging
import threading
from concurrent import futures
from pathlib import Path
from typing import Optional

import grpc
from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

from envsound.core.errors import EnvsoundError
from envsound.serving import grpc_services, health, metrics, model_config, rest
from envsound.serving.model_manager import ModelManager
from envsound.serving.options import ServerOptions, model_server_config

log = logging.getLogger(__name__)
_SIGNAL_CHECK_S = 0.5  # how often wait() lets the main thread run pending signal handlers


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
    self.health = health.ModelHealth()
    self.metrics: metrics.Metrics = metrics.NO_METRICS
    self._metrics_path: Optional[str] = None

  def _monitoring(self) -> Optional[str]:
    """Turns on the metrics --monitoring_config_file asks for; returns their REST path."""
    path = model_config.read_monitoring_config(self.options.monitoring_config_file)
    if path and not self.options.rest_api_port:
      raise EnvsoundError(f'{self.options.monitoring_config_file}: Prometheus metrics are '
                          'served on the REST port: give --rest_api_port')
    if path:
      self.metrics = metrics.PrometheusMetrics()
    return path

  def load(self) -> 'ModelServer':
    """Loads every configured model (once) without opening a port."""
    if self.manager is not None:
      return self
    opts = self.options
    self._metrics_path = self._monitoring()
    batching = (model_config.read_batching_parameters(opts.batching_parameters_file)
                if opts.enable_batching else None)
    self.manager = ModelManager(model_server_config(opts), batching,
                                opts.allow_version_labels_for_unavailable_models,
                                self.metrics, self.health.update)
    self.manager.start_polling(opts.file_system_poll_wait_seconds)
    return self

  def start(self) -> 'ModelServer':
    """Loads every configured model (unless load() did), then opens the ports."""
    opts = self.options
    self.load()
    self._grpc = grpc.server(futures.ThreadPoolExecutor(opts.grpc_max_threads),
                             options=opts.channel_args(),
                             maximum_concurrent_rpcs=opts.grpc_max_threads * 4)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
        grpc_services.PredictionService(self.manager, self.metrics), self._grpc)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(
        grpc_services.ModelService(self.manager, self.metrics), self._grpc)
    self.health.add_to(self._grpc)
    try:
      self.grpc_port = self._grpc.add_insecure_port(f'{_bracket(opts.host)}:{opts.port}')
    except RuntimeError:
      self.grpc_port = 0
    if not self.grpc_port:
      raise EnvsoundError(f'cannot bind gRPC to {opts.host}:{opts.port} (port in use?)')
    self._grpc.start()
    print(f'Running gRPC ModelServer at {opts.host}:{self.grpc_port} ...', flush=True)
    if opts.rest_api_port:
      self._rest = rest.RestServer(self.manager, opts.host, opts.rest_api_port,
                                   opts.max_message_bytes, opts.rest_api_timeout_in_ms / 1e3,
                                   server_metrics=self.metrics, metrics_path=self._metrics_path)
      self.rest_port = self._rest.start()
      print(f'Exporting HTTP/REST API at:{opts.host}:{self.rest_port} ...', flush=True)
      if self._metrics_path:
        print(f'Prometheus metrics at http://{opts.host}:{self.rest_port}{self._metrics_path}',
              flush=True)
    if opts.model_config_file and opts.model_config_file_poll_wait_seconds > 0:
      self._config_thread = threading.Thread(target=self._poll_config, daemon=True)
      self._config_thread.start()
    return self

  def _poll_config(self) -> None:
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
    """Blocks until stop() (or Ctrl-C).

    Wakes every half second: a signal that the kernel delivers to another thread (gRPC's,
    TensorFlow's) only runs Python's handler once the main thread runs again, so an
    untimed wait could sleep through Ctrl-C.
    """
    while not self._stop.wait(_SIGNAL_CHECK_S):
      pass

  def stop(self, grace_s: float = 2.0) -> None:
    """Stops accepting requests, lets in-flight ones finish, unloads the models."""
    self._stop.set()
    self.health.shutdown()
    if self._rest:
      self._rest.stop()
    if self._grpc:
      self._grpc.stop(grace_s).wait()
    if self.manager:
      self.manager.stop()


def _bracket(host: str) -> str:
  return f'[{host}]' if ':' in host and not host.startswith('[') else host
