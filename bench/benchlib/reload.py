"""The hot-reload bench's clients and its summary of what they saw around a push."""

import collections
import dataclasses
import threading
import time
from typing import List, Optional

from benchlib import requests
from benchlib.models import clips
from benchlib.timing import percentiles
from envsound.core import features

MAX_REQUESTS_PER_CLIENT = 100_000


@dataclasses.dataclass
class Call:
  start: float
  end: float
  version: int  # 0 when it failed
  code: str = 'OK'
  detail: str = ''


def client_loop(target: str, model_name: str, seed: int, calls: List[Call],
                stop: threading.Event, deadline: float) -> None:
  """1-clip Predict requests (no retries, 10 s deadline) until ``stop`` or ``deadline``."""
  import grpc  # pylint: disable=import-outside-toplevel
  request = requests.predict_request(clips(1, seed), features.UINT8_SIGNATURE, model_name,
                                     output_filter=[features.TOP_SCORE])
  channel, stub = requests.predict_stub(target)
  with channel:
    while (not stop.is_set() and time.monotonic() < deadline
           and len(calls) < MAX_REQUESTS_PER_CLIENT):
      t = time.monotonic()
      try:
        response = stub.Predict(request, timeout=10)
        calls.append(Call(t, time.monotonic(), response.model_spec.version.value))
      except grpc.RpcError as e:
        calls.append(Call(t, time.monotonic(), 0, e.code().name, (e.details() or '')[:200]))
        time.sleep(0.01)  # do not spin on a dead server


def wait_for_switch(per_client: List[List[Call]], version: int, deadline: float
                    ) -> Optional[float]:
  """When every client's recent answers include ``version``; None at the deadline."""
  while time.monotonic() < deadline:
    if all(any(c.version == version for c in calls[-3:]) for calls in per_client):
      return time.monotonic()
    time.sleep(0.05)
  return None


def _durations(calls: List[Call]) -> List[float]:
  return [c.end - c.start for c in calls]


def summarize(per_client: List[List[Call]], old: int, new: int, began: float,
              push_start: float, push_end: float) -> List[Call]:
  """Prints failures, switch times and latency before/during/after; returns failed calls."""
  calls = sorted((c for cs in per_client for c in cs), key=lambda c: c.start)
  failed = [c for c in calls if c.code != 'OK']
  first_new = min((c.end for c in calls if c.version == new), default=None)
  last_old = max((c.end for c in calls if c.version == old), default=None)
  first_new_start = min((c.start for c in calls if c.version == new), default=None)
  # From when on does every answer come from the new version?
  all_new_from = (max(c.end for c in calls if c.version == old and c.start < first_new_start)
                  if first_new_start and last_old else None)

  def rel(t: Optional[float]) -> str:
    return f'{t - push_end:+.2f} s' if t is not None else 'never'

  codes = collections.Counter(c.code for c in failed)
  print(f'  requests: {len(calls)} in {calls[-1].end - began:.1f} s; failed: {len(failed)}'
        + (' (' + ', '.join(f'{k} x{v}' for k, v in codes.items()) + ')' if failed else ''))
  for c in failed[:5]:
    print(f'    {c.code} at {rel(c.start)}: {c.detail}')
  print(f'  push took {(push_end - push_start) * 1e3:.0f} ms; times below are from its end')
  print(f'  first answer from version {new}: {rel(first_new)}')
  print(f'  last answer from version {old}:  {rel(last_old)}')
  print(f'  every answer from version {new} after: {rel(all_new_from)}')
  print('  answers by version: ' + ', '.join(
      f'v{v}: {n}' for v, n in sorted(collections.Counter(c.version for c in calls).items())))
  window_end = (last_old or push_end) + 1.0
  print('  latency before the push:  '
        + percentiles(_durations([c for c in calls if c.end < push_start])))
  print('  latency while switching:  ' + percentiles(
      _durations([c for c in calls if push_start <= c.start < window_end])))
  print('  latency after:            '
        + percentiles(_durations([c for c in calls if c.start >= window_end])))
  return failed if first_new is not None else failed + [Call(0, 0, 0, 'NEVER_SWITCHED')]
