"""Hot reload under load: push a new model version while 16 clients send Predict requests.

Starts ``envsound serve`` (subprocess, free 127.0.0.1 port, ``--file_system_poll_wait_seconds
1``, batching on by default) on a base path holding version 1, lets 16 client threads send
1-clip gRPC Predict requests (no retries, 10 s deadline), then copies version 2 into the base
path exactly as TFX's Pusher does (``tfx.utils.io_utils.copy_dir`` of everything except
``saved_model.pb``, then ``copy_file`` of ``saved_model.pb`` last), or with ``--staging``
as envsound's AtomicPusher does (copy into ``<base>/.staging/2``, then rename).

It prints the failed requests (goal: zero) by status code, and the times from the copy to
the first answer from version 2 and to the point from which every answer comes from it,
with latency percentiles before, during and after the switch. Every loop is bounded: each
client stops after ``--max-seconds`` or 100,000 requests.

  .venv/bin/python bench/hot_reload.py [--model cnn1d|tiny] [--no-batching] [--staging]
"""

import argparse
import collections
import dataclasses
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / 'bench')]
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# Before TensorFlow, which puts a folder holding another `tests` package on sys.path.
import tests.support  # pylint: disable=g-import-not-at-top,unused-import
import numpy as np  # pylint: disable=g-import-not-at-top

import serving_latency as common  # pylint: disable=g-import-not-at-top

MODEL_NAME = 'hot'
CLIENTS = 16
MAX_REQUESTS_PER_CLIENT = 100_000


@dataclasses.dataclass
class Call:
  start: float
  end: float
  version: int  # 0 when it failed
  code: str = 'OK'
  detail: str = ''


def push_like_tfx_pusher(model_dir: Path, base: Path, version: int) -> Path:
  """TFX Pusher's copy (tfx/components/pusher/executor.py): everything but saved_model.pb
  with io_utils.copy_dir, then saved_model.pb with io_utils.copy_file."""
  from tfx.utils import io_utils  # pylint: disable=import-outside-toplevel
  serving_path = str(base / str(version))
  io_utils.copy_dir(str(model_dir), serving_path, deny_regex_patterns=[r'saved_model\.pb'])
  io_utils.copy_file(str(model_dir / 'saved_model.pb'), os.path.join(serving_path,
                                                                     'saved_model.pb'))
  return Path(serving_path)


def push_like_atomic_pusher(model_dir: Path, base: Path, version: int) -> Path:
  """envsound's AtomicPusher: the Pusher's copy into <base>/.staging, then one rename."""
  staging = base / '.staging'
  shutil.rmtree(staging, ignore_errors=True)
  push_like_tfx_pusher(model_dir, staging, version)
  final = base / str(version)
  os.rename(staging / str(version), final)
  shutil.rmtree(staging)
  return final


def client_loop(target: str, seed: int, calls: List[Call], stop: threading.Event,
                deadline: float) -> None:
  import grpc  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc  # pylint: disable=import-outside-toplevel
  from envsound.core import features  # pylint: disable=import-outside-toplevel
  request = predict_pb2.PredictRequest()
  request.model_spec.name = MODEL_NAME
  request.model_spec.signature_name = features.UINT8_SIGNATURE
  request.inputs[features.EMBEDDING_INPUT].CopyFrom(tf.make_tensor_proto(common.clips(1, seed)))
  request.output_filter.append(features.TOP_SCORE)
  with grpc.insecure_channel(target, options=[('grpc.use_local_subchannel_pool', 1)]) as ch:
    stub = prediction_service_pb2_grpc.PredictionServiceStub(ch)
    while (not stop.is_set() and time.monotonic() < deadline
           and len(calls) < MAX_REQUESTS_PER_CLIENT):
      t = time.monotonic()
      try:
        response = stub.Predict(request, timeout=10)
        calls.append(Call(t, time.monotonic(), response.model_spec.version.value))
      except grpc.RpcError as e:
        calls.append(Call(t, time.monotonic(), 0, e.code().name, (e.details() or '')[:200]))
        time.sleep(0.01)  # do not spin on a dead server


