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
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support (server launcher, tiny model)
sys.path.insert(0, str(REPO / 'bench'))  # grpc_floor
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')

# Import the repo's namespace package `tests` before TensorFlow: importing TF puts IPython's
# extensions folder, which holds a regular `tests` package, on sys.path.
import tests.support  # pylint: disable=g-import-not-at-top,unused-import
import numpy as np  # pylint: disable=g-import-not-at-top

DEFAULT_BATCHING = REPO / 'envsound' / 'serving' / 'config' / 'batching_parameters.pbtxt'
DEFAULT_WORK = Path(tempfile.gettempdir()) / 'envsound-bench'
MODEL_NAME = 'bench'
LATENCY_CALLS = {1: 300, 64: 100}  # at most this many sequential calls per latency figure
CLIENTS = (1, 8, 32)
MAX_CALLS_PER_CLIENT = 200_000
FLOOR = 'gRPC floor'  # bench/grpc_floor.py: the same gRPC server with no model behind it


# --- models --------------------------------------------------------------------------------

def class_names() -> List[str]:
  from envsound.core.taxonomy import load_taxonomy  # pylint: disable=import-outside-toplevel
  return list(load_taxonomy().names)


def _transform_graph(work: Path, num_classes: int, clips: int = 90) -> str:
  """Runs the real Transform once on synthetic AudioSet clips; cached under ``work``."""
  out = work / 'transform'
  done = out / '.done'
  from envsound.components import local_transform  # pylint: disable=import-outside-toplevel
  graph = out / local_transform.TRANSFORM_GRAPH
  if done.exists():
    return str(graph)
  import shutil  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow.core.example import example_pb2  # pylint: disable=import-outside-toplevel
  from envsound.core.records import encode_clip  # pylint: disable=import-outside-toplevel
  from envsound.core import features  # pylint: disable=import-outside-toplevel
  import envsound.schemas  # pylint: disable=import-outside-toplevel
  shutil.rmtree(out, ignore_errors=True)
  out.mkdir(parents=True)
  rng = np.random.default_rng(0)
  means = rng.normal(0, 0.6, [num_classes, features.EMBEDDING_DIM])
  path = out / 'train.tfrecord'
  with tf.io.TFRecordWriter(str(path)) as writer:
    for i in range(clips):
      env = i % num_classes
      x = means[env] + rng.normal(0, 0.5, [(7, 10, 12)[i % 3], features.EMBEDDING_DIM])
      frames = np.clip(np.round((x - features.QUANTIZE_MIN) / features.QUANTIZE_SCALE),
                       0, 255).astype(np.uint8)
      ex = example_pb2.SequenceExample.FromString(encode_clip(f'v{i:05d}', 0.0, 10.0, [1],
                                                              frames))
      ex.context.feature[features.ENVIRONMENT_KEY].int64_list.value.append(env)
      writer.write(ex.SerializeToString())
  schema = local_transform.load_schema(Path(envsound.schemas.__file__).parent /
                                       'audioset_raw.pbtxt')
  local_transform.run_transform({'train': str(path)}, schema, str(out))
  done.touch()
  return str(graph)


def export_cnn1d(base_path: Path, version: int, work: Path = DEFAULT_WORK,
                 seed: int = 0, **hparams) -> Path:
  """Exports approach 2's 1D CNN (default Hparams unless ``hparams`` override them;
  untrained weights seeded by ``seed``) with the real Transform graph and serving
  signatures as ``<base_path>/<version>``, plus warm-up requests, as the Trainer does.
  With default Hparams the compute per clip is that of the real model."""
  import tensorflow_transform as tft  # pylint: disable=import-outside-toplevel
  import tf_keras  # pylint: disable=import-outside-toplevel
  from envsound.components import signatures, trainer_cnn1d  # pylint: disable=import-outside-toplevel
  from envsound.core import warmup  # pylint: disable=import-outside-toplevel
  names = class_names()
  tft_output = tft.TFTransformOutput(_transform_graph(Path(work), len(names)))
  tf_keras.utils.set_random_seed(seed)
  model = trainer_cnn1d.build_model(trainer_cnn1d.Hparams(**hparams), len(names))
  out = Path(base_path) / str(int(version))
  signatures.save_model(model, str(out), tft_output, names)
  warmup.write_warmup_requests(str(out))
  return out


def export_tiny(base_path: Path, version: int, seed: int = 0) -> Path:
  from tests.support.tiny_model import export_tiny_model  # pylint: disable=import-outside-toplevel
  from envsound.core import warmup  # pylint: disable=import-outside-toplevel
  out = export_tiny_model(base_path, version, class_names(), seed=seed)
  warmup.write_warmup_requests(str(out))
  return out


