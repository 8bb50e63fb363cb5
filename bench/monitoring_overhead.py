"""Serving throughput at 32 clients with ``--monitoring_config_file`` (Prometheus) on vs off.

Two ``envsound serve`` processes on free 127.0.0.1 ports serve the same model with the same
batching parameters; one also has ``prometheus_config { enable: true }``. 32 clients (raw gRPC
stubs, one channel each, 1-clip Predict requests in a closed loop) run against each in
alternating rounds, so both see the same background load, and the median per-round ratio is
printed beside the goal (within 5%), with the in-process cost of recording one request as a
share of the server's time per request (a figure the machine's background load moves less).
A scrape at the end shows the counted requests.

  .venv/bin/python bench/monitoring_overhead.py [--model cnn1d|tiny] [--seconds 5] [--rounds 6]
"""

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from benchlib import models, requests, serving_runs

from tests.support import scrape  # pylint: disable=g-bad-import-order  (benchlib: sys.path)

CLIENTS = 32
METRICS_PATH = '/monitoring/prometheus/metrics'


def recording_cost_us(calls: int = 20_000) -> float:
  """Microseconds PrometheusMetrics takes to record one batched 1-clip Predict request."""
  from envsound.serving import metrics  # pylint: disable=import-outside-toplevel
  recorder, labels = metrics.PrometheusMetrics(), metrics.batch_labels('m', 1, 's')
  started = time.perf_counter()
  for _ in range(calls):
    recorder.request('m', '1', 'Predict', 'GRPC', 'OK', 0.002)
    recorder.batch(labels, (1,), 1, 1)
  return (time.perf_counter() - started) / calls * 1e6


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', choices=('cnn1d', 'tiny'), default='cnn1d')
  parser.add_argument('--work-dir', type=Path, default=benchlib.DEFAULT_WORK)
  parser.add_argument('--seconds', type=float, default=5.0, help='length of each run')
  parser.add_argument('--rounds', type=int, default=6, help='runs per server, alternating')
  parser.add_argument('--batching-file', type=Path, default=benchlib.DEFAULT_BATCHING)
  args = parser.parse_args(argv)
  from tests.support.server import local_server  # pylint: disable=import-outside-toplevel
  base = models.cached_base_path(args.model, args.work_dir)
  logs = Path(tempfile.mkdtemp(prefix='envsound-bench-monitoring-'))
  monitoring = logs / 'monitoring.config'
  monitoring.write_text(f'prometheus_config {{ enable: true, path: "{METRICS_PATH}" }}\n')
  common = ['--file_system_poll_wait_seconds=0', '--enable_batching',
            f'--batching_parameters_file={args.batching_file}']
  flags = {'monitoring off': common,
           'monitoring on': common + [f'--monitoring_config_file={monitoring}']}
  print(f'model {args.model} ({base}); {CLIENTS} clients; {args.rounds} alternating rounds '
        f'of {args.seconds:g} s; batching file {args.batching_file}', flush=True)
  with contextlib.ExitStack() as stack:
    makes, urls = {}, {}
    for name, f in flags.items():
      server = stack.enter_context(local_server(
          model_base_path=base, model_name=serving_runs.MODEL_NAME, flags=f, timeout_s=300,
          log_dir=logs))
      makes[name] = requests.grpc_calls(server.grpc_target, 'predict_embeddings', serving_runs.MODEL_NAME)
      stack.callback(makes[name].close)
      urls[name] = server.rest_url + METRICS_PATH
    paired = serving_runs.paired_rounds(makes, CLIENTS, args.seconds, args.rounds)
    counted = scrape.total(scrape.scrape(urls['monitoring on']),
                           ':tensorflow:serving:request_count_total', API='Predict',
                           status='OK')
  on, off = paired['monitoring on'], paired['monitoring off']
  ratios = sorted(a.clips_per_s / b.clips_per_s for a, b in zip(on, off))
  median = statistics.median(ratios)
  for name, runs in paired.items():
    print(f'  {name}: clips/s per round {" ".join(f"{t.clips_per_s:.0f}" for t in runs)}; '
          f'errors {sum(t.errors for t in runs)}')
  pooled = sum(t.clips_per_s for t in on) / sum(t.clips_per_s for t in off)
  print(f'monitoring on / off: median {median:.3f}x over {len(ratios)} paired rounds '
        f'(range {ratios[0]:.3f}-{ratios[-1]:.3f}; all rounds pooled {pooled:.3f}x); '
        'goal >= 0.95x')
  cost_us = recording_cost_us()
  per_request_us = 1e6 * len(off) / sum(t.clips_per_s for t in off)
  print(f'recording one request (count, latency, batch sizes) in-process: {cost_us:.1f} us, '
        f'{cost_us / per_request_us:.1%} of the {per_request_us:.0f} us of server time per '
        'request at 32 clients with monitoring off')
  calls = sum(t.calls for t in on)
  print(f'the monitored server counted {counted:.0f} OK Predict requests '
        f'({calls} timed calls plus one warm-up call per client and round)')
  return 0


if __name__ == '__main__':
  sys.exit(main())
