"""Audio files through the server: the client decodes and cuts them, the served VGGish
embeds them (batching on), then a classifier predicts, as ``envsound predict FILE.wav`` does.
"""

import numpy as np
import pytest
import soundfile

from envsound import cli
from envsound.core import audio
from envsound.serving import client_audio
from envsound.serving.client import Client, NoVGGishModelError
from tests.support.vggish import CLASSIFIER

pytestmark = pytest.mark.integration


@pytest.fixture(scope='module')
def recordings(tmp_path_factory):
  """A stereo 44.1 kHz wav, a mono 22.05 kHz flac (both 3.2 s), a clip and a corrupt wav."""
  folder = tmp_path_factory.mktemp('recordings')
  rng = np.random.default_rng(7)
  t44, t22 = np.arange(int(3.2 * 44100)) / 44100, np.arange(int(3.2 * 22050)) / 22050
  stereo = np.stack([0.4 * np.sin(2 * np.pi * 660 * t44), rng.normal(0, 0.1, len(t44))], 1)
  soundfile.write(folder / 'street.wav', stereo.clip(-1, 1), 44100)
  soundfile.write(folder / 'birds.flac', 0.3 * np.sin(2 * np.pi * 3000 * t22), 22050)
  np.save(folder / 'clip.npy', rng.integers(0, 256, (10, 128), np.uint8))
  (folder / 'broken.wav').write_bytes(b'RIFF' + b'\x00' * 60)
  return folder


def test_served_embedding_equals_the_in_process_one(audio_server, model_dir, recordings):
  from envsound.vggish.embed import Embedder  # pylint: disable=import-outside-toplevel
  waveform = audio.read_audio(recordings / 'street.wav')
  with Client(audio_server.grpc_target) as client:
    served = client.embed_audio(waveform)
    # Requests of one example each batch with one another on the server.
    singles = [client_audio.embed_waveform(client, w) for w in audio.example_windows(waveform)]
  want = Embedder(model_dir).embed(waveform)
  assert served.dtype == np.uint8 and served.shape == (3, 128)
  np.testing.assert_array_equal(served, want)
  np.testing.assert_array_equal(np.concatenate(singles), want)


def test_predict_takes_audio_files_beside_clips(audio_server, recordings, capsys):
  files = [recordings / n for n in ('street.wav', 'broken.wav', 'clip.npy', 'birds.flac')]
  status = cli.main(['predict', '--server', audio_server.grpc_target, '--model', CLASSIFIER,
                     '--json', *map(str, files)])
  out, err = capsys.readouterr()
  assert status == 1  # one file failed; the others were predicted
  assert err.strip().splitlines() == [err.strip()]
  assert err.startswith(f'envsound: error: {recordings / "broken.wav"}: cannot decode audio')
  import json  # pylint: disable=import-outside-toplevel
  rows = json.loads(out)['predictions']
  assert [r['clip'] for r in rows] == [str(files[i]) for i in (0, 2, 3)]
  with Client(audio_server.grpc_target) as client:
    clips = [client.embed_audio(audio.read_audio(files[0])), np.load(files[2]),
             client.embed_audio(audio.read_audio(files[3]))]
    want = client.predict(CLASSIFIER, clips)
  assert [r['top_class'] for r in rows] == want.top_class
  np.testing.assert_allclose([r['top_score'] for r in rows], want.top_score, atol=1e-4)


def test_a_server_without_vggish_says_how_to_add_one(audio_server, recordings, capsys):
  status = cli.main(['predict', '--server', audio_server.grpc_target, '--model', CLASSIFIER,
                     '--vggish-model', 'no_vggish', str(recordings / 'birds.flac')])
  _, err = capsys.readouterr()
  assert status == 1 and '\n' not in err.strip()
  assert 'model no_vggish' in err and 'cannot embed audio' in err
  assert 'envsound vggish export' in err and '--out SERVING_DIR/no_vggish' in err
  assert 'config { name: "no_vggish" base_path: "SERVING_DIR/no_vggish"' in err
  with Client(audio_server.grpc_target) as client, pytest.raises(NoVGGishModelError):
    client.embed_audio(np.zeros(16000, np.float32), model='no_vggish')
