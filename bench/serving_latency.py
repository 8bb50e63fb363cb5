"""gRPC Predict through ``envsound serve`` against the same SavedModel signature in-process.

For one model (by default the real 1D-CNN architecture of approach 2, exported with the real
Transform graph and signatures; or ``--model-dir`` for a pushed base path, or ``--model
tiny`` for tests/support's tiny model) it measures, in one run:

  * latency p50/p99 of one Predict call with 1 clip and with 64 clips (sequential calls);
  * throughput (clips/s) with 1, 8 and 32 concurrent clients, each sending 1-clip requests
    in a closed loop;

first calling the ``predict_embeddings`` signature in-process (``tf.saved_model.load``,
threads for the concurrent clients), then through ``envsound serve`` (a subprocess on free
127.0.0.1 ports) with batching off and with ``--enable_batching --batching_parameters_file``,
and prints a table with the server/in-process ratios. Then it alternates 32-client runs
between batching off, batching on and the gRPC floor (bench/grpc_floor.py: the same Python
gRPC server answering a fixed response, no model), and prints the on/off ratio and how far
the floor leaves room for it. Clients use raw gRPC stubs, one channel each, with requests
built once. Every loop is bounded in time (``--seconds``) and in count.

  .venv/bin/python bench/serving_latency.py [--model cnn1d|tiny] [--model-dir BASE]
      [--seconds 5] [--batching-file serving/config/batching_parameters.pbtxt]
"""

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

import benchlib
from benchlib import models, requests, serving_report
from benchlib import serving_runs as runs


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', choices=models.KINDS, default='cnn1d',
                      help='model to export when --model-dir is not given: the real cnn1d '
                           f'architecture and signatures (default), cnn1d_heavy (the same with '
                           f'{models.HEAVY_CNN1D}), or the tests\' tiny model')
  parser.add_argument('--model-dir', type=Path,
                      help='a pushed model base path (<base>/<version>/saved_model.pb), e.g. '
                           'runs/serving/cnn1d_balanced; its newest version is used')
  parser.add_argument('--work-dir', type=Path, default=benchlib.DEFAULT_WORK,
                      help='caches the exported model (default: %(default)s)')
  parser.add_argument('--seconds', type=float, default=5.0,
                      help='duration of each throughput run and the cap of each latency run')
  parser.add_argument('--rounds', type=int, default=3,
                      help='alternating 32-client on/off runs for the paired ratio')
  parser.add_argument('--batching-file', type=Path, default=benchlib.DEFAULT_BATCHING)
  parser.add_argument('--signature', default='predict_embeddings')
  parser.add_argument('--paired-only', action='store_true',
                      help='only the alternating 32-client on/off rounds (for tuning the '
                           'batching parameters)')
  parser.add_argument('--json', type=Path, help='also write the figures here')
  args = parser.parse_args(argv)

  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  base = args.model_dir.resolve() if args.model_dir else models.cached_base_path(
      args.model, args.work_dir)
  version_dir = models.latest_version_dir(base)
  what = f'{args.model_dir}' if args.model_dir else {
      'cnn1d': 'approach 2 cnn1d (real architecture, Transform graph and signatures)',
      'cnn1d_heavy': f'approach 2 cnn1d with {models.HEAVY_CNN1D} (real Transform graph and '
                     'signatures)',
      'tiny': 'tests/support tiny model'}[args.model]
  print(f'model: {what}\n  {version_dir}; signature {args.signature}; {os.cpu_count()} CPU(s); '
        f'TF {tf.__version__}; batching file {args.batching_file}', flush=True)
  print('batching parameters: ' + ' '.join(
      l.strip() for l in args.batching_file.read_text().splitlines()
      if l.strip() and not l.startswith('#')), flush=True)

  results = {}
  if not args.paired_only:
    make = requests.in_process_calls(version_dir, args.signature)
    results['in-process'] = runs.measure_all(make, args.seconds, 'in-process')
    del make
    batched = runs.in_process_batching(version_dir, args.batching_file, args.signature,
                                  args.seconds)
    unbatched = results['in-process'][f'tp{runs.CLIENTS[-1]}'].clips_per_s
    print(f'  in-process, batch scheduler: {runs.CLIENTS[-1]} clients {batched:.0f} clips/s = '
          f'{batched / unbatched:.2f}x unbatched in-process calls (batching without gRPC)',
          flush=True)
  log_dir = Path(tempfile.mkdtemp(prefix='envsound-bench-logs-'))
  served, paired = runs.run_servers(base, args.batching_file, args.seconds, args.signature,
                               args.rounds, log_dir, args.paired_only)
  results.update(served)
  if args.paired_only:
    serving_report.print_paired(paired, args.rounds, args.seconds)
    return 0
  print()
  print('envsound serve (gRPC, 127.0.0.1) vs the same SavedModel signature in-process; '
        'ratio = serve / in-process')
  print(serving_report.table(results))
  on, off = results['serve on']['tp32'].clips_per_s, results['serve off']['tp32'].clips_per_s
  print(f'\n32-client throughput, batching on / off (runs above): {on:.0f} / {off:.0f} '
        f'clips/s = {on / off:.2f}x')
  serving_report.print_paired(paired, args.rounds, args.seconds)
  if args.json:
    doc = {k: {m: dataclasses.asdict(v) for m, v in r.items()} for k, r in results.items()}
    doc['paired_32'] = {k: [dataclasses.asdict(t) for t in v] for k, v in paired.items()}
    args.json.write_text(json.dumps(doc, indent=1))
  return 0


if __name__ == '__main__':
  sys.exit(main())
