"""Waiting for a condition with a deadline, for tests that watch a running server."""

import time
from typing import Callable, TypeVar

T = TypeVar('T')


def wait_for(condition: Callable[[], T], timeout_s: float, what: str,
             interval_s: float = 0.1) -> T:
  """Calls ``condition`` until it returns something truthy, and returns that.

  Raises:
    TimeoutError: naming ``what`` when ``timeout_s`` passes first.
  """
  deadline = time.monotonic() + timeout_s
  while True:
    result = condition()
    if result:
      return result
    if time.monotonic() > deadline:
      raise TimeoutError(f'{what}: not within {timeout_s:.0f} s')
    time.sleep(interval_s)
