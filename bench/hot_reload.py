"""Hot reload under load: push a new model version while 16 clients send Predict requests.

Starts ``envsound serve`` (subprocess, free 127.0.0.1 port, ``--file_system_poll_wait_seconds
1``, batching on by default) on a base path holding version 1, lets 16 client threads send
1-clip gRPC Predict requests (no retries, 10 s deadline), then pushes a new version with the
pipeline's own Pusher executor: envsound's AtomicPusher (staging folder, then one rename) by
default, or TFX's Pusher (copies into the version folder, ``saved_model.pb`` last) with
``--tfx-pusher``. Either names the version by the time of the push, as in the pipeline.

It prints the failed requests (goal: zero) by status code, and the times from the push to the
first answer from the new version and to the point from which every answer comes from it,
with latency percentiles before, during and after the switch. Every loop is bounded: each
client stops after ``--max-seconds`` or 100,000 requests.

  .venv/bin/python bench/hot_reload.py [--model cnn1d|tiny] [--no-batching] [--tfx-pusher]
"""

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import List

import benchlib
from benchlib import models, reload

MODEL_NAME = 'hot'
CLIENTS = 16


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', choices=('cnn1d', 'tiny'), default='cnn1d',
                      help='cnn1d: approach 2 architecture with the real Transform graph and '
                           'signatures (default); tiny: tests/support tiny model')
  parser.add_argument('--work-dir', type=Path, default=benchlib.DEFAULT_WORK)
  parser.add_argument('--no-batching', action='store_true')
  parser.add_argument('--batching-file', type=Path, default=benchlib.DEFAULT_BATCHING)
  parser.add_argument('--tfx-pusher', action='store_true',
                      help="push with TFX's Pusher executor instead of envsound's AtomicPusher")
  parser.add_argument('--before', type=float, default=3.0, help='seconds of load before the push')
  parser.add_argument('--after', type=float, default=3.0,
                      help='seconds of load after every client gets the new version')
  parser.add_argument('--max-seconds', type=float, default=90.0, help='hard limit on the load')
  args = parser.parse_args(argv)

  # pylint: disable=import-outside-toplevel
  from tests.support import pusher
  from tests.support.server import local_server
  args.work_dir.mkdir(parents=True, exist_ok=True)
  work = Path(tempfile.mkdtemp(prefix='hot-reload-', dir=args.work_dir))
  base, trainer_out = work / 'serving' / MODEL_NAME, work / 'trainer'
  t = time.perf_counter()
  models.export_model(args.model, base, 1, args.work_dir, seed=1)
  exported = models.export_model(args.model, trainer_out, 2, args.work_dir, seed=2)
  exported.rename(trainer_out / 'Format-Serving')  # a Trainer's Model artifact layout
  files = [f for f in (trainer_out / 'Format-Serving').rglob('*') if f.is_file()]
  print(f'exported {args.model} twice in {time.perf_counter() - t:.1f} s; the new model is '
        f'{sum(f.stat().st_size for f in files) / 1e6:.1f} MB in {len(files)} files', flush=True)

  flags = ['--file_system_poll_wait_seconds=1']
  if not args.no_batching:
    flags += ['--enable_batching', f'--batching_parameters_file={args.batching_file}']
  with local_server(model_base_path=base, model_name=MODEL_NAME, flags=flags, rest=False,
                    timeout_s=300, log_dir=work) as server:
    per_client: List[List[reload.Call]] = [[] for _ in range(CLIENTS)]
    stop = threading.Event()
    began = time.monotonic()
    deadline = began + args.max_seconds
    threads = [threading.Thread(target=reload.client_loop, daemon=True, args=(
        server.grpc_target, MODEL_NAME, i, per_client[i], stop, deadline))
               for i in range(CLIENTS)]
    for thread in threads:
      thread.start()
    time.sleep(args.before)
    push_start = time.monotonic()
    pushed = pusher.push(trainer_out, base, work, atomic=not args.tfx_pusher)
    version = int(pushed.get_string_custom_property('pushed_version'))
    push_end = time.monotonic()
    if reload.wait_for_switch(per_client, version, deadline) is not None:
      time.sleep(args.after)
    stop.set()
    for thread in threads:
      thread.join(30)
    log = server.log()

  print(f'\nhot reload: {args.model} model, {CLIENTS} clients sending 1-clip Predict '
        f'requests, batching {"off" if args.no_batching else "on"}, file system poll every '
        f'1 s, pushed as version {version} by '
        f'{"TFX Pusher" if args.tfx_pusher else "envsound AtomicPusher"}')
  failed = reload.summarize(per_client, 1, version, began, push_start, push_end)
  events = [l for l in log.splitlines() if 'AVAILABLE' in l or 'unloaded' in l]
  print('  server log:\n' + '\n'.join(f'    {l.strip()}' for l in events))
  shutil.rmtree(work, ignore_errors=True)
  return 1 if failed else 0


if __name__ == '__main__':
  sys.exit(main())
