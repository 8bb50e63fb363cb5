"""Tests for ``envsound data export`` (envsound.audioset.export)."""

import csv
from collections import Counter

import numpy as np
import pytest

from envsound.audioset import export
from envsound.audioset.release import find_release
from envsound.core.errors import EnvsoundError, InvalidInputError
from envsound.gui import reference
from envsound.core.taxonomy import load_taxonomy
from tests.audioset.conftest import (good_clips, plain_tf_clips, sequence_example,
                                     tiny_release, write_records)


def _manifest(folder):
  with open(folder / export.MANIFEST, newline='', encoding='utf-8') as f:
    return list(csv.DictReader(f))


@pytest.fixture(name='exported', scope='module')
def _exported(sample_release, tmp_path_factory):
  out = tmp_path_factory.mktemp('export') / 'npy'
  results = export.export_release(find_release(sample_release), out)
  return out, results


def test_round_trip_equals_the_records(sample_release, exported):
  out, results = exported
  release = find_release(sample_release)
  assert sorted(p.name for p in out.iterdir()) == ['balanced', 'eval', 'unbalanced']
  assert [(r.split, r.folder, r.clips) for r in results] == [
      ('bal_train', 'balanced', 45), ('unbal_train', 'unbalanced', 225), ('eval', 'eval', 30)]
  for split, folder in export.FOLDERS.items():
    rows = _manifest(out / folder)
    records = plain_tf_clips(release.files[split])
    assert len(rows) == len(records)
    assert sorted(p.name for p in (out / folder).iterdir()) == sorted(
        [r['file'] for r in rows] + [export.MANIFEST])
    for row, (video_id, start, labels, frame_bytes) in zip(rows, records):
      array = np.load(out / folder / row['file'], allow_pickle=False)
      assert array.dtype == np.uint8 and array.shape == (len(frame_bytes) // 128, 128)
      assert array.tobytes() == frame_bytes
      assert row['file'] == f'{video_id}_{int(start)}.npy'
      assert (row['video_id'], float(row['start_time_seconds'])) == (video_id, start)
      assert int(row['num_frames']) == array.shape[0]
      assert row['label_mids'].split(';') == [release.class_labels.mids[l] for l in labels]
      assert row['label_names'].split(';') == [release.class_labels.names[l] for l in labels]


def test_manifest_environment_follows_the_taxonomy(sample_release, exported):
  out, _ = exported
  taxonomy = load_taxonomy()
  index = find_release(sample_release).class_labels.index_of()
  rows = _manifest(out / 'unbalanced')
  assert list(rows[0]) == list(export.COLUMNS)
  for row in rows:
    env = taxonomy.environment_of(index[m] for m in row['label_mids'].split(';'))
    assert row['environment'] == ('' if env is None else taxonomy.names[env])
  assert {r['environment'] for r in rows} >= {'', 'music', 'speech_crowd'}


def test_desktop_client_reads_the_export(exported):
  out, _ = exported
  ref = reference.load_reference(out)  # finds eval/manifest.csv
  labelled = [r for r in _manifest(out / 'eval') if r['environment']]
  assert 0 < len(labelled) < 30  # clips of no environment are left off the map
  assert len(ref) == len(labelled) and ref.skipped == 0
  assert sorted(ref.environments) == sorted(r['environment'] for r in labelled)
  assert reference.load_reference(out / 'balanced').clips[0].dtype == np.uint8


def test_max_clips_and_balance(sample_release, exported, tmp_path):
  release = find_release(sample_release)
  taxonomy = load_taxonomy()
  available = Counter(taxonomy.index(r['environment'])
                      for r in _manifest(exported[0] / 'unbalanced') if r['environment'])
  kwargs = dict(splits=['unbal_train'], max_clips=40, balance=True, seed=1)
  results = export.export_release(release, tmp_path / 'a', **kwargs)
  assert (results[0].clips, results[0].clips + results[0].left_out) == (40, 225)
  rows = _manifest(tmp_path / 'a' / 'unbalanced')
  assert len(rows) == 40 and all(r['environment'] for r in rows)
  counts = Counter(taxonomy.index(r['environment']) for r in rows)
  assert counts == export.fair_caps(available, 40)  # rare ones keep all, the rest share
  export.export_release(release, tmp_path / 'b', **kwargs)
  assert _manifest(tmp_path / 'b' / 'unbalanced') == rows  # same seed, same choice
  export.export_release(release, tmp_path / 'c', **dict(kwargs, seed=2))
  assert _manifest(tmp_path / 'c' / 'unbalanced') != rows
  plain = export.export_release(release, tmp_path / 'd', splits=['eval'], max_clips=7)
  assert plain[0].clips == 7 and len(_manifest(tmp_path / 'd' / 'eval')) == 7


def test_balance_without_max_clips_keeps_the_rarest_count(sample_release, tmp_path):
  export.export_release(find_release(sample_release), tmp_path / 'o', splits=['eval'],
                        balance=True)
  counts = Counter(r['environment'] for r in _manifest(tmp_path / 'o' / 'eval'))
  assert len(set(counts.values())) == 1 and '' not in counts


def test_failure_midway_leaves_nothing(sample_release, tmp_path, monkeypatch):
  real, calls = export._Writer.write, []  # pylint: disable=protected-access
  def failing(self, clip, env):
    calls.append(1)
    if len(calls) == 60:
      raise OSError('disk full')
    real(self, clip, env)
  monkeypatch.setattr(export._Writer, 'write', failing)  # pylint: disable=protected-access
  release = find_release(sample_release)
  with pytest.raises(OSError, match='disk full'):
    export.export_release(release, tmp_path / 'out')
  assert list(tmp_path.iterdir()) == []
  old = tmp_path / 'old'
  old.mkdir()
  (old / 'keep.txt').write_text('x')
  calls.clear()
  with pytest.raises(OSError, match='disk full'):
    export.export_release(release, old, overwrite=True)
  assert [p.name for p in tmp_path.iterdir()] == ['old'] and (old / 'keep.txt').exists()


def test_overwrite(tmp_path):
  release = find_release(tiny_release(tmp_path / 'r'))
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'stale.txt').write_text('x')
  with pytest.raises(EnvsoundError, match='already exists.*--overwrite'):
    export.export_release(release, out)
  export.export_release(release, out, overwrite=True)
  assert sorted(p.name for p in out.iterdir()) == ['balanced', 'eval']
  (tmp_path / 'file').write_text('x')
  with pytest.raises(EnvsoundError, match='is a file'):
    export.export_release(release, tmp_path / 'file', overwrite=True)


