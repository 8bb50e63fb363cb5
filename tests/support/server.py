"""Start ``envsound serve`` as a subprocess for tests, like TF Serving's test base.

    with local_server(model_config_file=cfg) as server:
      client = Client(server.grpc_target)

It picks unused ports on 127.0.0.1, waits until the server answers a GetModelStatus
(TF Serving's test base waits for a "Servable" error the same way) and stops it afterwards.
"""

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator, Optional, Sequence, Tuple

import grpc
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

from tests.support.deadline import wait_for
from tests.support.ports import HOST, LocalEndpoints, free_port

# The old name, still imported by tests outside tests/serving's server tests.
pick_unused_port = free_port


@dataclasses.dataclass
class RunningServer(LocalEndpoints):
  process: subprocess.Popen
  grpc_port: int
  rest_port: int
  log_path: Path

  def log(self) -> str:
    return self.log_path.read_text(errors='replace')


def _exited(process: subprocess.Popen) -> None:
  if process.poll() is not None:
    raise RuntimeError(f'envsound serve exited with {process.returncode}')


def wait_until_serving(target: str, probe_model: str, process: subprocess.Popen,
                       timeout_s: float) -> None:
  """Polls GetModelStatus until the server answers anything (OK or NOT_FOUND)."""
  with grpc.insecure_channel(target) as channel:
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = probe_model
    def answers() -> bool:
      _exited(process)
      try:
        stub.GetModelStatus(request, timeout=2)
        return True
      except grpc.RpcError as e:
        return e.code() == grpc.StatusCode.NOT_FOUND
    wait_for(answers, timeout_s, f'envsound serve answering gRPC on {target}', 0.2)


def wait_until_rest(url: str, process: subprocess.Popen, timeout_s: float) -> None:
  """Polls the REST port until it answers any HTTP status."""
  def answers() -> bool:
    _exited(process)
    try:
      urllib.request.urlopen(url, timeout=2).close()
      return True
    except urllib.error.HTTPError:
      return True
    except OSError:
      return False
  wait_for(answers, timeout_s, f'envsound serve answering REST on {url}', 0.2)


def stop_server(process: subprocess.Popen, timeout_s: float = 15) -> int:
  """SIGINT (Ctrl-C), then SIGKILL if it does not exit; returns the exit status."""
  if process.poll() is None:
    process.send_signal(signal.SIGINT)
    try:
      process.wait(timeout_s)
    except subprocess.TimeoutExpired:
      process.kill()
      process.wait()
  return process.returncode


@contextlib.contextmanager
def local_server(model_config_file=None, model_base_path=None, model_name: str = 'default',
                 flags: Sequence[str] = (), rest: bool = True, probe_model: Optional[str] = None,
                 timeout_s: float = 120, log_dir=None,
                 ports: Optional[Tuple[int, int]] = None) -> Iterator[RunningServer]:
  """Runs ``envsound serve`` on 127.0.0.1 for the duration of the block.

  Args:
    model_config_file: a models.config (or give model_base_path [+ model_name]).
    model_base_path: one model's base path.
    model_name: its name.
    flags: more tensorflow_model_server flags, e.g. ['--enable_batching'].
    rest: also open a REST port.
    probe_model: the model name the readiness probe asks about.
    timeout_s: how long to wait for the server to load its models and answer.
    log_dir: where the server's output goes (default: a temp dir).
    ports: (gRPC, REST) ports to use, e.g. to restart on the same ones; default: unused
      ports, picked again when the server cannot bind them.
  """
  log_dir = Path(log_dir or tempfile.mkdtemp(prefix='envsound-serve-'))
  attempts = 1 if ports else 3  # a picked port can be taken before the server binds it
  for attempt in range(attempts):
    grpc_port, rest_port = ports or (free_port(), free_port() if rest else 0)
    argv = [sys.executable, '-m', 'envsound', 'serve', f'--port={grpc_port}',
            f'--rest_api_port={rest_port}', '--file_system_poll_wait_seconds=1', *flags]
    if model_config_file:
      argv.append(f'--model_config_file={model_config_file}')
    else:
      argv += [f'--model_name={model_name}', f'--model_base_path={model_base_path}']
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1')
    fd, name = tempfile.mkstemp(prefix=f'serve-{grpc_port}-', suffix='.log', dir=log_dir)
    log_path = Path(name)
    with os.fdopen(fd, 'wb') as log_file:
      process = subprocess.Popen(argv, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    try:
      wait_until_serving(f'{HOST}:{grpc_port}', probe_model or model_name, process, timeout_s)
      if rest:
        wait_until_rest(f'http://{HOST}:{rest_port}/v1/models/{probe_model or model_name}',
                        process, timeout_s)
    except (RuntimeError, TimeoutError) as e:
      stop_server(process)
      text = log_path.read_text(errors='replace')
      if 'cannot bind' in text and attempt < attempts - 1:
        continue
      raise RuntimeError(f'{e}; log:\n{text[-3000:]}') from None
    break
  server = RunningServer(process, grpc_port, rest_port, log_path)
  try:
    yield server
  finally:
    stop_server(process)
