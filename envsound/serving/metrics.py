"""Prometheus metrics under TF Serving's exported names (``--monitoring_config_file``).

TF Serving's metric ``/tensorflow/serving/request_count`` is exported to Prometheus as
``:tensorflow:serving:request_count``; the same names are used here, through prometheus_client,
which adds ``_total`` to counters and ``_bucket``/``_sum``/``_count`` to histograms. Latencies
are in microseconds with TF Serving's buckets. docs/serving.md lists every metric.
"""

from typing import Callable

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

CONTENT_TYPE = prometheus_client.exposition.CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes
LATENCY_BUCKETS_US = tuple(10 * 1.8 ** i for i in range(33))  # as TF Serving's request_latency
BATCH_SIZE_BUCKETS = tuple(2 ** i for i in range(11))
_SERVING = ':tensorflow:serving:'
_BATCHING = _SERVING + 'batching_session:'
_REQUEST = ('model_name', 'model_version', 'API', 'entrypoint')
_BATCH = ('model_name', 'model_version', 'signature_name')


class Metrics:
  """What the server reports about itself; this base records nothing (monitoring off)."""

  def request(self, model: str, version: str, api: str, entrypoint: str, status: str,
              seconds: float) -> None:
    """One finished request (any outcome); ``version`` is '' when none was resolved."""

  def batch(self, labels: tuple, request_rows, rows: int, padded_rows: int) -> None:
    """One batch run: the rows of each request in it, its rows before and after padding."""

  def track_queue(self, labels: tuple, queued_rows: Callable[[], int]) -> None:
    """Reports ``queued_rows()`` as the queue depth of a batch scheduler until untracked."""

  def untrack_queue(self, labels: tuple) -> None:
    """Stops reporting a scheduler's queue (its version unloaded)."""

  def model_loaded(self, model: str, version: int, path: str, ok: bool) -> None:
    """One attempt to load a version, successful or not."""

  def model_unloaded(self, model: str, version: int) -> None:
    """One version unloaded."""


NO_METRICS = Metrics()


def batch_labels(model: str, version: int, signature: str) -> tuple:
  """The labels batching metrics carry, in ``batch`` and ``track_queue`` order."""
  return (model, str(version), signature)


class PrometheusMetrics(Metrics):
  """Metrics kept in a registry of their own and rendered in Prometheus' text format."""

  def __init__(self):
    prometheus_client.disable_created_metrics()  # TF Serving exports no *_created series
    self.registry = CollectorRegistry()
    kw = dict(registry=self.registry)
    self._requests = Counter(_SERVING + 'request_count', 'Requests by model, version, API, '
                             'entrypoint (GRPC or REST) and status code.',
                             _REQUEST + ('status',), **kw)
    self._latency = Histogram(_SERVING + 'request_latency', 'Request latency in microseconds.',
                              _REQUEST, buckets=LATENCY_BUCKETS_US, **kw)
    self._input = Histogram(_BATCHING + 'input_batch_size', 'Rows per batched request.',
                            _BATCH, buckets=BATCH_SIZE_BUCKETS, **kw)
    self._processed = Histogram(_BATCHING + 'processed_batch_size',
                                'Rows per model run (padding included).', _BATCH,
                                buckets=BATCH_SIZE_BUCKETS, **kw)
    self._padding = Histogram(_BATCHING + 'padding_size', 'Padding rows per model run.',
                              _BATCH, buckets=BATCH_SIZE_BUCKETS, **kw)
    self._queue = Gauge(_BATCHING + 'queued_rows', 'Rows waiting for a batch thread.', _BATCH,
                        **kw)
    self._loads = Counter(':tensorflow:cc:saved_model:load_attempt_count',
                          'Attempts to load a version (status success or fail).',
                          ('model_name', 'model_path', 'status'), **kw)
    self._unloads = Counter(_SERVING + 'model_unload_count', 'Versions unloaded.',
                            ('model_name',), **kw)

  def request(self, model, version, api, entrypoint, status, seconds):
    self._requests.labels(model, version, api, entrypoint, status).inc()
    self._latency.labels(model, version, api, entrypoint).observe(seconds * 1e6)

  def batch(self, labels, request_rows, rows, padded_rows):
    for n in request_rows:
      self._input.labels(*labels).observe(n)
    self._processed.labels(*labels).observe(padded_rows)
    self._padding.labels(*labels).observe(padded_rows - rows)

  def track_queue(self, labels, queued_rows):
    self._queue.labels(*labels).set_function(queued_rows)

  def untrack_queue(self, labels):
    try:
      self._queue.remove(*labels)
    except KeyError:
      pass

  def model_loaded(self, model, version, path, ok):
    self._loads.labels(model, str(path), 'success' if ok else 'fail').inc()

  def model_unloaded(self, model, version):
    self._unloads.labels(model).inc()

  def exposition(self) -> bytes:
    """Every metric in Prometheus' text exposition format."""
    return prometheus_client.generate_latest(self.registry)