def percentiles(calls: List[Call]) -> str:
  if not calls:
    return '-'
  ms = np.array([c.end - c.start for c in calls]) * 1e3
  return (f'{len(ms):6d} calls  p50 {np.percentile(ms, 50):7.2f} ms  p99 '
          f'{np.percentile(ms, 99):7.2f} ms  max {ms.max():7.2f} ms')


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', choices=('cnn1d', 'tiny'), default='cnn1d',
                      help='cnn1d: approach 2 architecture with the real Transform graph and '
                           'signatures (default); tiny: tests/support tiny model')
  parser.add_argument('--work-dir', type=Path, default=common.DEFAULT_WORK)
  parser.add_argument('--no-batching', action='store_true')
  parser.add_argument('--batching-file', type=Path, default=common.DEFAULT_BATCHING)
  parser.add_argument('--staging', action='store_true',
                      help="push like envsound's AtomicPusher (staging folder + rename) "
                           "instead of TFX's Pusher (copy, saved_model.pb last)")
  parser.add_argument('--before', type=float, default=3.0, help='seconds of load before the push')
  parser.add_argument('--after', type=float, default=3.0,
                      help='seconds of load after every client gets version 2')
  parser.add_argument('--max-seconds', type=float, default=90.0, help='hard limit on the load')
  args = parser.parse_args(argv)

  from envsound.serving import model_config  # pylint: disable=import-outside-toplevel
  from tests.support.server import local_server  # pylint: disable=import-outside-toplevel
  args.work_dir.mkdir(parents=True, exist_ok=True)
  work = Path(tempfile.mkdtemp(prefix='hot-reload-', dir=args.work_dir))
  base, trainer_out = work / 'serving' / MODEL_NAME, work / 'trainer'
  t = time.perf_counter()
  common.export_model(args.model, base, 1, args.work_dir, seed=1)
  v2 = common.export_model(args.model, trainer_out, 2, args.work_dir, seed=2)
  print(f'exported {args.model} versions 1 and 2 in {time.perf_counter() - t:.1f} s; '
        f'version 2 is {sum(f.stat().st_size for f in v2.rglob("*") if f.is_file()) / 1e6:.1f}'
        f' MB in {sum(1 for f in v2.rglob("*") if f.is_file())} files', flush=True)

  flags = ['--file_system_poll_wait_seconds=1']
  if not args.no_batching:
    flags += ['--enable_batching', f'--batching_parameters_file={args.batching_file}']
  push = push_like_atomic_pusher if args.staging else push_like_tfx_pusher
  push_name = ('AtomicPusher (staging + rename)' if args.staging
               else 'TFX Pusher (copy_dir, saved_model.pb last)')
  if not args.staging:
    from tfx.utils import io_utils  # pylint: disable=import-outside-toplevel,unused-import
  with local_server(model_base_path=base, model_name=MODEL_NAME, flags=flags, rest=False,
                    timeout_s=300, log_dir=work) as server:
    per_client: List[List[Call]] = [[] for _ in range(CLIENTS)]
    stop = threading.Event()
    began = time.monotonic()
    deadline = began + args.max_seconds
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(server.grpc_target, i, per_client[i], stop, deadline))
               for i in range(CLIENTS)]
    for thread in threads:
      thread.start()
    time.sleep(args.before)
    push_start = time.monotonic()
    push(v2, base, 2)
    push_end = time.monotonic()
    assert 2 in model_config.version_dirs(base)
    # Wait until every client has had an answer from version 2, then a little longer.
    switched: Optional[float] = None
    while time.monotonic() < deadline:
      if all(any(c.version == 2 for c in calls[-3:]) for calls in per_client):
        switched = time.monotonic()
        break
      time.sleep(0.05)
    if switched is not None:
      time.sleep(args.after)
    stop.set()
    for thread in threads:
      thread.join(30)
    log = server.log()

  calls = sorted((c for cs in per_client for c in cs), key=lambda c: c.start)
  failed = [c for c in calls if c.code != 'OK']
  first_v2 = min((c.end for c in calls if c.version == 2), default=None)
  last_v1 = max((c.end for c in calls if c.version == 1), default=None)
  first_v2_start = min((c.start for c in calls if c.version == 2), default=None)
  # From when on does every answer come from version 2?
  all_v2_from = (max(c.end for c in calls if c.version == 1 and c.start < first_v2_start)
                 if first_v2_start and last_v1 else None)
  rel = lambda t: f'{t - push_end:+.2f} s' if t is not None else 'never'  # pylint: disable=unnecessary-lambda-assignment

  print()
  print(f'hot reload: {args.model} model, {CLIENTS} clients sending 1-clip Predict requests, '
        f'batching {"off" if args.no_batching else "on"}, file system poll every 1 s, '
        f'push like the {push_name}')
  print(f'  requests: {len(calls)} in {calls[-1].end - began:.1f} s; failed: {len(failed)}'
        + (' (' + ', '.join(f'{k} x{v}' for k, v in collections.Counter(
            c.code for c in failed).items()) + ')' if failed else ''))
  for c in failed[:5]:
    print(f'    {c.code} at {rel(c.start)}: {c.detail}')
  print(f"  push (copy) took {(push_end - push_start) * 1e3:.0f} ms; times below are from the "
        f'moment saved_model.pb was in place')
  print(f'  first answer from version 2:        {rel(first_v2)}')
  print(f'  last answer from version 1:         {rel(last_v1)}')
  print(f'  every answer from version 2 after:  {rel(all_v2_from)}')
  print(f'  answers by version: ' + ', '.join(
      f'v{v}: {n}' for v, n in sorted(collections.Counter(c.version for c in calls).items())))
  print('  latency before the push:  ' + percentiles([c for c in calls if c.end < push_start]))
  window_end = (last_v1 or push_end) + 1.0
  print('  latency while switching:  ' + percentiles(
      [c for c in calls if push_start <= c.start < window_end]))
  print('  latency after:            ' + percentiles([c for c in calls if c.start >= window_end]))
  events = [l for l in log.splitlines() if 'AVAILABLE' in l or 'unloaded' in l]
  print('  server log:\n' + '\n'.join(f'    {l.strip()}' for l in events))
  shutil.rmtree(work, ignore_errors=True)
  return 1 if failed or first_v2 is None else 0


if __name__ == '__main__':
  sys.exit(main())
