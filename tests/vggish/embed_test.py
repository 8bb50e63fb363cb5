"""``envsound embed``: audio files in, AudioSet-style .npy files and a manifest out."""

import csv

import numpy as np
import pytest
import soundfile

from envsound import cli
from envsound.audioset.export import COLUMNS
from envsound.core import features
from envsound.core.errors import EnvsoundError
from envsound.gui import loader
from envsound.vggish import embed
from tests.core.audio_test import tone, write_bad_files


@pytest.fixture(scope='module')
def embedder(model_dir):
  return embed.Embedder(model_dir.parent)  # the base path: its newest version


def test_embedder_matches_the_signature(embedder, signatures):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  audio = np.random.default_rng(0).uniform(-0.5, 0.5, 16000 * 3).astype(np.float32)
  want = signatures[features.WAVEFORM_SIGNATURE](waveform=tf.constant(audio))
  np.testing.assert_array_equal(embedder.embed(audio),
                                want[features.VGGISH_EMBEDDING].numpy())


def test_long_waveforms_are_embedded_in_chunks(embedder, signatures, monkeypatch):
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  audio = np.random.default_rng(1).uniform(-0.5, 0.5, 16000 * 5).astype(np.float32)
  whole = signatures[features.WAVEFORM_SIGNATURE](waveform=tf.constant(audio))
  monkeypatch.setattr(embed, 'EXAMPLES_PER_CALL', 2)
  np.testing.assert_array_equal(embedder.embed(audio), whole[features.VGGISH_EMBEDDING].numpy())


def test_embed_files_writes_npy_and_manifest_and_reports_bad_files(tmp_path, model_dir):
  inputs = tmp_path / 'in'
  (inputs / 'street').mkdir(parents=True)
  write_bad_files(inputs)
  soundfile.write(inputs / 'street' / 'cars.wav',
                  np.stack([tone(44100, 300.0, 2.5), tone(44100, 2000.0, 2.5)], 1), 44100)
  soundfile.write(inputs / 'birds.flac', tone(48000, 4000.0, 1.2), 48000)
  errors = []
  out = tmp_path / 'out'
  summary = embed.embed_files(model_dir.parent, [inputs], out, on_error=errors.append)
  assert sorted(summary.written) == ['birds.npy', 'street__cars.npy']
  assert sorted(e.path.rsplit('/', 1)[1] for e in errors) == [
      'antiphase.wav', 'corrupt.wav', 'short.wav', 'silent.flac']  # .xyz: not an audio name
  assert summary.seconds == pytest.approx(3.7, abs=0.01)
  with open(out / 'manifest.csv', newline='', encoding='utf-8') as f:
    rows = list(csv.reader(f))
  assert tuple(rows[0]) == COLUMNS
  by_file = {r[0]: dict(zip(COLUMNS, r)) for r in rows[1:]}
  assert by_file['street__cars.npy']['video_id'] == 'street/cars.wav'
  assert by_file['street__cars.npy']['num_frames'] == '2'
  assert float(by_file['birds.npy']['end_time_seconds']) == pytest.approx(1.2, abs=1e-3)
  result = loader.load_clips([out])  # the desktop client's own rule
  assert not result.rejected and [c.frames.shape for c in result.clips] == [(1, 128), (2, 128)]
  assert all(c.frames.dtype == np.uint8 for c in result.clips)
  assert sorted(p.name for p in out.iterdir()) == ['birds.npy', 'manifest.csv',
                                                   'street__cars.npy']
  assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.')] == []


def test_nothing_is_written_when_no_file_embeds(tmp_path, model_dir):
  write_bad_files(tmp_path)
  out = tmp_path / 'out'
  with pytest.raises(EnvsoundError, match='none of the 2 input file'):
    embed.embed_files(model_dir, [tmp_path / 'short.wav', tmp_path / 'silent.flac'], out)
  assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith('.out')]


def test_cli_reports_each_bad_file_on_one_line_and_goes_on(tmp_path, model_dir, capsys):
  write_bad_files(tmp_path)
  soundfile.write(tmp_path / 'ok.wav', tone(22050, 440.0, 1.5), 22050)
  files = [tmp_path / n for n in ('unknown.xyz', 'ok.wav', 'corrupt.wav')]
  out = tmp_path / 'out'
  status = cli.main(['embed', '--vggish', str(model_dir.parent), *map(str, files),
                     '--out', str(out)])
  captured = capsys.readouterr()
  assert status == 1
  lines = captured.err.strip().splitlines()
  assert len(lines) == 2 and lines[0].startswith(f'envsound: error: {files[0]}: ')
  assert lines[1].startswith(f'envsound: error: {files[2]}: cannot decode audio')
  assert 'Embedded 1 file(s)' in captured.out
  assert np.load(out / 'ok.npy').shape == (1, 128)
  again = cli.main(['embed', '--vggish', str(model_dir), str(files[1]), '--out', str(out)])
  assert again == 1 and 'already exists' in capsys.readouterr().err


def test_not_a_vggish_model(tmp_path):
  with pytest.raises(EnvsoundError, match='no VGGish SavedModel'):
    embed.Embedder(tmp_path)


def test_equal_length_waveforms_share_calls_and_match_one_by_one(embedder, monkeypatch):
  rng = np.random.default_rng(2)
  waveforms = [rng.uniform(-0.5, 0.5, n).astype(np.float32)
               for n in (16000 * 2, 16000 * 2 + 99, 16000, 16000 * 2, 16000 * 4, 300)]
  one_by_one = [embedder.embed(w) for w in waveforms]
  calls = []
  batch_fn = embedder._batch_fn  # pylint: disable=protected-access
  monkeypatch.setattr(embedder, '_batch_fn', lambda **kw: calls.append(kw) or batch_fn(**kw))
  monkeypatch.setattr(embed, 'EXAMPLES_PER_CALL', 4)
  together = embedder.embed_many(waveforms)
  assert [c[features.WAVEFORM_INPUT].shape[0] for c in calls] == [2, 1]  # 3 files of 2 examples
  for got, want in zip(together, one_by_one):
    np.testing.assert_array_equal(got, want)
  assert [len(f) for f in together] == [2, 2, 1, 2, 4, 0]


def test_the_demo_recordings_all_embed(tmp_path, model_dir):
  from envsound.vggish import demo_audio  # pylint: disable=import-outside-toplevel
  paths = demo_audio.write_recordings(tmp_path / 'rec')
  assert len(paths) >= 5
  summary = embed.embed_files(model_dir, [tmp_path / 'rec'], tmp_path / 'out')
  assert not summary.errors and len(summary.written) == len(paths)
  assert all(np.load(tmp_path / 'out' / n).shape == (3, 128) for n in summary.written
             if 'espeak' not in n)
