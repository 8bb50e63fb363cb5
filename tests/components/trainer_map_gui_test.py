"""The desktop client on the model a Trainer exported (the session's trained_cnn1d): the
window draws the exported map and titles it with the figures in the Trainer's
separation.json, which the results report prints."""

import json
import shutil
from pathlib import Path

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.integration]
MODEL = 'cnn1d_trained'


def test_the_window_shows_the_trainers_map_and_its_recorded_figures(
    trained_cnn1d, transformed, tmp_path, monkeypatch, xvfb_display):
  # pylint: disable=import-outside-toplevel
  from tests.gui import model_map
  from tests.support.server import local_server
  base = tmp_path / 'serving' / MODEL
  shutil.copytree(trained_cnn1d.serving_model_dir, base / '1')
  record = json.loads((Path(trained_cnn1d.model_run_dir) / 'separation.json').read_text())
  clips = model_map.prepare(monkeypatch, tmp_path,
                            [c for c, _ in transformed['clips']['eval'][:5]])
  with local_server(model_base_path=base, model_name=MODEL, rest=False,
                    probe_model=MODEL) as server, \
      model_map.window(server.grpc_target, MODEL) as app:
    model_map.check(app, server.grpc_target, MODEL, clips, record)