# --model choices: the real cnn1d, a 16x heavier variant of it, and the tests' tiny model.
HEAVY_CNN1D = {'filters': 512, 'conv_layers': 3, 'hidden': 256}


def export_model(kind: str, base_path: Path, version: int, work: Path, seed: int = 0) -> Path:
  if kind == 'tiny':
    return export_tiny(base_path, version, seed)
  return export_cnn1d(base_path, version, work, seed,
                      **(HEAVY_CNN1D if kind == 'cnn1d_heavy' else {}))


def cached_base_path(kind: str, work: Path) -> Path:
  """A base path holding version 1 of ``kind``, exported once and reused by later runs."""
  base = Path(work) / f'model_{kind}'
  if not (base / '1' / 'saved_model.pb').exists():
    import shutil  # pylint: disable=import-outside-toplevel
    shutil.rmtree(base, ignore_errors=True)
    started = time.perf_counter()
    export_model(kind, base, 1, Path(work))
    print(f'exported {kind} to {base}/1 in {time.perf_counter() - started:.1f} s', flush=True)
  return base


def latest_version_dir(base: Path) -> Path:
  versions = sorted(int(p.name) for p in Path(base).iterdir()
                    if p.name.isdigit() and (p / 'saved_model.pb').exists())
  if not versions:
    raise SystemExit(f'{base}: no <version>/saved_model.pb')
  return Path(base) / str(versions[-1])


def clips(n: int, seed: int = 0) -> np.ndarray:
  from envsound.core import features  # pylint: disable=import-outside-toplevel
  return np.random.default_rng(seed).integers(
      0, 256, (n, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)


# --- measuring -----------------------------------------------------------------------------

@dataclasses.dataclass
class Latency:
  p50_ms: float
  p99_ms: float
  calls: int


@dataclasses.dataclass
class Throughput:
  clips_per_s: float
  calls: int
  errors: int
  p50_ms: float


def measure_latency(call: Callable[[], object], max_calls: int, seconds: float,
                    warmup_calls: int = 5) -> Latency:
  """Sequential calls: at most ``max_calls`` or ``seconds``, after a few warm-up calls."""
  for _ in range(warmup_calls):
    call()
  times = []
  deadline = time.perf_counter() + seconds
  while len(times) < max_calls and time.perf_counter() < deadline:
    t = time.perf_counter()
    call()
    times.append(time.perf_counter() - t)
  ms = np.array(times) * 1e3
  return Latency(float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), len(ms))


def measure_throughput(make_call: Callable[[int], Callable[[], object]], clients: int,
                       seconds: float, clips_per_call: int = 1) -> Throughput:
  """``clients`` threads, each calling its own ``make_call(i)()`` in a closed loop for
  ``seconds`` (and at most MAX_CALLS_PER_CLIENT times); counts completed clips."""
  calls = [make_call(i) for i in range(clients)]
  for call in calls:
    call()  # connect / warm before the clock starts
  start_barrier = threading.Barrier(clients + 1)
  done = [0] * clients
  errors = [0] * clients
  latencies: List[List[float]] = [[] for _ in range(clients)]
  stop = threading.Event()

  def run(i):
    start_barrier.wait()
    while not stop.is_set() and done[i] + errors[i] < MAX_CALLS_PER_CLIENT:
      t = time.perf_counter()
      try:
        calls[i]()
      except Exception:  # pylint: disable=broad-except
        errors[i] += 1
        continue
      latencies[i].append(time.perf_counter() - t)
      done[i] += 1

  threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
  for thread in threads:
    thread.start()
  start_barrier.wait()
  began = time.perf_counter()
  stop.wait(seconds)
  stop.set()
  for thread in threads:
    thread.join(60)
  elapsed = time.perf_counter() - began
  all_ms = np.concatenate([np.array(l) for l in latencies]) * 1e3 if any(latencies) else [0]
  return Throughput(sum(done) * clips_per_call / elapsed, sum(done), sum(errors),
                    float(np.percentile(all_ms, 50)))


def in_process_calls(version_dir: Path, signature: str):
  """Returns ``make(batch) -> call`` running the SavedModel signature in this process, as
  the server's Servable does (numpy in, numpy out)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from envsound.core import features  # pylint: disable=import-outside-toplevel
  loaded = tf.saved_model.load(str(version_dir), tags=['serve'])
  fn = loaded.signatures[signature]

  def make(batch: np.ndarray):
    def call():
      outputs = fn(**{features.EMBEDDING_INPUT: tf.constant(batch)})
      return {k: v.numpy() for k, v in outputs.items()}
    return call
  make.loaded = loaded  # keep the SavedModel alive
  return make


def predict_request(batch: np.ndarray, signature: str):
  """A PredictRequest of ``batch`` for the bench's model."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import predict_pb2  # pylint: disable=import-outside-toplevel
  from envsound.core import features  # pylint: disable=import-outside-toplevel
  request = predict_pb2.PredictRequest()
  request.model_spec.name = MODEL_NAME
  request.model_spec.signature_name = signature
  request.inputs[features.EMBEDDING_INPUT].CopyFrom(tf.make_tensor_proto(batch))
  return request


