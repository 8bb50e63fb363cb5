"""``envsound demo`` as a user runs it (the session's run, on 400 clips and one epoch).

Its stages print as ``envsound`` commands in order, the recordings it makes are classified
(as audio files, embedded by the VGGish it serves) by the models it serves, the server it leaves running answers, and Ctrl-C stops it with
status 0 (checked when the session's demo fixture closes).
"""

import json
import pathlib
import re
import urllib.request

import numpy as np
import pytest

from envsound.core import approaches
from envsound.core.taxonomy import load_taxonomy
from envsound.serving.client import Client

pytestmark = pytest.mark.e2e

STAGES = ('data sample', 'data inspect', 'data export', 'pipeline run',
          'vggish demo-checkpoint', 'vggish export', 'serve', 'predict')


def test_every_stage_prints_its_command_in_order(demo):
  printed = [line[len('$ envsound '):] for line in demo.stdout_lines
             if line.startswith('$ envsound ')]
  order = [next(i for i, command in enumerate(printed) if command.startswith(stage))
           for stage in STAGES]
  assert order == sorted(order), printed
  assert 'Report: ' in demo.stage_output('pipeline run')


def test_the_recordings_are_classified_by_a_served_model(demo):
  output = demo.stage_output('predict')
  names = set(load_taxonomy().names)
  recordings = {p.name for p in (demo.workdir / 'recordings').iterdir()}
  rows = [line.split() for line in output.splitlines()
          if line.split() and pathlib.Path(line.split()[0]).name in recordings]
  assert len(rows) == len(recordings) > 0, output
  for row in rows:
    assert row[1] in names, row
  assert 'RANDOM weights' in output


def test_the_server_it_leaves_running_answers(demo):
  served = [a.model_name for a in approaches.APPROACHES
            if (demo.workdir / 'serving' / a.model_name).is_dir()]
  assert served, 'the demo pushed no model'
  usage = demo.stdout.split('\nQuery it', 1)[1]
  shown = re.search(rf'envsound gui --server {re.escape(demo.grpc_target)} --model (\S+)', usage)
  assert shown and shown[1] in served, usage
  clip = np.load(next((demo.workdir / 'npy').rglob('*.npy')))
  with Client(demo.grpc_target) as client:
    result = client.predict(served[0], [clip])
  assert result.top_class[0] in load_taxonomy().names
  url = f'{demo.rest_url}/v1/models/{served[0]}'
  with urllib.request.urlopen(url, timeout=30) as reply:
    states = [v['state'] for v in json.loads(reply.read())['model_version_status']]
  assert 'AVAILABLE' in states
  assert pathlib.Path(demo.workdir / 'serving' / 'models.config').is_file()
