"""The pipeline bench's runs: a child process running ingestion + Transform, its times and memory.

:func:`run_pipeline` is what the child runs; :func:`measure_size` starts children (one per
DirectRunner mode and repeat) for one release size and prints their figures beside a bare
tf.data read of the same files.
"""

import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

from benchlib.memory import TreeMemory
from envsound.core import approaches, features, records
from envsound.pipeline import beam_args
from envsound.report import runs

TRAINING_SET = approaches.WITH_UNBALANCED  # bal_train + unbal_train, capped
COMPONENTS = (f'ExampleGen_{TRAINING_SET}', f'Transform_{TRAINING_SET}')


def run_pipeline(data: str, root: str, mode: str, max_clips: str = '0') -> None:
  """Runs schema, ingestion and Transform of the 150k training set over ``data``."""
  # pylint: disable=import-outside-toplevel
  from tfx import v1 as tfx
  from envsound.pipeline import configs
  from envsound.pipeline import pipeline as pipeline_lib
  cfg = configs.PipelineConfig(data_root=data, pipeline_root=root,
                               serving_dir=os.path.join(root, 'serving'),
                               approaches=('cnn1d_150k',), enable_cache=False,
                               unbalanced_cap=10**9, max_clips=int(max_clips) or None)
  schema_gen = pipeline_lib.schema_component(cfg)
  example_gen = pipeline_lib.example_gen_component(cfg, TRAINING_SET)
  transform = pipeline_lib.transform_component(example_gen, schema_gen, TRAINING_SET)
  metadata = os.path.join(root, 'metadata.sqlite')
  definition = tfx.dsl.Pipeline(
      pipeline_name='envsound-bench', pipeline_root=root,
      components=[schema_gen, example_gen, transform], enable_cache=False,
      metadata_connection_config=tfx.orchestration.metadata
      .sqlite_metadata_connection_config(metadata),
      beam_pipeline_args=beam_args.direct_args(mode))
  tfx.orchestration.LocalDagRunner().run(definition)


def release(work: Path, clips: int) -> Path:
  """A sample release of ``clips`` clips, generated once under ``work``."""
  out = work / f'release-{clips}'
  if not (out / 'eval').is_dir():
    done = subprocess.run([sys.executable, '-m', 'envsound', 'data', 'sample', '--out',
                           str(out), '--clips', str(clips), '--overwrite'],
                          check=True, capture_output=True, text=True)
    print(done.stdout.splitlines()[0], flush=True)
  return out


def tf_data_read(files: List[str]) -> Dict[str, float]:
  """Clips per second of a bare batched tf.data parse of ``files``."""
  # pylint: disable=import-outside-toplevel
  import tensorflow as tf
  context, sequence = records.parse_spec(features.VIDEO_ID_KEY, features.LABELS_KEY)
  dataset = tf.data.TFRecordDataset(files).batch(512).map(
      lambda raw: tf.io.parse_sequence_example(raw, context, sequence)[0][
          features.VIDEO_ID_KEY])
  times = []
  for _ in range(3):  # best of three: the read takes well under a second
    start = time.perf_counter()
    clips = sum(int(batch.shape[0]) for batch in dataset)
    times.append(time.perf_counter() - start)
  return {'clips': clips, 'seconds': min(times), 'clips_per_s': clips / min(times)}


def bare_read(files: List[str]) -> Dict[str, float]:
  """tf_data_read plus the CPU seconds of one such read (all threads of this process)."""
  result = tf_data_read(files)
  begin = time.process_time()
  tf_data_read(files[:max(1, len(files) // 3)])  # three reads of a third: one read's worth
  result['cpu_s'] = time.process_time() - begin
  result['clips_per_cpu_s'] = result['clips'] / result['cpu_s']
  return result


def measured_run(script: str, data: Path, root: Path, mode: str, max_clips: int = 0
                 ) -> Dict[str, float]:
  """Runs ``script --child`` (the pipeline), sampling its memory; returns times and peak RSS."""
  shutil.rmtree(root, ignore_errors=True)
  root.mkdir(parents=True)
  log = root.parent / f'{root.name}.log'
  cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
  start = time.perf_counter()
  with open(log, 'w') as out:
    child = subprocess.Popen([sys.executable, script, '--child', str(data), str(root), mode,
                              str(max_clips)],
                             stdout=out, stderr=subprocess.STDOUT)
    memory = TreeMemory(child.pid)
    code = child.wait()
    memory.stop()
  wall = time.perf_counter() - start
  cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
  if code:
    sys.exit(f'pipeline run failed ({code}); see {log}')
  spans = runs.execution_spans(runs.open_store(str(root / 'metadata.sqlite')))
  run = {'wall_s': wall, 'peak_mib': memory.peak_mib(),  # CPU: the tree's waited processes
         'cpu_s': cpu.ru_utime + cpu.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime}
  for name in COMPONENTS:
    begin, end = spans.get(name, (float('nan'), float('nan')))
    run[name] = end - begin
    run[f'{name}_peak_mib'] = memory.peak_mib(begin, end)
  return run


def measure_size(script: str, args, size: int, modes: List[str]) -> Dict:
  """The tf.data baseline and the best of ``args.repeats`` runs of each mode at ``size``."""
  data = release(args.work, size)
  files = sorted(str(p) for p in data.glob('*/*.tfrecord'))  # as pipeline run --data sees
  nbytes = sum(os.path.getsize(f) for f in files)
  baseline = tf_data_read(files)
  result = {'mib': nbytes / 2**20, 'tf_data': baseline,
            'auto_mode': beam_args.auto_running_mode(nbytes, os.cpu_count() or 1)}
  print(f'\n{size:,} clips ({nbytes / 2**20:.0f} MiB of records): bare tf.data read '
        f'{baseline["clips_per_s"]:,.0f} clips/s', flush=True)
  runs: Dict[str, List[Dict[str, float]]] = {mode: [] for mode in modes}
  for _ in range(args.repeats):  # modes in turn, so drifting load hits each alike
    for mode in modes:
      name = f'root-{size}-{mode}' + (f'-max{args.max_clips}' if args.max_clips else '')
      run = measured_run(script, data, args.work / name, mode, args.max_clips)
      run['data_s'] = run[COMPONENTS[0]] + run[COMPONENTS[1]]
      runs[mode].append(run)
  for mode in modes:
    run = result[mode] = min(runs[mode], key=lambda r: r['data_s'])  # load only adds time
    run['clips_per_s'] = size / run['data_s']  # every clip is read, kept or not
    run['vs_tf_data'] = run['clips_per_s'] / baseline['clips_per_s']
    each = ', '.join(f'{r["data_s"]:.0f}' for r in runs[mode])
    print(f'  {mode:16s} wall {run["wall_s"]:6.1f} s (CPU {run["cpu_s"]:6.1f} s)  ExampleGen '
          f'{run[COMPONENTS[0]]:6.1f} s  Transform {run[COMPONENTS[1]]:6.1f} s  '
          f'{run["clips_per_s"]:6,.0f} clips/s ({run["vs_tf_data"]:.4f}x tf.data)\n'
          f'  {"":16s} peak RSS {run["peak_mib"]:,.0f} MiB (ExampleGen '
          f'{run[COMPONENTS[0] + "_peak_mib"]:,.0f}, Transform '
          f'{run[COMPONENTS[1] + "_peak_mib"]:,.0f}); ExampleGen + Transform of each run: '
          f'{each} s', flush=True)
  return result
