"""--tune and its budget, and approach options, from the command line to the config."""

import pytest

from envsound.core import approaches
from envsound.core.errors import EnvsoundError
from envsound.pipeline import cli, configs
from tests.pipeline.runners_test import _parse


def test_tune_flags_reach_the_config(make_release):
  data = str(make_release(clips={'bal_train': [0], 'eval': [0]}))
  base = ['pipeline', 'run', '--data', data]
  assert cli.make_config(_parse(base), cloud=False).tune is None
  cfg = cli.make_config(_parse(base + ['--tune', '--tune-trials', '3', '--tune-minutes', '2.5']),
                        cloud=False)
  assert cfg.tune == configs.TuningBudget(trials=3, minutes=2.5)
  assert cli.make_config(_parse(base + ['--tune']), cloud=False).tune == configs.TuningBudget()
  with pytest.raises(EnvsoundError, match='--tune-trials/--tune-minutes: .*0 trials'):
    cli.make_config(_parse(base + ['--tune', '--tune-trials', '0']), cloud=False)


def test_approach_options_select_the_model(make_release):
  data = str(make_release(clips={'bal_train': [0], 'eval': [0]}))
  cfg = cli.make_config(_parse(['pipeline', 'run', '--data', data, '--approaches',
                                'cnn1d,cnn1d_150k:attention']), cloud=False)
  second, third = cfg.selected_approaches
  assert second == approaches.by_name('cnn1d')
  assert (third.name, third.model_name) == ('cnn1d_150k', 'cnn1d_150k')
  assert third.run_fn == 'envsound.components.trainer_attention.run_fn'
  assert third.tuner_fn == 'envsound.components.trainer_attention.tuner_fn'
  assert 'attention' in third.title
  with pytest.raises(EnvsoundError, match="no option 'rnn'; options: cnn1d, attention"):
    cli.make_config(_parse(['pipeline', 'run', '--data', data, '--approaches',
                            'cnn1d_150k:rnn']), cloud=False)


def test_every_module_has_both_entry_points():
  import importlib  # pylint: disable=import-outside-toplevel
  for approach in approaches.APPROACHES:
    for candidate in [approach] + [approach.with_option(o) for o in approach.options]:
      for path in (candidate.run_fn, candidate.tuner_fn):
        module, name = path.rsplit('.', 1)
        assert callable(getattr(importlib.import_module(module), name)), path
