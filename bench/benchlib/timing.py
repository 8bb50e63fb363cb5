"""Timing harness: sequential latency and closed-loop throughput of a call, bounded in time."""

import dataclasses
import threading
import time
from typing import Callable, List, Sequence

import numpy as np

MAX_CALLS_PER_CLIENT = 200_000


@dataclasses.dataclass
class Latency:
  p50_ms: float
  p99_ms: float
  calls: int


@dataclasses.dataclass
class Throughput:
  clips_per_s: float
  calls: int
  errors: int
  p50_ms: float


def measure_latency(call: Callable[[], object], max_calls: int, seconds: float,
                    warmup_calls: int = 5) -> Latency:
  """Sequential calls: at most ``max_calls`` or ``seconds``, after a few warm-up calls."""
  for _ in range(warmup_calls):
    call()
  times = []
  deadline = time.perf_counter() + seconds
  while len(times) < max_calls and time.perf_counter() < deadline:
    t = time.perf_counter()
    call()
    times.append(time.perf_counter() - t)
  ms = np.array(times) * 1e3
  return Latency(float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), len(ms))


def measure_throughput(make_call: Callable[[int], Callable[[], object]], clients: int,
                       seconds: float, clips_per_call: int = 1) -> Throughput:
  """``clients`` threads, each calling its own ``make_call(i)()`` in a closed loop for
  ``seconds`` (and at most MAX_CALLS_PER_CLIENT times); counts completed clips."""
  calls = [make_call(i) for i in range(clients)]
  for call in calls:
    call()  # connect / warm before the clock starts
  start_barrier = threading.Barrier(clients + 1)
  done = [0] * clients
  errors = [0] * clients
  latencies: List[List[float]] = [[] for _ in range(clients)]
  stop = threading.Event()

  def run(i):
    start_barrier.wait()
    while not stop.is_set() and done[i] + errors[i] < MAX_CALLS_PER_CLIENT:
      t = time.perf_counter()
      try:
        calls[i]()
      except Exception:  # pylint: disable=broad-except
        errors[i] += 1
        continue
      latencies[i].append(time.perf_counter() - t)
      done[i] += 1

  threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
  for thread in threads:
    thread.start()
  start_barrier.wait()
  began = time.perf_counter()
  stop.wait(seconds)
  stop.set()
  for thread in threads:
    thread.join(60)
  elapsed = time.perf_counter() - began
  all_ms = np.concatenate([np.array(l) for l in latencies]) * 1e3 if any(latencies) else [0]
  return Throughput(sum(done) * clips_per_call / elapsed, sum(done), sum(errors),
                    float(np.percentile(all_ms, 50)))


def percentiles(seconds: Sequence[float]) -> str:
  """'N calls  p50 .. ms  p99 .. ms  max .. ms' of call durations in seconds."""
  if not len(seconds):
    return '-'
  ms = np.asarray(seconds) * 1e3
  return (f'{len(ms):6d} calls  p50 {np.percentile(ms, 50):7.2f} ms  p99 '
          f'{np.percentile(ms, 99):7.2f} ms  max {ms.max():7.2f} ms')
