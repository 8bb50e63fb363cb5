"""Client processes never import TensorFlow: the client library, `envsound predict` and
`envsound gui`, each used for real against the session server in a fresh interpreter, and
audio (files and Listen's loop) against the server with VGGish."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from envsound.core import features
from tests.support import tiny_model

pytestmark = pytest.mark.integration

MODEL = 'cnn1d_balanced'
_REPORT = r'''
def report(**facts):
  loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'tensorflow_serving'))
  print('REPORT ' + json.dumps(dict(facts, tensorflow=loaded)), flush=True)
'''
CLIENT_AND_PREDICT = r'''
import contextlib, io, json, sys
import numpy as np
target, model, *paths = sys.argv[1:]
''' + _REPORT + r'''
from envsound.serving.client import Client
from envsound import cli
with Client(target) as client:
  models = [m.name for m in client.list_models()]
  signatures = sorted(client.metadata(model, label='stable').signatures)
  rows = len(client.predict(model, [np.load(p) for p in paths]))
  reference_rows = len(client.reference_map(model))
out = io.StringIO()
with contextlib.redirect_stdout(out):
  code = cli.main(['predict', '--server', target, '--model', model, '--json', *paths])
report(models=models, signatures=signatures, rows=rows, reference_rows=reference_rows,
       predict_exit=code,
       predicted=len(json.loads(out.getvalue())['predictions']))
'''
AUDIO = r'''
import contextlib, io, json, sys, types
target, model, wav = sys.argv[1:]
''' + _REPORT + r'''
from envsound import cli
from envsound.core import audio
from envsound.gui import live
from envsound.gui.results import ModelChoice
from envsound.serving.client import Client
with Client(target) as client:
  frames = client.embed_audio(audio.read_audio(wav))
  updates = []
  try:
    live.listen(live.FileInputStream(wav), client, ModelChoice(model), None,
                types.SimpleNamespace(cancelled=False), updates.append)
  except live.SourceGone:
    pass
out = io.StringIO()
with contextlib.redirect_stdout(out):
  code = cli.main(['predict', '--server', target, '--model', model, '--json', wav])
report(frames=list(frames.shape), live_updates=len(updates), predict_exit=code,
       predicted=len(json.loads(out.getvalue())['predictions']))
'''
GUI = r'''
import json, os, sys, time, tkinter
target, model, reference, *paths = sys.argv[1:]
''' + _REPORT + r'''
from envsound.gui import app as gui_app
windows = []
make_window = gui_app.App.__init__

def keep_window(self, *args, **kwargs):
  windows.append(self)
  make_window(self, *args, **kwargs)

gui_app.App.__init__ = keep_window
run_loop = tkinter.Misc.mainloop

def bounded_mainloop(widget, n=0):
  deadline = time.monotonic() + 90  # connect, draw the model's map, load the clips; then close
  def check():
    done = windows and windows[0].ws.maps and len(windows[0].ws.clips) == len(paths)
    if done or time.monotonic() > deadline:
      widget.quit()
    else:
      widget.after(50, check)
  widget.after(50, check)
  run_loop(widget, n)

tkinter.Misc.mainloop = bounded_mainloop
from envsound import cli
code = cli.main(['gui', '--server', target, '--model', model, '--reference', reference, *paths])
report(gui_exit=code, client_used='envsound.serving.client' in sys.modules,
       clips=len(windows[0].ws.clips), map_points=[len(m) for m in windows[0].ws.maps])
os._exit(0)  # background workers may still hold the window's client
'''


@pytest.fixture(scope='module')
def clip_paths(tmp_path_factory):
  folder = tmp_path_factory.mktemp('light_clips')
  rng = np.random.default_rng(8)
  paths = []
  for i, frames in enumerate((10, 4)):
    paths.append(folder / f'clip{i}.npy')
    np.save(paths[-1], rng.integers(0, 256, (frames, features.EMBEDDING_DIM), np.uint8))
  return [str(p) for p in paths]


def _report(argv, tmp_path, **env_vars):
  env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / 'config'), **env_vars)
  env.pop('TF_USE_LEGACY_KERAS', None)
  done = subprocess.run(argv, capture_output=True, text=True, timeout=240, check=False,
                        env=env, cwd=tmp_path)
  lines = [l for l in done.stdout.splitlines() if l.startswith('REPORT ')]
  assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-3000:]
  return json.loads(lines[-1][len('REPORT '):])


def test_the_client_library_and_predict_never_import_tensorflow(server, clip_paths, tmp_path):
  facts = _report([sys.executable, '-c', CLIENT_AND_PREDICT, server.grpc_target, MODEL,
                   *clip_paths], tmp_path)
  assert facts['tensorflow'] == []
  assert MODEL in facts['models'] and features.UINT8_SIGNATURE in facts['signatures']
  assert facts['rows'] == facts['predicted'] == len(clip_paths)
  assert facts['predict_exit'] == 0
  assert facts['reference_rows'] == tiny_model.REFERENCE_SIZE


def test_the_desktop_client_never_imports_tensorflow(server, clip_paths, xvfb_display,
                                                    tmp_path):
  reference = tmp_path / 'no_reference'
  reference.mkdir()
  facts = _report([sys.executable, '-c', GUI, server.grpc_target, MODEL, str(reference),
                   *clip_paths], tmp_path, DISPLAY=xvfb_display)
  assert facts == {'gui_exit': 0, 'client_used': True, 'tensorflow': [],
                   'clips': len(clip_paths), 'map_points': [tiny_model.REFERENCE_SIZE]}


def test_audio_files_and_listening_never_import_tensorflow(audio_server, tmp_path):
  import soundfile  # pylint: disable=import-outside-toplevel
  from tests.support.vggish import CLASSIFIER  # pylint: disable=import-outside-toplevel
  wav = tmp_path / 'tone.wav'
  t = np.arange(int(2.2 * 22050)) / 22050
  soundfile.write(wav, 0.5 * np.sin(2 * np.pi * 700 * t), 22050)
  facts = _report([sys.executable, '-c', AUDIO, audio_server.grpc_target, CLASSIFIER, str(wav)],
                  tmp_path)
  assert facts == {'frames': [2, features.EMBEDDING_DIM], 'live_updates': 2, 'predict_exit': 0,
                   'predicted': 1, 'tensorflow': []}
