"""Ingestion + Transform through TFX against a bare tf.data read of the same files.

Per sample-release size (default 20,000 and 150,000 clips, all splits) and DirectRunner mode,
a child process runs ImportSchemaGen -> ExampleGen_150k -> Transform_150k as ``envsound
pipeline run`` builds them (``pipeline.pipeline``'s factories, LocalDagRunner, SQLite ML
Metadata, no cache). Printed: wall and CPU time of the run (start-up included), ExampleGen's
and Transform's own times (ML Metadata), clips/s through those two, and the peak summed RSS
of the process tree (Beam's workers included, sampled every 0.2 s). Baseline, same run:
``TFRecordDataset(files).batch(512).map(parse_sequence_example)`` over the same files (no
checks, no writing; best of three). Summary per mode: time growth between sizes against the
clip ratio (150k/20k = 7.5: linear), the marginal rate (extra clips / extra seconds, start-up
removed) against tf.data, peak RSS per size (flat: the data streams), and the fastest mode
per size beside the one ``pipeline run --direct-running-mode auto`` picks.

  .venv/bin/python bench/pipeline_throughput.py [--sizes 20000,150000] [--repeats 1]
      [--modes in_memory,multi_processing] [--max-clips N] [--work /tmp/envsound-bench/pipeline]
"""

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Dict, List

import benchlib  # pylint: disable=unused-import  (sys.path, TensorFlow's settings)
from benchlib import pipeline_runs

DEFAULT_WORK = Path(tempfile.gettempdir()) / 'envsound-bench' / 'pipeline'


def summarize(results: Dict, sizes: List[int], modes: List[str]) -> None:
  """Prints growth, marginal rate and memory per mode, and the fastest mode per size."""
  print('\nSummary (ExampleGen + Transform time; ratios are the comparable part)')
  for mode in modes:
    for small, large in zip(sizes, sizes[1:]):
      a, b = results[small][mode], results[large][mode]
      extra_s = b['data_s'] - a['data_s']
      marginal = (f'{(large - small) / extra_s:,.0f} clips/s ('
                  f'{(large - small) / extra_s / results[large]["tf_data"]["clips_per_s"]:.4f}'
                  'x tf.data)' if extra_s > 0 else 'n/a (no extra time)')
      print(f'  {mode}: {large:,} clips took {b["data_s"] / a["data_s"]:.2f}x the time of '
            f'{small:,} (clips x{large / small:.2f}; whole run wall '
            f'{b["wall_s"] / a["wall_s"]:.2f}x, CPU {b["cpu_s"] / a["cpu_s"]:.2f}x); marginal '
            f'{marginal}; peak RSS {a["peak_mib"]:,.0f} -> {b["peak_mib"]:,.0f} MiB '
            f'({b["peak_mib"] / a["peak_mib"]:.2f}x)')
  for size in sizes:
    if len(modes) > 1:
      best = min(modes, key=lambda m: results[size][m]['data_s'])
      times = ', '.join(f'{m} {results[size][m]["data_s"]:.0f} s' for m in modes)
      print(f'  {size:,} clips ({results[size]["mib"]:.0f} MiB): fastest {best} ({times}); '
            f'--direct-running-mode auto on {os.cpu_count()} cores picks '
            f'{results[size]["auto_mode"]}')


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--sizes', default='20000,150000', help='release sizes in clips')
  parser.add_argument('--modes', default='in_memory,multi_processing',
                      help='DirectRunner modes to compare')
  parser.add_argument('--repeats', type=int, default=1,
                      help='runs per size and mode; the fastest is reported')
  parser.add_argument('--work', type=Path, default=DEFAULT_WORK,
                      help='folder for releases and pipeline roots (reused)')
  parser.add_argument('--max-clips', type=int, default=0,
                      help='keep at most N clips per split (as `pipeline run --max-clips`); '
                           'default: keep all')
  parser.add_argument('--child', nargs=4, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    pipeline_runs.run_pipeline(*args.child)
    return
  sizes = [int(s) for s in args.sizes.split(',')]
  modes = args.modes.split(',')
  print(f'{os.cpu_count()} cores; sizes {sizes}; modes {modes}; {args.repeats} run(s) each; '
        f'max clips per split {args.max_clips or "all"}', flush=True)
  results = {size: pipeline_runs.measure_size(__file__, args, size, modes)
             for size in sizes}
  summarize(results, sizes, modes)
  print(json.dumps({str(k): v for k, v in results.items()}))


if __name__ == '__main__':
  main()
