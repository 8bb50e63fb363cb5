"""Raw audio through ``envsound serve``: seconds of audio embedded per second of wall time,
and Listen's sound-to-display latency, beside the same network in-process, on 2 cores.

  * in-process baseline: ``core.audio.read_audio`` per file, then ``Embedder.embed_many``
    (the VGGish SavedModel loaded once in this process), as ``envsound embed`` runs it.
  * served: ``client_audio.embed_files`` (decode and cut here, VGGish on the server) against
    ``envsound serve --enable_batching`` with the demo's batching parameters, as
    ``envsound predict FILE.wav`` and the desktop client send audio: one client, and
    ``--clients`` clients each embedding the files at once (their windows share batches).
  * live: the real window under Xvfb (a display this script starts) with ``--listen-file``'s
    stand-in (``live.FileInputStream`` plays a file in real time): seconds from the moment a
    0.96 s window's last sample arrives to its environment label and map point being drawn
    (``App.live_latencies``), and from the window's first sample (that plus the 0.975 s the
    window spans: the most any sound waits), beside one example embedded and classified in
    process.

The server is a subprocess on the same 2 cores (affinity is inherited); random weights (a
demo checkpoint) cost what Google's do. Each throughput runs once to warm up, then
``--repeats`` times; best and median are printed. Goals: >= 20x real time for files,
<= 1.5 s from sound to display.

  .venv/bin/python bench/vggish_serving.py [--files 6] [--seconds 10] [--live-seconds 12]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path

CORES = 2
if hasattr(os, 'sched_setaffinity') and len(os.sched_getaffinity(0)) > CORES:
  os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:CORES])

import benchlib  # pylint: disable=wrong-import-position,unused-import
# pylint: disable=wrong-import-position
import numpy as np

from envsound.core import audio, features, warmup
from envsound.serving import client_audio, model_config, options
from envsound.serving.client import Client
from envsound.vggish import demo_files, embed, export
from tests.support.display import xvfb
from tests.support.server import local_server
from tests.support.tiny_model import export_tiny_model
from vggish_throughput import timed, write_files

CLASSIFIER = 'tiny'
EXAMPLE_WAIT = audio.EXAMPLE_SPAN / audio.SAMPLE_RATE  # a window's first sample to its last


def serving_dir(tmp: Path) -> Path:
  """VGGish (random weights) as ``vggish`` and a tiny classifier with a map."""
  ckpt, pca = demo_files.write_demo_files(tmp / 'ckpt')
  root = tmp / 'serving'
  export.export_model(ckpt, pca, root / features.VGGISH_MODEL_NAME, version=1)
  warmup.write_warmup_requests(export_tiny_model(root / CLASSIFIER, 1, ('a', 'b', 'c'), seed=1))
  model_config.write_model_config(root, root / 'models.config')
  return root


def pump(window, until, timeout_s: float) -> None:
  deadline = time.monotonic() + timeout_s
  while not until():
    if time.monotonic() > deadline:
      raise SystemExit(f'timed out; status: {window.status_var.get()!r}')
    window.root.update()
    time.sleep(0.002)


def live_latencies(target: str, sound: Path, seconds: float) -> tuple:
  """Listen in the real window on ``sound`` until it ends; the window's latencies."""
  # pylint: disable=import-outside-toplevel
  from envsound.gui import app as gui_app
  with xvfb() as display:
    os.environ['DISPLAY'] = display
    window = gui_app.App(gui_app.make_root(), server=target, models=[CLASSIFIER])
    window.set_listen_source(sound)
    pump(window, lambda: window.ws.maps, 120)  # the model's map is drawn
    window.listen_button.invoke()
    pump(window, lambda: window.live_job is None, 120 + 2 * seconds)  # until the file ends
    print(f'  window: {window.status_var.get()}')
    print('  latencies: ' + ' '.join(f'{s:.3f}' for s in window.live_latencies))
    latencies, dropped = list(window.live_latencies), window.live_updates[-1].dropped
    window.close()
  return latencies, dropped


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--files', type=int, default=6)
  parser.add_argument('--seconds', type=float, default=10.0, help='per file')
  parser.add_argument('--rate', type=int, default=44100, help='sample rate of the files')
  parser.add_argument('--clients', type=int, default=3, help='concurrent clients')
  parser.add_argument('--live-seconds', type=float, default=12.0)
  parser.add_argument('--repeats', type=int, default=3)
  args = parser.parse_args()
  with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    os.environ['XDG_CONFIG_HOME'] = str(tmp / 'config')  # the window remembers nothing here
    root = serving_dir(tmp)
    (tmp / 'audio').mkdir()
    files = write_files(tmp / 'audio', args.files, args.seconds, args.rate)
    total = args.files * args.seconds
    embedder = embed.Embedder(root / features.VGGISH_MODEL_NAME)
    flags = ['--enable_batching', f'--batching_parameters_file={options.BATCHING_PARAMETERS_FILE}']
    with local_server(model_config_file=root / 'models.config', flags=flags, rest=False,
                      probe_model=CLASSIFIER, timeout_s=300) as server, \
        Client(server.grpc_target, timeout_s=120) as client:

      def served_one_client():
        client_audio.embed_files(client, files)

      def served_clients():
        with futures.ThreadPoolExecutor(args.clients) as pool:
          list(pool.map(lambda _: client_audio.embed_files(client, files), range(args.clients)))

      print(f'{args.files} files x {args.seconds:g} s at {args.rate} Hz stereo = {total:g} s '
            f'of audio, {CORES} cores, best/median of {args.repeats}')
      print(f'{"":<52}{"best s":>8}{"median s":>10}{"x real time":>13}')
      for name, fn, seconds in (
          ('in-process: read + embed_many (envsound embed)',
           lambda: embedder.embed_many([audio.read_audio(p) for p in files]), total),
          ('served: one client, file after file', served_one_client, total),
          (f'served: {args.clients} clients at once', served_clients, total * args.clients)):
        best, median = timed(fn, args.repeats)
        print(f'{name:<52}{best:>8.2f}{median:>10.2f}{seconds / best:>12.1f}x')

      window = audio.read_audio(files[0])[:audio.EXAMPLE_SPAN]
      clip = np.zeros((1, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
      in_process = [timed(lambda: embedder.embed(window), 1)[0] for _ in range(10)]
      predict = [timed(lambda: client.predict(CLASSIFIER, clip), 1)[0] for _ in range(10)]
      served = [timed(lambda: (client_audio.embed_waveform(client, window),
                               client.predict(CLASSIFIER, clip)), 1)[0] for _ in range(10)]
      sound = write_files(tmp / 'audio', 1, args.live_seconds, args.rate)[0]
      latencies, dropped = live_latencies(server.grpc_target, sound, args.live_seconds)
    med = statistics.median
    print(f'\nlive ({args.live_seconds:g} s file stand-in, {len(latencies)} windows, '
          f'{dropped} dropped), median / max s:')
    print(f'  in-process baseline: embed one example {med(in_process):.3f} + served '
          f'predict {med(predict):.3f}')
    print(f'  served: embed one example + predict {med(served):.3f}')
    print(f'  window: last sample -> label and map drawn {med(latencies):.3f} / '
          f'{max(latencies):.3f}')
    print(f'  window: first sample -> drawn (+{EXAMPLE_WAIT:.3f} s) '
          f'{med(latencies) + EXAMPLE_WAIT:.3f} / {max(latencies) + EXAMPLE_WAIT:.3f} '
          '(goal <= 1.5)')


if __name__ == '__main__':
  sys.exit(main())
