"""Batch scheduler: merges concurrent requests, isolates bad ones, pushes back when full, and
gives each client of a real exported model exactly its own values."""

import threading
import time
from concurrent import futures

import grpc
import numpy as np
import pytest

from envsound.core import features
from envsound.serving import batching, server_errors, servable
from envsound.serving.model_config import BatchingOptions


class _Model:
  """Doubles its input; records batch sizes; can block until released."""

  def __init__(self, gate=None):
    self.sizes = []
    self.gate = gate
    self.entered = threading.Event()

  def __call__(self, inputs):
    self.entered.set()
    if self.gate:
      self.gate.wait()
    x = inputs['x']
    if (x < 0).any():
      raise server_errors.invalid_argument('negative input')
    self.sizes.append(len(x))
    return {'y': x * 2, 'n': np.full(len(x), len(x))}


def _rows(value, n=1):
  return {'x': np.full((n, 3), value, np.float32)}


def test_concurrent_requests_share_batches_and_get_their_own_rows():
  model = _Model()
  scheduler = batching.BatchScheduler(model, BatchingOptions(
      max_batch_size=8, batch_timeout_micros=200_000, num_batch_threads=1))
  with futures.ThreadPoolExecutor(16) as pool:
    results = list(pool.map(lambda i: scheduler.submit(_rows(i, 1 + i % 2)), range(16)))
  scheduler.close()
  for i, out in enumerate(results):
    np.testing.assert_array_equal(out['y'], np.full((1 + i % 2, 3), 2 * i))
  assert sum(model.sizes) == 24 and max(model.sizes) <= 8
  assert len(model.sizes) < 16  # merged


def test_a_bad_request_fails_alone():
  model = _Model()
  scheduler = batching.BatchScheduler(model, BatchingOptions(
      max_batch_size=8, batch_timeout_micros=200_000, num_batch_threads=1))
  with futures.ThreadPoolExecutor(4) as pool:
    jobs = [pool.submit(scheduler.submit, _rows(v)) for v in (1, -1, 2, 3)]
  scheduler.close()
  with pytest.raises(server_errors.ServingError, match='negative'):
    jobs[1].result()
  assert [j.result()['y'][0, 0] for j in (jobs[0], jobs[2], jobs[3])] == [2, 4, 6]


def test_full_queue_answers_unavailable():
  gate = threading.Event()
  model = _Model(gate)
  scheduler = batching.BatchScheduler(model, BatchingOptions(
      max_batch_size=2, max_enqueued_batches=1, num_batch_threads=1))
  with futures.ThreadPoolExecutor(4) as pool:
    running = pool.submit(scheduler.submit, _rows(1, 2))  # taken by the batch thread, held
    assert model.entered.wait(10)
    queued = pool.submit(scheduler.submit, _rows(2, 2))  # fills the queue (1 batch of 2)
    while scheduler.queued_rows < 2:
      time.sleep(0.01)
    with pytest.raises(server_errors.ServingError, match='full') as error:
      scheduler.submit(_rows(3))
    assert error.value.code == grpc.StatusCode.UNAVAILABLE
    gate.set()
    assert running.result()['y'][0, 0] == 2 and queued.result()['y'][0, 0] == 4
  scheduler.close()


def test_padding_to_allowed_sizes_and_oversize_requests():
  model = _Model()
  scheduler = batching.BatchScheduler(model, BatchingOptions(
      max_batch_size=4, allowed_batch_sizes=(2, 4), num_batch_threads=1))
  out = scheduler.submit(_rows(5, 3))
  assert out['y'].shape == (3, 3) and model.sizes == [4]
  with pytest.raises(server_errors.ServingError, match='Task size 9 is larger') as error:
    scheduler.submit(_rows(1, 9))  # as TF Serving: above max_batch_size without splitting
  assert error.value.code == grpc.StatusCode.INVALID_ARGUMENT and model.sizes == [4]
  scheduler.close()
  assert scheduler.submit(_rows(1))['y'].shape == (1, 3)  # after close: unbatched


