"""A virtual X display (Xvfb) for tests and benches that open Tk windows.

    with xvfb() as display:
      env = dict(os.environ, DISPLAY=display)
"""

import contextlib
import os
import shutil
import subprocess
import time
from typing import Iterator


class XvfbMissing(RuntimeError):
  """Xvfb is not installed."""


def _taken(number: int) -> bool:
  return os.path.exists(f'/tmp/.X{number}-lock') or os.path.exists(f'/tmp/.X11-unix/X{number}')


def free_display(first: int = 91, last: int = 240) -> int:
  """The lowest display number from ``first`` with no X lock file or socket."""
  for number in range(first, last):
    if not _taken(number):
      return number
  raise RuntimeError(f'no free X display number in {first}..{last - 1}')


@contextlib.contextmanager
def xvfb(screen: str = '1400x900x24', timeout_s: float = 20.0,
         first: int = 91) -> Iterator[str]:
  """Runs Xvfb on a free display for the block; yields its name, e.g. ``':91'``.

  A display taken by another process between the check and Xvfb's start is skipped (up to
  three tries).

  Raises:
    XvfbMissing: Xvfb is not installed.
    RuntimeError: it did not open its socket within ``timeout_s``.
  """
  binary = shutil.which('Xvfb')
  if binary is None:
    raise XvfbMissing('Xvfb is not installed (apt-get install xvfb)')
  number = free_display(first)
  for _ in range(3):
    process = subprocess.Popen([binary, f':{number}', '-screen', '0', screen, '-nolisten', 'tcp'],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout_s
    while not os.path.exists(f'/tmp/.X11-unix/X{number}') and process.poll() is None:
      if time.monotonic() > deadline:
        process.kill()
        process.wait()
        raise RuntimeError(f'Xvfb :{number} did not start within {timeout_s:.0f} s')
      time.sleep(0.05)
    if process.poll() is None:
      break
    number = free_display(number + 1)
  else:
    raise RuntimeError(f'Xvfb did not start on three free-looking displays (last :{number})')
  try:
    yield f':{number}'
  finally:
    process.terminate()
    try:
      process.wait(10)
    except subprocess.TimeoutExpired:
      process.kill()
      process.wait()


@contextlib.contextmanager
def for_tests() -> Iterator[str]:
  """:func:`xvfb` for a test: a missing Xvfb skips it, except in CI (``CI=true``), where it
  fails, so a broken CI image cannot pass by skipping."""
  import pytest  # pylint: disable=import-outside-toplevel
  try:
    with xvfb() as name:
      yield name
  except XvfbMissing as e:
    if os.environ.get('CI') == 'true':
      pytest.fail(f'{e}: the GUI tests must run in CI')
    pytest.skip(str(e))
  except RuntimeError as e:
    pytest.fail(str(e))
