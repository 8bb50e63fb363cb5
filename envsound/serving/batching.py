"""Server-side batching: concurrent requests to one signature run as one batch.

Like TF Serving's BatchingSession: requests queue per signature; a batch thread takes the
oldest request and whatever else has arrived that fits, up to ``max_batch_size`` rows, waiting
at most ``batch_timeout_micros`` after the oldest request arrived; the inputs are concatenated
along dimension 0 and the outputs split back. A request larger than ``max_batch_size`` is
refused (INVALID_ARGUMENT), unless ``enable_large_batch_splitting`` is on: then it is cut into
pieces of ``max_execution_batch_size`` rows that batch like any other request. A full queue
(``max_enqueued_batches`` batches) answers UNAVAILABLE.
"""

import collections
import threading
import time
from concurrent import futures
from typing import Callable, Dict, List, Optional, Sequence

import grpc
import numpy as np

from envsound.serving import server_errors
from envsound.serving.model_config import BatchingOptions

Tensors = Dict[str, np.ndarray]
# Told after each batch ran: the rows of each request in it, its rows, its rows padded.
BatchObserver = Callable[[Sequence[int], int, int], None]


class _Task:
  __slots__ = ('inputs', 'rows', 'key', 'arrived', 'future')

  def __init__(self, inputs: Tensors, rows: int):
    self.inputs = inputs
    self.rows = rows
    # Only requests whose tensors agree beyond dimension 0 can be concatenated.
    self.key = tuple(sorted((k, v.dtype.str, v.shape[1:]) for k, v in inputs.items()))
    self.arrived = time.monotonic()
    self.future: futures.Future = futures.Future()


def _gather(tasks: List[_Task]) -> futures.Future:
  """One future for the pieces of a split request: their outputs concatenated, in order."""
  if len(tasks) == 1:
    return tasks[0].future
  result: futures.Future = futures.Future()
  pending = [len(tasks)]
  lock = threading.Lock()

  def piece_done(_) -> None:
    with lock:
      pending[0] -= 1
      if pending[0]:
        return
    errors = [t.future.exception() for t in tasks if t.future.exception() is not None]
    if errors:
      result.set_exception(errors[0])
    else:
      parts = [t.future.result() for t in tasks]
      result.set_result({k: np.concatenate([p[k] for p in parts]) for k in parts[0]})

  for task in tasks:
    task.future.add_done_callback(piece_done)
  return result


def batch_size_of(inputs: Tensors) -> int:
  """The shared dimension 0 of ``inputs``; INVALID_ARGUMENT when they disagree."""
  sizes = {v.shape[0] if v.ndim else -1 for v in inputs.values()}
  if len(sizes) != 1 or -1 in sizes:
    raise server_errors.invalid_argument(
        'Batching: input tensors must have equal 0th-dimension size (got '
        + ', '.join(f'{k}: {list(v.shape)}' for k, v in sorted(inputs.items())) + ')')
  return sizes.pop()


