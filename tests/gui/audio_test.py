"""Audio in the real window under Xvfb, against ``envsound serve`` serving the test VGGish and
a tiny classifier: audio files added beside clips, and Listen with a file standing in for
the microphone (pressed with real X input), until the file ends as a vanishing device would.
"""

import numpy as np
import pytest
import soundfile

from envsound.core import audio
from envsound.gui import listen, live
from envsound.serving.client import Client
from tests.gui import xinput
from tests.gui.conftest import screenshot
from tests.gui.xinput import pump, settle
from tests.support.tiny_model import REFERENCE_SIZE
from tests.support.vggish import CLASSES, CLASSIFIER

pytestmark = [pytest.mark.gui, pytest.mark.integration]
SECONDS = 6.0


@pytest.fixture(scope='module')
def sound(tmp_path_factory):
  """6 s of stereo 44.1 kHz that changes every 1.5 s: tones, noise, a chirp, clicks."""
  rate, rng = 44100, np.random.default_rng(11)
  t = np.arange(int(1.5 * rate)) / rate
  parts = [0.5 * np.sin(2 * np.pi * 440 * t), rng.normal(0, 0.2, len(t)),
           0.4 * np.sin(2 * np.pi * (300 + 2000 * t) * t), (rng.random(len(t)) > 0.999) * 0.9]
  mono = np.concatenate(parts).clip(-1, 1)
  path = tmp_path_factory.mktemp('sound') / 'street.wav'
  soundfile.write(path, np.stack([mono, 0.5 * mono], 1), rate)
  return path


@pytest.fixture(scope='module')
def shared_window(make_shared_app, audio_server):
  return make_shared_app(server=audio_server.grpc_target, models=[CLASSIFIER])


@pytest.fixture
def connected(shared_window):
  """The shared window with no clips and the model's own map drawn."""
  app = shared_window
  app.clear_clips()
  pump(app, lambda: app.map_view.counts() == [(REFERENCE_SIZE, 0)])  # the model's own map
  return app


def test_audio_files_are_embedded_on_the_server_and_added(connected, audio_server, sound,
                                                          tmp_path):
  app = connected
  broken = tmp_path / 'broken.flac'
  broken.write_bytes(b'fLaC' + b'\x00' * 50)
  app.load_files([sound, broken])
  pump(app, lambda: len(app.ws.clips) == 1 and len(app.ws.rejected) == 1)
  with Client(audio_server.grpc_target) as client:
    want = client.embed_audio(audio.read_audio(sound))
  assert app.ws.names == ['street.wav']
  np.testing.assert_array_equal(app.ws.clips[0].frames, want)
  assert app.skipped.rows()[0][0] == str(broken)
  assert app.skipped.rows()[0][1].startswith('cannot decode audio')


def test_listen_shows_the_environment_and_a_moving_point_until_the_source_ends(
    connected, audio_server, sound, xvfb_display, artifacts):
  app = connected
  problem = live.microphone_problem()
  if problem:  # no PortAudio here: the button is disabled and says why; hovering says more
    assert str(app.listen_button.cget('state')) == 'disabled'
    assert app.live_var.get() == f'Listen unavailable: {problem}'
    settle(app)
    xinput.xdotool('mousemove', '--sync', *map(str, xinput.centre(app.listen_button)))
    pump(app, lambda: '--listen-file FILE' in app.status_var.get(), timeout_s=30)
    assert app.status_var.get().startswith(f'Listen unavailable: {problem}; ')
  app.set_listen_source(sound)
  assert str(app.listen_button.cget('state')) != 'disabled'
  settle(app)
  xinput.click(app.listen_button)
  seen = []

  def newest():
    if app.live_updates and (not seen or seen[-1][0] is not app.live_updates[-1]):
      seen.append((app.live_updates[-1], app.live_point, app.live_var.get()))
    return len(seen) >= 3

  pump(app, newest, timeout_s=60)
  assert app.listen_button.cget('text') == listen.STOP
  screenshot(xvfb_display, artifacts / 'gui_listening.png')
  for update, point, label in seen:
    assert update.top_class in CLASSES
    assert label.startswith(f'Hearing: {update.top_class} {update.top_score:.2f}')
    np.testing.assert_allclose(point, update.xy)
  assert len({tuple(np.round(p, 5)) for _, p, _ in seen}) > 1  # the point moves

  # The file ends: the source is gone, the stream closed, the button reads Listen again.
  pump(app, lambda: app.live_job is None, timeout_s=60)
  assert app.listen_button.cget('text') == listen.LISTEN
  assert app.live_stream.closed
  status = app.status_var.get()
  assert status.startswith('Listening stopped after') and 'recording ended' in status
  assert '\n' not in status
  # One update per 0.96 s of sound, each the last few seconds as the server classifies them.
  waveform = audio.read_audio(sound)
  assert len(app.live_updates) + app.live_updates[-1].dropped == audio.num_examples(
      len(waveform))
  with Client(audio_server.grpc_target) as client:
    frames = client.embed_audio(waveform)
    for k, update in enumerate(app.live_updates):
      clip = frames[max(0, k + 1 - live.CONTEXT_FRAMES):k + 1]
      want = client.predict(CLASSIFIER, [clip])
      assert update.top_class == want.top_class[0]
      np.testing.assert_allclose(update.xy, want.map_xy[0], atol=0.05)


def test_audio_added_before_connecting_is_embedded_once_connected(make_app, audio_server,
                                                                 sound):
  app = make_app(server=audio_server.grpc_target, models=[CLASSIFIER], connect=False)
  app.load_files([sound])
  assert app.ws.clips == []
  pump(app, lambda: app.session is not None and len(app.ws.clips) == 1)
  assert app.ws.names == ['street.wav'] and app.ws.clips[0].frames.shape == (6, 128)
