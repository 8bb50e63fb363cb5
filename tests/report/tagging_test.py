"""The tagging report of a multi-label run, from what ML Metadata would give it."""

import numpy as np

from envsound.components import eval_scores, tagging_reference
from envsound.core import approaches
from envsound.report import runs, tagging


def _reference(mean_ap, prior):
  return tagging_reference.TaggingReference(
      mean_average_precision=mean_ap, mean_auc=0.9, d_prime=1.8, ap_classes=300,
      prior_map=prior, train_clips=400, eval_clips=250, fitted_classes=350, c=0.1)


def _record(evaluation_uri=None, reference_uri=None):
  evaluated = runs.ApproachResult(
      approaches.by_name('cnn1d'), train_clips=400, eval_clips=250, blessed=True, pushed='3',
      evaluation_uri=evaluation_uri,
      history={'history': {'loss': [0.1]}},
      gate_reason='pushed: mAP 0.250 beats the reference 0.200, label prior 0.010',
      tagging={'mean_average_precision': 0.25, 'mean_auc': 0.93, 'd_prime': 2.09,
               'ap_classes': 300, 'auc_classes': 300, 'clips': 250})
  missing = runs.ApproachResult(approaches.by_name('cnn2d'), missing=['Trainer_cnn2d'])
  return runs.RunRecord([missing, evaluated], {}, {},
                        {approaches.BALANCED: _reference(0.2, 0.01)}, 'audioset',
                        {approaches.BALANCED: reference_uri} if reference_uri else {})


def test_the_table_gives_each_model_its_figures_beside_the_references_and_literature():
  rows = tagging.results_table(_record()).splitlines()
  assert rows[0].startswith('| Model | Training set | Training clips | Eval clips | mAP |')
  assert 'missing: Trainer_cnn2d did not run' in rows[2]
  assert rows[3] == ('| Approach 2: 1D CNN on raw embeddings | balanced | 400 | 250 | 0.250 | '
                     '0.930 | 2.090 | +0.050 | 300 | yes / v3 |')
  assert rows[4].startswith('| Reference: one-vs-rest logistic regression (350 classes '
                            'fitted) | balanced | 400 | 250 | 0.200 |')
  assert rows[5].startswith('| Label prior (training class frequencies) | balanced | 400 | '
                            '250 | 0.010 |')
  published = [r.split('|')[5].strip() for r in rows[6:]]
  assert published == ['0.314', '0.327', '0.360', '0.369']
  assert rows[8].startswith('| Published: Yu et al. 2018: multi-level attention')


def _scores(folder, labels, scores):
  eval_scores.write(str(folder), labels, scores)
  return str(folder)


def test_the_difference_to_the_reference_comes_with_its_paired_standard_error(tmp_path):
  rng = np.random.default_rng(0)
  labels = (rng.random([250, 6]) < 0.2).astype(np.int64)
  labels[0] = 1
  noise = rng.random(labels.shape)
  model = _scores(tmp_path / 'model', labels, labels + noise)  # ranks every positive first
  ref = _scores(tmp_path / 'ref', labels, noise)               # chance
  record = _record(model, ref)
  difference = tagging.map_differences(record)['cnn1d']
  assert difference.beyond_two_se and 0 < difference.standard_error < 0.1
  row = tagging.results_table(record).splitlines()[3]
  assert f'| +0.050 ± {difference.standard_error:.3f} |' in row
  line = tagging.gate_lines(record)[1]
  assert (f'mAP +0.050 against the reference (standard error {difference.standard_error:.3f} '
          '(paired bootstrap, 1,000 resamples of the 250 eval clips): beyond two standard '
          'errors of 0), +0.240 against the label prior;') in line
  same = _record(model, _scores(tmp_path / 'same', labels, labels + noise))
  assert 'standard error 0.000 (paired bootstrap' in tagging.gate_lines(same)[1]
  assert 'within two standard errors' in tagging.gate_lines(same)[1]


def test_scores_of_different_clips_are_not_paired(tmp_path):
  labels = np.eye(4, dtype=np.int64)
  model = _scores(tmp_path / 'model', labels, np.eye(4))
  ref = _scores(tmp_path / 'ref', labels[::-1], np.eye(4))
  assert tagging.map_differences(_record(model, ref)) == {
      'cnn1d': 'the model and the reference were scored on different clips'}


def test_each_approach_gets_its_difference_and_the_gate_decision():
  lines = tagging.gate_lines(_record())
  assert lines[0] == '- Approach 1 (cnn2d): missing (Trainer_cnn2d did not run).'
  assert lines[1].startswith('- Approach 2 (cnn1d): mAP +0.050 against the reference (250 eval '
                             'clips; no standard error: no per-clip eval scores were kept), '
                             '+0.240 against the label prior;')
  assert 'it meets the goal (reference + 0.03). Quality gate: pushed: mAP 0.250' in lines[1]


def test_render_names_the_classes_and_the_training_curves():
  text = tagging.render(_record(), ['c'] * 527, '/root')
  assert "AudioSet's 527 classes" in text and 'C = 0.1' in text
  assert '![training curves of cnn1d](training_cnn1d.png)' in text