def test_refuses_to_replace_the_release(tmp_path):
  root = tiny_release(tmp_path / 'r')
  release = find_release(root)
  for out in (root, root / 'eval', tmp_path):
    with pytest.raises(EnvsoundError, match='would replace'):
      export.export_release(release, out, overwrite=True)
  assert (root / 'eval' / 'a.tfrecord').exists()


def test_tiny_class_list_without_taxonomy(tmp_path):
  release = find_release(tiny_release(tmp_path / 'r'))
  results = export.export_release(release, tmp_path / 'out', splits=['eval'])
  rows = _manifest(tmp_path / 'out' / 'eval')
  assert results[0].clips == 6 and {r['environment'] for r in rows} == {''}
  assert rows[1]['label_names'] == 'Beta, the second'
  with pytest.raises(EnvsoundError, match='--balance needs the environment taxonomy'):
    export.export_release(release, tmp_path / 'other', balance=True)


def test_repeated_names_get_a_suffix(tmp_path):
  root = tiny_release(tmp_path / 'r', splits=())
  write_records(root / 'eval' / 'x.tfrecord',
                [sequence_example('same', start=5.0), sequence_example('same', start=5.5)])
  export.export_release(find_release(root), tmp_path / 'out')
  assert [r['file'] for r in _manifest(tmp_path / 'out' / 'eval')] == ['same_5.npy',
                                                                        'same_5-2.npy']


def test_bad_records_stop_or_are_skipped(tmp_path):
  root = tiny_release(tmp_path / 'r', splits=())
  bad = root / 'eval' / 'x.tfrecord'
  write_records(bad, good_clips(2) + [sequence_example(labels=(77,))] + good_clips(1, 9))
  release = find_release(root)
  with pytest.raises(InvalidInputError, match=f'{bad}, record 2'):
    export.export_release(release, tmp_path / 'out')
  assert not (tmp_path / 'out').exists()
  results = export.export_release(release, tmp_path / 'out', skip_invalid=True)
  assert results[0].clips == 3 and results[0].summary.counts() == {'label_out_of_range': 1}
  lines = export.summary_lines(tmp_path / 'out', results)
  assert any(f'{bad}, record 2' in line for line in lines)


def test_parse_splits():
  assert export.parse_splits('eval, bal_train,eval') == ['eval', 'bal_train']
  with pytest.raises(EnvsoundError, match='unknown split'):
    export.parse_splits('train')
  with pytest.raises(EnvsoundError, match='unknown split'):
    export.parse_splits(' , ')


def test_bad_arguments(tmp_path):
  release = find_release(tiny_release(tmp_path / 'r'))
  with pytest.raises(EnvsoundError, match='--max-clips must be at least 1'):
    export.export_release(release, tmp_path / 'o', max_clips=0)
  with pytest.raises(InvalidInputError, match='no unbal_train/ split'):
    export.export_release(release, tmp_path / 'o', splits=['unbal_train'])
  assert not (tmp_path / 'o').exists()


def test_fair_caps():
  assert export.fair_caps({0: 5, 1: 100, 2: 100}, 45) == {0: 5, 1: 20, 2: 20}
  assert export.fair_caps({0: 5, 1: 100, 2: 100}, 46) == {0: 5, 1: 21, 2: 20}
  assert export.fair_caps({0: 3, 1: 4}, 100) == {0: 3, 1: 4}
