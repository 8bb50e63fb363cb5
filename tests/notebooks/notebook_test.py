"""The pipeline walk-through notebook runs top to bottom on a small sample and pushes a model."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from envsound.core import approaches

pytestmark = pytest.mark.e2e
NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / 'notebooks' / 'pipeline_walkthrough.ipynb'


def test_walkthrough_pushes_a_model_and_reports_it(tmp_path, monkeypatch):
  monkeypatch.setenv('ENVSOUND_NOTEBOOK_CLIPS', '400')
  monkeypatch.setenv('ENVSOUND_NOTEBOOK_EPOCHS', '1')
  monkeypatch.setenv('ENVSOUND_NOTEBOOK_APPROACH', 'cnn1d')
  monkeypatch.setenv('ENVSOUND_NOTEBOOK_DIR', 'walkthrough')  # relative to the working dir
  monkeypatch.setenv('ENVSOUND_NOTEBOOK_MIN_ACCURACY', '0')  # one epoch need not beat the reference
  notebook = nbformat.read(NOTEBOOK, as_version=4)
  # The kernel runs this interpreter (jupyter_client swaps the spec's 'python' for it);
  # a cell that raises fails execute() with CellExecutionError.
  NotebookClient(notebook, timeout=600, kernel_name='python3',
                 resources={'metadata': {'path': str(tmp_path)}}).execute()
  work = tmp_path / 'walkthrough'
  pushed = list((work / 'serving' / 'cnn1d_balanced').glob('*/saved_model.pb'))
  assert len(pushed) == 1
  version = pushed[0].parent.name
  report = (work / 'report' / 'report.md').read_text()
  results = report.split('## Results\n', 1)[1].split('\n## ', 1)[0]
  rows = {line.split(' | ')[0].lstrip('| '): line for line in results.splitlines()
          if line.startswith('| Approach')}
  trained = approaches.by_name('cnn1d')
  assert f'yes / v{version}' in rows[trained.title]  # blessed, and pushed as that version
  for other in approaches.APPROACHES:
    if other.name != trained.name:
      assert 'missing:' in rows[other.title]
  assert {'training.png', 'confusion.png'} <= {p.name for p in work.iterdir()}
