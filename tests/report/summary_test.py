"""What ``envsound pipeline run`` prints of the report: title, Results and Ranking only."""

from envsound.report import summary

_REPORT = '\n'.join([
    '# envsound results', '', 'Pipeline root: `/p`', '',
    '## Results', '', '| Model | Val. acc |', '| --- | ---: |', '| cnn2d | 0.546 |', '',
    '- Approach 1 beats the reference.', '',
    '## Ranking', '', 'Approach 3 > Approach 2 > Approach 1.', '',
    '## Per-environment metrics', '', '### Recall', '', '| rail | 0.5 |', '',
    '## TensorBoard', '', 'tensorboard --logdir /p', ''])


def test_keeps_the_title_results_and_ranking_and_drops_the_rest():
  text = summary.console_summary(_REPORT)
  assert text.startswith('# envsound results\n\nPipeline root: `/p`')
  assert '| cnn2d | 0.546 |' in text and '- Approach 1 beats the reference.' in text
  assert 'Approach 3 > Approach 2 > Approach 1.' in text
  assert 'Recall' not in text and 'rail' not in text and 'tensorboard' not in text
  assert text.index('## Results') < text.index('## Ranking')


def test_a_report_without_a_ranking_keeps_its_results():
  tagging = '# envsound tagging results\n\n## Results\n\nmAP 0.1\n\n## Training curves\n\n![x](y)\n'
  text = summary.console_summary(tagging)
  assert 'mAP 0.1' in text and 'Training curves' not in text
