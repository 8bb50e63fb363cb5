"""A bounded TFX-Tuner search of one trainer module on a sample release's Transform output.

Runs the module's ``tuner_fn`` as the Tuner component calls it (the train split only; the
search holds out a fifth of it) within ``--trials`` / ``--minutes``, then prints every
trial's hold-out accuracy, best first, with its values, and which trial used the module's
defaults (the first choice of every SEARCH_SPACE entry) if one did.

  .venv/bin/python bench/tune_sample.py --transform-root ROOT [--module attention]
      [--trials 6] [--minutes 15] [--epochs N]
"""

import argparse
import importlib
import os
import sys
import tempfile
import types
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
import approach3_models  # bench/: finds the Transform output


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--transform-root', type=Path, required=True)
  parser.add_argument('--module', default='attention', choices=('attention', 'cnn1d', 'cnn2d'))
  parser.add_argument('--trials', type=int, default=6)
  parser.add_argument('--minutes', type=float, default=15.0)
  parser.add_argument('--epochs', type=int, default=None)
  args = parser.parse_args()
  # pylint: disable=import-outside-toplevel
  from envsound.core.taxonomy import load_taxonomy
  module = importlib.import_module(f'envsound.components.trainer_{args.module}')
  graph, train, _ = approach3_models.transform_output(args.transform_root)
  config = {'approach': args.module, 'class_names': list(load_taxonomy().names),
            'tuning': {'trials': args.trials, 'minutes': args.minutes}}
  if args.epochs:
    config['epochs'] = args.epochs
  with tempfile.TemporaryDirectory() as work:
    result = module.tuner_fn(types.SimpleNamespace(
        train_files=[train], transform_graph_path=graph, working_dir=work, custom_config=config))
    result.tuner.search(**result.fit_kwargs)
    trials = result.tuner.oracle.get_best_trials(args.trials)
  defaults = {k: v[0] for k, v in module.SEARCH_SPACE.items()}
  print(f'{os.cpu_count()} cores; {args.module}: {len(trials)} trial(s) in at most '
        f'{args.minutes} min; hold-out accuracy, best first:')
  for t in trials:
    mark = '  (the defaults)' if t.hyperparameters.values == defaults else ''
    print(f'  {t.score:.4f}  {t.hyperparameters.values}{mark}')


if __name__ == '__main__':
  main()