def in_process_batching(version_dir: Path, batching_file: Path, signature: str,
                        seconds: float) -> float:
  """32-client throughput (clips/s) through envsound serve's own Servable and batch
  scheduler, in this process: batching without gRPC."""
  from envsound.core import features  # pylint: disable=import-outside-toplevel
  from envsound.serving import model_config, servable  # pylint: disable=import-outside-toplevel
  options = model_config.read_batching_parameters(str(batching_file))
  served = servable.Servable(MODEL_NAME, 1, version_dir, options)
  try:
    def make(i):
      inputs = {features.EMBEDDING_INPUT: clips(1, seed=100 + i)}
      return lambda: served.predict(signature, inputs)
    return measure_throughput(make, CLIENTS[-1], seconds).clips_per_s
  finally:
    served.close()


def grpc_calls(target: str, signature: str):
  """Returns ``make(batch) -> call`` sending one prebuilt PredictRequest on its own
  channel (its own TCP connection) per call object; a call returns the response."""
  import grpc  # pylint: disable=import-outside-toplevel
  from tensorflow_serving.apis import prediction_service_pb2_grpc  # pylint: disable=import-outside-toplevel
  channels = []

  def make(batch: np.ndarray):
    request = predict_request(batch, signature)
    channel = grpc.insecure_channel(target, options=[
        ('grpc.use_local_subchannel_pool', 1), ('grpc.max_receive_message_length', -1)])
    channels.append(channel)
    stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
    return lambda: stub.Predict(request, timeout=30)

  def close():
    for channel in channels:
      channel.close()
  make.close = close
  return make


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
  import contextlib  # pylint: disable=import-outside-toplevel
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
      makes[name] = grpc_calls(server.grpc_target, signature)
      stack.callback(makes[name].close)
    one_clip = clips(1, seed=100)
    floor = stack.enter_context(grpc_floor.running(makes['serve off'](one_clip)(),
                                                   predict_request(one_clip, signature)))
    makes[FLOOR] = grpc_calls(floor, signature)
    stack.callback(makes[FLOOR].close)
    results = {} if paired_only else {
        name: measure_all(makes[name], seconds, name.replace('serve', 'serve, batching'))
        for name in flags}
    paired = paired_rounds(makes, CLIENTS[-1], seconds, rounds)
    return results, paired


# --- report --------------------------------------------------------------------------------

def table(results: Dict[str, Dict[str, object]]) -> str:
  cols = [k for k in ('in-process', 'serve off', 'serve on') if k in results]
  head = f'{"":34}' + ''.join(f'{c:>14}' for c in cols)
  head += ''.join(f'{"ratio " + c.split()[-1]:>12}' for c in cols[1:])
  lines = [head, '-' * len(head)]
  base = results['in-process']

  def row(title, key, attr, fmt):
    vals = [getattr(results[c][key], attr) for c in cols]
    line = f'{title:34}' + ''.join(f'{v:>14{fmt}}' for v in vals)
    line += ''.join(f'{v / getattr(base[key], attr):>11.2f}x' for v in vals[1:])
    lines.append(line)

  for n in (1, 64):
    row(f'Predict {n:>2} clip(s)   p50 latency ms', f'lat{n}', 'p50_ms', '.2f')
    row(f'Predict {n:>2} clip(s)   p99 latency ms', f'lat{n}', 'p99_ms', '.2f')
  for c in CLIENTS:
    row(f'{c:>2} client(s), 1 clip  clips/s', f'tp{c}', 'clips_per_s', '.0f')
  for c in CLIENTS:
    row(f'{c:>2} client(s), 1 clip  p50 ms', f'tp{c}', 'p50_ms', '.2f')
  errors = {c: sum(results[c][f'tp{n}'].errors for n in CLIENTS) for c in cols}
  lines.append(f'{"failed calls":34}' + ''.join(f'{errors[c]:>14}' for c in cols))
  return '\n'.join(lines)


