"""Run ``envsound demo`` in a subprocess as a user does, until it serves, then stop it.

    with running_demo(workdir, clips=400, epochs=1) as demo:
      Client(demo.grpc_target) ...

The demo prints each stage's ``$ envsound ...`` command, runs the pipeline, serves the pushed
models and waits for Ctrl-C. Its stdout and stderr are collected line by line; leaving the
block sends SIGINT and checks that the demo stopped with status 0.
"""

import contextlib
import dataclasses
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator, List, Optional

from tests.support.deadline import wait_for
from tests.support.ports import LocalEndpoints, free_port

READY = 'Press Ctrl-C to stop the server.'


@dataclasses.dataclass
class DemoRun(LocalEndpoints):
  """A running ``envsound demo`` and what it has printed so far."""
  workdir: Path
  process: subprocess.Popen
  grpc_port: int
  rest_port: int
  stdout_lines: List[str] = dataclasses.field(default_factory=list)
  stderr_lines: List[str] = dataclasses.field(default_factory=list)

  @property
  def stdout(self) -> str:
    return '\n'.join(self.stdout_lines)

  @property
  def stderr(self) -> str:
    return '\n'.join(self.stderr_lines)

  def stage_output(self, command: str) -> str:
    """What the stage printed whose command starts with ``$ envsound <command>``."""
    marker = f'$ envsound {command}'
    start = next(i for i, line in enumerate(self.stdout_lines) if line.startswith(marker))
    end = next((i for i in range(start + 1, len(self.stdout_lines))
                if self.stdout_lines[i].startswith('$ envsound ')), len(self.stdout_lines))
    return '\n'.join(self.stdout_lines[start + 1:end])

  def command(self, command: str) -> List[str]:
    """The argv (after ``envsound``) of the stage printed as ``$ envsound <command> ...``."""
    line = next(line for line in self.stdout_lines if line.startswith(f'$ envsound {command}'))
    return shlex.split(line[len('$ envsound '):])


def _collect(stream, lines: List[str]) -> None:
  for line in stream:
    lines.append(line.rstrip('\n'))


@contextlib.contextmanager
def running_demo(workdir: Path, clips: int, epochs: int, min_accuracy: Optional[float] = None,
                 timeout_s: float = 1500) -> Iterator[DemoRun]:
  """Starts ``envsound demo`` in ``workdir``'s parent, yields it once it serves."""
  grpc_port, rest_port = free_port(), free_port()
  argv = [sys.executable, '-m', 'envsound', 'demo', '--workdir', str(workdir),
          '--clips', str(clips), '--seed', '1', '--epochs', str(epochs),
          '--port', str(grpc_port), '--rest-port', str(rest_port)]
  if min_accuracy is not None:
    argv += ['--min-accuracy', str(min_accuracy)]
  process = subprocess.Popen(argv, cwd=workdir.parent, text=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, bufsize=1)
  demo = DemoRun(workdir, process, grpc_port, rest_port)
  readers = [threading.Thread(target=_collect, args=(process.stdout, demo.stdout_lines),
                              daemon=True),
             threading.Thread(target=_collect, args=(process.stderr, demo.stderr_lines),
                              daemon=True)]
  for reader in readers:
    reader.start()
  try:
    def serving() -> bool:
      if READY in demo.stdout_lines:
        return True
      if process.poll() is not None:
        raise RuntimeError(f'envsound demo exited with {process.returncode} before serving:\n'
                           + '\n'.join((demo.stdout_lines + demo.stderr_lines)[-40:]))
      return False
    wait_for(serving, timeout_s, 'envsound demo serving its models', 1.0)
    yield demo
  finally:
    if process.poll() is None:
      process.send_signal(signal.SIGINT)
    try:
      process.wait(timeout=60)
    except subprocess.TimeoutExpired:
      process.send_signal(signal.SIGUSR1)  # its threads' stacks, to stderr (__main__.py)
      try:
        process.wait(timeout=5)
      except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    for reader in readers:
      reader.join(timeout=10)
  assert process.returncode == 0, (
      f'envsound demo stopped with {process.returncode} on Ctrl-C:\n{demo.stderr[-8000:]}')
