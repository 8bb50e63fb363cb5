"""Xvfb, a virtual X display on a free display number, for desktop-client tests and benches."""

import os
import shutil
import subprocess
import time
from typing import Tuple

SCREEN = '1400x900x24'


def free_display(first: int = 91, last: int = 240) -> int:
  """A display number with neither a lock file nor a socket."""
  for n in range(first, last):
    if not (os.path.exists(f'/tmp/.X{n}-lock') or os.path.exists(f'/tmp/.X11-unix/X{n}')):
      return n
  raise RuntimeError('no free X display number')


def start(timeout_s: float = 20) -> Tuple[subprocess.Popen, str]:
  """Starts Xvfb and waits for its socket; returns (process, ':N').

  Raises:
    RuntimeError: Xvfb is not installed, or did not start within ``timeout_s``.
  """
  binary = shutil.which('Xvfb')
  if binary is None:
    raise RuntimeError('Xvfb is not installed (apt-get install xvfb)')
  number = free_display()
  process = subprocess.Popen([binary, f':{number}', '-screen', '0', SCREEN, '-nolisten', 'tcp'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.monotonic() + timeout_s
  while not os.path.exists(f'/tmp/.X11-unix/X{number}'):
    if process.poll() is not None or time.monotonic() > deadline:
      process.kill()
      raise RuntimeError(f'Xvfb :{number} did not start')
    time.sleep(0.05)
  return process, f':{number}'
