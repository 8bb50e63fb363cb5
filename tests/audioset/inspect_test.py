"""Tests for ``envsound data inspect`` (envsound.audioset.inspect)."""

import numpy as np
import pytest

from envsound.audioset import inspect, sample
from envsound.audioset.release import find_release
from envsound.core import features
from envsound.core.errors import InvalidInputError
from tests.audioset.conftest import good_clips, sequence_example, tiny_release, write_records


def test_counts_match_what_the_generator_wrote(tmp_path):
  root = tmp_path / 'audioset'
  written = sample.generate_release(root, 400, seed=5, shard_size=50, progress=False)
  result = inspect.inspect_release(find_release(root))
  assert [s.name for s in result.splits] == list(features.SPLITS)
  for counts in result.splits:
    expected = written.split(counts.name)
    assert counts.clips == expected.clips and counts.files == expected.shards
    np.testing.assert_array_equal(counts.labels, expected.label_counts)
    np.testing.assert_array_equal(counts.environments, expected.environment_counts)
    assert counts.unassigned == expected.unassigned
    assert counts.frames[:features.NUM_FRAMES].sum() == expected.short_clips
    assert counts.frames.sum() == expected.clips
  assert result.problems == []


def test_report_without_a_fitting_taxonomy(tmp_path):
  root = tiny_release(tmp_path / 'r')
  write_records(root / 'eval' / 'c.tfrecord',
                [sequence_example('x', labels=(0, 0, 3), embedding=np.zeros((4, 128), np.uint8))])
  result = inspect.inspect_release(find_release(root))
  assert result.taxonomy is None and 'unknown AudioSet mid' in result.taxonomy_error
  lines = inspect.report_lines(result)
  text = '\n'.join(lines)
  assert 'Clips per environment: unavailable' in text
  assert 'Clips per AudioSet class: all of 4 present' in text
  alpha = next(l for l in lines if l.startswith('  /m/a0'))
  assert alpha.split()[-3:] == ['2', '3', '5']  # bal_train, eval (a repeated label once), total
  assert '       4           1  #' in text and '      10          12  ' in text


def test_problems_are_listed_with_skip_invalid(tmp_path):
  root = tiny_release(tmp_path / 'r')
  bad = root / 'bal_train' / 'c.tfrecord'
  write_records(bad, good_clips(1) + [sequence_example(labels=(8,)), b'junk'])
  with pytest.raises(InvalidInputError, match=f'{bad}, record 1'):
    inspect.inspect_release(find_release(root))
  result = inspect.inspect_release(find_release(root), skip_invalid=True)
  assert result.splits[0].clips == 7
  lines = inspect.report_lines(result)
  assert 'Problems: 2 skipped (not_sequence_example 1, label_out_of_range 1)' in lines
  assert f'  {bad}, record 2: not a SequenceExample' in '\n'.join(lines)


def test_label_matrix():
  matrix = inspect.label_matrix([(3, 1, 3), (2,), ()])
  assert matrix.tolist() == [[1, 3, -1], [-1, -1, 2], [-1, -1, -1]]