def test_large_requests_are_split_into_execution_batches():
  model = _Model()
  options = BatchingOptions(max_batch_size=64, enable_large_batch_splitting=True,
                            max_execution_batch_size=4, batch_timeout_micros=100_000,
                            num_batch_threads=1)
  scheduler = batching.BatchScheduler(model, options)
  x = {'x': np.arange(30, dtype=np.float32).reshape(10, 3)}
  with futures.ThreadPoolExecutor(2) as pool:
    big, small = pool.submit(scheduler.submit, x), pool.submit(scheduler.submit, _rows(7, 1))
    out = big.result()
  np.testing.assert_array_equal(out['y'], x['x'] * 2)  # rows back in order
  assert small.result()['y'][0, 0] == 14
  assert max(model.sizes) <= 4 and sum(model.sizes) == 11
  with pytest.raises(server_errors.ServingError, match='larger than maximum input batch size 64'):
    scheduler.submit(_rows(1, 65))
  scheduler.close()


def test_inputs_must_agree_on_batch_size():
  with pytest.raises(server_errors.ServingError, match='0th-dimension'):
    batching.batch_size_of({'a': np.zeros((2, 1)), 'b': np.zeros((3, 1))})


# --- a real exported model ------------------------------------------------------------

def _real_requests():
  """(signature, inputs) of concurrent clients: both dtypes, 4 or 10 frames, 1 to 19 rows."""
  rng = np.random.default_rng(3)
  requests = []
  for i in range(24):
    rows, frames = (1, 3, 19, 6)[i % 4], (4, 10)[i // 4 % 2]
    clip = rng.integers(0, 256, (rows, frames, features.EMBEDDING_DIM), np.uint8)
    if i % 3:
      requests.append((features.UINT8_SIGNATURE, {features.EMBEDDING_INPUT: clip}))
    else:
      floats = features.dequantize(clip.astype(np.float32))
      requests.append((features.FLOAT_SIGNATURE, {features.EMBEDDING_INPUT: floats}))
  return requests


def test_concurrent_clients_of_a_real_model_get_the_values_of_their_own_unbatched_call(
    serving_dir):
  options = BatchingOptions(max_batch_size=64, enable_large_batch_splitting=True,
                            max_execution_batch_size=8, allowed_batch_sizes=(4, 8),
                            batch_timeout_micros=100_000, num_batch_threads=2,
                            max_enqueued_batches=64)
  model = servable.Servable('cnn1d_balanced', 2, serving_dir / 'cnn1d_balanced' / '2', options)
  requests = _real_requests()
  expected = [model.predict(sig, inputs, batched=False) for sig, inputs in requests]
  firsts = np.array([e[features.PROBABILITIES][0] for e in expected])
  # Every client's values differ from every other's, so a swap of rows would show.
  assert len({tuple(np.round(row, 4)) for row in firsts}) == len(requests)
  start = threading.Barrier(len(requests))
  def client(request):
    start.wait(30)
    return model.predict(*request)
  with futures.ThreadPoolExecutor(len(requests)) as pool:
    results = list(pool.map(client, requests))
  model.close()
  for (signature, inputs), want, got in zip(requests, expected, results):
    assert set(got) == set(want)
    rows = len(inputs[features.EMBEDDING_INPUT])
    for key, value in want.items():
      assert got[key].shape == value.shape and len(value) == rows, (signature, key)
      if value.dtype == object:
        assert got[key].tolist() == value.tolist(), (signature, key)
      else:
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6,
                                   err_msg=f'{signature} {key}')
  used = [model.schedulers[s] for s in (features.UINT8_SIGNATURE, features.FLOAT_SIGNATURE)]
  pieces = sum(-(-len(inputs[features.EMBEDDING_INPUT]) // 8) for _, inputs in requests)
  assert sum(s.tasks for s in used) == pieces  # 19 rows went as pieces of 8, 8 and 3
  assert sum(s.batches for s in used) < pieces  # and requests shared batches