def _print_paired(paired, args) -> int:
  def median(name, over='serve off'):
    return float(np.median([a.clips_per_s / b.clips_per_s
                            for a, b in zip(paired[name], paired[over])]))
  runs = lambda name: '/'.join(f'{t.clips_per_s:.0f}' for t in paired[name])  # pylint: disable=unnecessary-lambda-assignment
  print(f'32 clients, {args.rounds} alternating rounds of {args.seconds:g} s, clips/s: '
        f'batching on {runs("serve on")}, off {runs("serve off")}, gRPC floor {runs(FLOOR)}')
  print(f'  batching on / off: median {median("serve on"):.2f}x (goal >= 3x)')
  print(f'  gRPC floor / batching off: median {median(FLOOR):.2f}x: the most any batching '
        f'could give with these clients and this gRPC server, at zero model cost')
  print(f'  batching on / gRPC floor: median {median("serve on", FLOOR):.2f}x')
  return 0


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
  parser.add_argument('--model', choices=('cnn1d', 'cnn1d_heavy', 'tiny'), default='cnn1d',
                      help='model to export when --model-dir is not given: the real cnn1d '
                           f'architecture and signatures (default), cnn1d_heavy (the same with '
                           f'{HEAVY_CNN1D}), or the tests\' tiny model')
  parser.add_argument('--model-dir', type=Path,
                      help='a pushed model base path (<base>/<version>/saved_model.pb), e.g. '
                           'runs/serving/cnn1d_balanced; its newest version is used')
  parser.add_argument('--work-dir', type=Path, default=DEFAULT_WORK,
                      help='caches the exported model (default: %(default)s)')
  parser.add_argument('--seconds', type=float, default=5.0,
                      help='duration of each throughput run and the cap of each latency run')
  parser.add_argument('--rounds', type=int, default=3,
                      help='alternating 32-client on/off runs for the paired ratio')
  parser.add_argument('--batching-file', type=Path, default=DEFAULT_BATCHING)
  parser.add_argument('--signature', default='predict_embeddings')
  parser.add_argument('--paired-only', action='store_true',
                      help='only the alternating 32-client on/off rounds (for tuning the '
                           'batching parameters)')
  parser.add_argument('--json', type=Path, help='also write the figures here')
  args = parser.parse_args(argv)

  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  base = args.model_dir.resolve() if args.model_dir else cached_base_path(args.model,
                                                                          args.work_dir)
  version_dir = latest_version_dir(base)
  what = f'{args.model_dir}' if args.model_dir else {
      'cnn1d': 'approach 2 cnn1d (real architecture, Transform graph and signatures)',
      'cnn1d_heavy': f'approach 2 cnn1d with {HEAVY_CNN1D} (real Transform graph and '
                     'signatures)',
      'tiny': 'tests/support tiny model'}[args.model]
  print(f'model: {what}\n  {version_dir}; signature {args.signature}; {os.cpu_count()} CPU(s); '
        f'TF {tf.__version__}; batching file {args.batching_file}', flush=True)
  print('batching parameters: ' + ' '.join(
      l.strip() for l in args.batching_file.read_text().splitlines()
      if l.strip() and not l.startswith('#')), flush=True)

  results = {}
  if not args.paired_only:
    make = in_process_calls(version_dir, args.signature)
    results['in-process'] = measure_all(make, args.seconds, 'in-process')
    del make
    batched = in_process_batching(version_dir, args.batching_file, args.signature,
                                  args.seconds)
    unbatched = results['in-process'][f'tp{CLIENTS[-1]}'].clips_per_s
    print(f'  in-process, batch scheduler: {CLIENTS[-1]} clients {batched:.0f} clips/s = '
          f'{batched / unbatched:.2f}x unbatched in-process calls (batching without gRPC)',
          flush=True)
  log_dir = Path(tempfile.mkdtemp(prefix='envsound-bench-logs-'))
  served, paired = run_servers(base, args.batching_file, args.seconds, args.signature,
                               args.rounds, log_dir, args.paired_only)
  results.update(served)
  if args.paired_only:
    return _print_paired(paired, args)
  print()
  print('envsound serve (gRPC, 127.0.0.1) vs the same SavedModel signature in-process; '
        'ratio = serve / in-process')
  print(table(results))
  on, off = results['serve on']['tp32'].clips_per_s, results['serve off']['tp32'].clips_per_s
  print(f'\n32-client throughput, batching on / off (runs above): {on:.0f} / {off:.0f} '
        f'clips/s = {on / off:.2f}x')
  _print_paired(paired, args)
  if args.json:
    doc = {k: {m: dataclasses.asdict(v) for m, v in r.items()} for k, r in results.items()}
    doc['paired_32'] = {k: [dataclasses.asdict(t) for t in v] for k, v in paired.items()}
    args.json.write_text(json.dumps(doc, indent=1))
  return 0


if __name__ == '__main__':
  sys.exit(main())
