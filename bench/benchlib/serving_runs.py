"""The serving bench's measurements: one way of calling, paired rounds, the servers it starts."""

import contextlib
from pathlib import Path
from typing import Callable, Dict, List

from benchlib import requests
from benchlib.models import clips
from benchlib.timing import Throughput, measure_latency, measure_throughput

MODEL_NAME = 'bench'
LATENCY_CALLS = {1: 300, 64: 100}  # at most this many sequential calls per latency figure
CLIENTS = (1, 8, 32)
FLOOR = 'gRPC floor'  # bench/grpc_floor.py: the same gRPC server with no model behind it


def in_process_batching(version_dir: Path, batching_file: Path, signature: str,
                        seconds: float) -> float:
  """32-client throughput (clips/s) through envsound serve's own Servable and batch
  scheduler, in this process: batching without gRPC."""
  # pylint: disable=import-outside-toplevel
  from envsound.core import features
  from envsound.serving import model_config, servable
  options = model_config.read_batching_parameters(str(batching_file))
  served = servable.Servable(MODEL_NAME, 1, version_dir, options)
  try:
    def make(i):
      inputs = {features.EMBEDDING_INPUT: clips(1, seed=100 + i)}
      return lambda: served.predict(signature, inputs)
    return measure_throughput(make, CLIENTS[-1], seconds).clips_per_s
  finally:
    served.close()


def measure_all(make, seconds: float, label: str) -> Dict[str, object]:
  """Latency (1 and 64 clips) and throughput (1, 8, 32 clients) for one way of calling."""
  out = {}
  for n in (1, 64):
    out[f'lat{n}'] = measure_latency(make(clips(n, seed=n)), LATENCY_CALLS[n], seconds)
    print(f'  {label}: {n} clip(s) p50 {out[f"lat{n}"].p50_ms:.2f} ms', flush=True)
  for c in CLIENTS:
    out[f'tp{c}'] = measure_throughput(lambda i: make(clips(1, seed=100 + i)), c, seconds)
    print(f'  {label}: {c} client(s) {out[f"tp{c}"].clips_per_s:.0f} clips/s '
          f'({out[f"tp{c}"].errors} errors)', flush=True)
  return out


def paired_rounds(makes: Dict[str, Callable], clients: int, seconds: float,
                  rounds: int) -> Dict[str, List[Throughput]]:
  """Alternates ``clients``-client throughput runs between the servers ``rounds`` times, so
  both see the same background load (the machine may be shared)."""
  out = {name: [] for name in makes}
  for r in range(rounds):
    order = list(makes) if r % 2 == 0 else list(makes)[::-1]
    for name in order:
      out[name].append(measure_throughput(lambda i, m=makes[name]: m(clips(1, seed=100 + i)),
                                          clients, seconds))
  return out


def run_servers(base: Path, batching_file: Path, seconds: float, signature: str,
                rounds: int, log_dir: Path, paired_only: bool = False):
  """Starts ``envsound serve`` twice (batching off and on, free ports) and the gRPC floor
  (bench/grpc_floor.py, answering what batching off answered), measures both servers, then
  alternates the three's 32-client throughput runs. Returns (per-server results, paired)."""
  import grpc_floor  # pylint: disable=import-outside-toplevel  (bench/)
  from tests.support.server import local_server  # pylint: disable=import-outside-toplevel
  common = ['--file_system_poll_wait_seconds=0']
  flags = {'serve off': common,
           'serve on': common + ['--enable_batching',
                                 f'--batching_parameters_file={batching_file}']}
  with contextlib.ExitStack() as stack:
    makes = {}
    for name, f in flags.items():
      server = stack.enter_context(local_server(
          model_base_path=base, model_name=MODEL_NAME, flags=f, rest=False, timeout_s=300,
          log_dir=log_dir))
      makes[name] = requests.grpc_calls(server.grpc_target, signature, MODEL_NAME)
      stack.callback(makes[name].close)
    one_clip = clips(1, seed=100)
    request = requests.predict_request(one_clip, signature, MODEL_NAME)
    floor = stack.enter_context(grpc_floor.running(makes['serve off'](one_clip)(), request))
    makes[FLOOR] = requests.grpc_calls(floor, signature, MODEL_NAME)
    stack.callback(makes[FLOOR].close)
    results = {} if paired_only else {
        name: measure_all(makes[name], seconds, name.replace('serve', 'serve, batching'))
        for name in flags}
    paired = paired_rounds(makes, CLIENTS[-1], seconds, rounds)
    return results, paired
