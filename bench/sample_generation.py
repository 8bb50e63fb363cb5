"""Sample release generation: rate against the encode/write floor, and peak memory vs size.

Each measurement runs in a fresh subprocess, whose peak RSS comes from ``os.wait4``:
  * generate: ``generate_release`` of N clips (rate, peak RSS); also at N/10 clips.
  * floor: the same number of clips, pre-generated frames, only ``encode_clip`` +
    ``TFRecordWriter`` (the I/O and serialisation floor any generator pays).
  * write-only: pre-serialised records written with ``TFRecordWriter``.
  * import: importing the same modules and doing nothing (the memory floor).
The peak RSS at N and N/10 clips must be about equal: generation streams shard by shard.

  .venv/bin/python bench/sample_generation.py [--clips 150000] [--small]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

_CHILD = r'''
import json, sys, time
from pathlib import Path
import numpy as np
import tensorflow as tf
from envsound.audioset import sample
from envsound.core.records import encode_clip
mode, out, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
began = time.perf_counter()
if mode == 'generate':
  sample.generate_release(out, n, progress=False)
elif mode in ('floor', 'write'):
  rng = np.random.default_rng(0)
  frames = rng.integers(0, 256, size=(sample.SHARD_SIZE, 10, 128), dtype=np.uint8)
  records = [encode_clip('abcdefghijk', 30.0, 40.0, (0, 137), f) for f in frames]
  out.mkdir()
  began = time.perf_counter()
  for shard, start in enumerate(range(0, n, sample.SHARD_SIZE)):
    with tf.io.TFRecordWriter(str(out / f'{shard:04d}.tfrecord')) as writer:
      for i in range(min(sample.SHARD_SIZE, n - start)):
        writer.write(records[i] if mode == 'write' else
                     encode_clip('abcdefghijk', 30.0, 40.0, (0, 137), frames[i]))
print(json.dumps({'seconds': time.perf_counter() - began}))
'''


def _run(mode: str, out: str, clips: int):
  """Runs one measurement in a fresh process; returns (seconds, peak RSS in MiB)."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  proc = subprocess.Popen([sys.executable, '-c', _CHILD, mode, out, str(clips)],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
  stdout = proc.stdout.read()
  _, status, usage = os.wait4(proc.pid, 0)
  proc.returncode = os.waitstatus_to_exitcode(status)
  if proc.returncode:
    sys.exit(f'{mode} run failed with exit code {proc.returncode}')
  seconds = json.loads(stdout.decode().strip().splitlines()[-1])['seconds']
  return seconds, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--clips', type=int, default=150_000)
  parser.add_argument('--small', action='store_true', help='15,000 clips (quick check)')
  args = parser.parse_args()
  clips = 15_000 if args.small else args.clips
  with tempfile.TemporaryDirectory(prefix='envsound-bench-') as tmp:
    _, import_rss = _run('import', os.path.join(tmp, 'none'), 0)
    gen_s, gen_rss = _run('generate', os.path.join(tmp, 'big'), clips)
    _, small_rss = _run('generate', os.path.join(tmp, 'small'), clips // 10)
    floor_s, _ = _run('floor', os.path.join(tmp, 'floor'), clips)
    write_s, _ = _run('write', os.path.join(tmp, 'write'), clips)
  print(f'sample generation, {clips:,} clips ({os.cpu_count()} CPUs)')
  print(f'  generate_release      {gen_s:7.1f} s  {clips / gen_s:9,.0f} clips/s')
  print(f'  encode + write floor  {floor_s:7.1f} s  {clips / floor_s:9,.0f} clips/s'
        f'   generate / floor = {gen_s / floor_s:.2f}x')
  print(f'  write-only floor      {write_s:7.1f} s  {clips / write_s:9,.0f} clips/s'
        f'   generate / write = {gen_s / write_s:.2f}x')
  print(f'peak RSS: import only {import_rss:,.0f} MiB; {clips // 10:,} clips '
        f'{small_rss:,.0f} MiB; {clips:,} clips {gen_rss:,.0f} MiB; '
        f'ratio {gen_rss / small_rss:.2f} (flat = 1.00)')


if __name__ == '__main__':
  started = time.perf_counter()
  main()
  print(f'(benchmark took {time.perf_counter() - started:.0f} s)')