class BatchScheduler:
  """Merges concurrent calls of ``run`` (numpy inputs -> numpy outputs) into batches.

  ``tasks`` and ``batches`` count the requests (or pieces of split ones) taken from the queue
  and the batches they ran in; ``on_batch`` is told about each batch that ran.
  """

  def __init__(self, run: Callable[[Tensors], Tensors], options: BatchingOptions,
               name: str = 'batch', on_batch: Optional[BatchObserver] = None):
    self._run = run
    self._options = options
    self._on_batch = on_batch
    self.tasks = 0
    self.batches = 0
    self._queue: collections.deque = collections.deque()
    self._queued_rows = 0
    self._cond = threading.Condition()
    self._closed = False
    self._threads = [threading.Thread(target=self._work, name=f'{name}-{i}', daemon=True)
                     for i in range(options.num_batch_threads)]
    for thread in self._threads:
      thread.start()

  def submit(self, inputs: Tensors) -> Tensors:
    """Runs ``inputs`` as part of a batch and returns this request's rows of the outputs.

    Raises:
      server_errors.ServingError: INVALID_ARGUMENT for a request larger than the batching
        parameters allow, UNAVAILABLE when the queue is full, or the model's own error.
    """
    return self._enqueue(inputs).result()

  def _enqueue(self, inputs: Tensors) -> futures.Future:
    """Queues ``inputs`` (cut into execution-sized pieces); the future holds the outputs."""
    rows = batch_size_of(inputs)
    options = self._options
    if rows > options.max_batch_size:
      raise server_errors.invalid_argument(
          f'Task size {rows} is larger than maximum input batch size {options.max_batch_size}'
          + ('' if options.enable_large_batch_splitting
             else ' (enable_large_batch_splitting is off)'))
    step = options.execution_batch_size
    tasks = [_Task({k: v[start:start + step] for k, v in inputs.items()} if rows > step
                   else inputs, min(step, rows - start)) for start in range(0, rows, step)]
    with self._cond:
      if not self._closed:
        if self._queued_rows + rows > options.max_enqueued_batches * step:
          raise server_errors.unavailable(
              'The batch scheduling queue to which this task was submitted is full')
        self._queue.extend(tasks)
        self._queued_rows += rows
        self._cond.notify(len(tasks))
        return _gather(tasks)
    done: futures.Future = futures.Future()  # being unloaded: finish this one unbatched
    try:
      done.set_result(self._run(inputs))
    except Exception as e:  # pylint: disable=broad-except
      done.set_exception(e)
    return done

  @property
  def queued_rows(self) -> int:
    """Rows waiting for a batch thread."""
    with self._cond:
      return self._queued_rows

  def close(self) -> None:
    """Runs what is queued, then stops the batch threads."""
    with self._cond:
      self._closed = True
      self._cond.notify_all()
    for thread in self._threads:
      thread.join()

  def _take_batch(self) -> List[_Task]:
    """Waits for a batch (under the lock); an empty list means stop."""
    options = self._options
    limit = options.execution_batch_size
    while not self._queue:
      if self._closed:
        return []
      self._cond.wait()
    first = self._queue[0]
    deadline = first.arrived + options.batch_timeout_micros / 1e6
    while not self._closed:
      ready = sum(t.rows for t in self._queue if t.key == first.key)
      remaining = deadline - time.monotonic()
      if ready >= limit or remaining <= 0:
        break
      self._cond.wait(remaining)
    batch, rows = [], 0
    for task in list(self._queue):
      if task.key == first.key and rows + task.rows <= limit:
        batch.append(task)
        rows += task.rows
        self._queue.remove(task)
    self._queued_rows -= rows
    self.tasks += len(batch)
    self.batches += 1
    return batch

  def _work(self) -> None:
    while True:
      with self._cond:
        batch = self._take_batch()
      if not batch:
        return
      self._process(batch)

  def _process(self, batch: List[_Task]) -> None:
    try:
      outputs = self._run_padded(batch)
    except Exception as e:  # pylint: disable=broad-except
      if len(batch) > 1:  # One bad request must not fail its neighbours: retry alone.
        for task in batch:
          self._process([task])
        return
      batch[0].future.set_exception(e)
      return
    start = 0
    for task in batch:
      task.future.set_result({k: v[start:start + task.rows] for k, v in outputs.items()})
      start += task.rows

  def _run_padded(self, batch: List[_Task]) -> Tensors:
    """Concatenates the batch, pads it to an allowed size, runs it, cuts the padding."""
    keys = batch[0].inputs.keys()
    merged = {k: np.concatenate([t.inputs[k] for t in batch]) if len(batch) > 1
              else batch[0].inputs[k] for k in keys}
    rows = sum(t.rows for t in batch)
    target = next((s for s in self._options.allowed_batch_sizes if s >= rows), rows)
    if target > rows:
      merged = {k: np.concatenate([v, np.repeat(v[-1:], target - rows, axis=0)])
                for k, v in merged.items()}
    outputs = self._run(merged)
    if target > rows:
      outputs = {k: v[:rows] for k, v in outputs.items()}
    for k, v in outputs.items():
      if np.ndim(v) == 0 or len(v) != rows:
        raise server_errors.ServingError(grpc.StatusCode.INTERNAL,
                                         f'Batched output {k!r} has no batch dimension')
    if self._on_batch:
      self._on_batch([t.rows for t in batch], rows, target)
    return outputs
