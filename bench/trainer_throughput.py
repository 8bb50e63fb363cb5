"""Trainer throughput: each trainer module's TFX ``run_fn`` against plain ``model.fit`` in memory.

On the Transform output of a sample release (made once with bench/pipeline_throughput.py's
ingestion + Transform run of ``--clips`` clips, or ``--transform-root`` of an earlier run) it
measures, per approach (default approach 3's 1D CNN and approach 1's 2D CNN: both trainer
modules, on the same 150k-set data), each in a fresh process so neither pays the other's
start-up:

  * Trainer: the module's ``run_fn`` with TFX's ``FnArgs``, as the Trainer component calls
    it: reads the gzip transformed examples through ``components/data.py``'s ``input_fn``
    (parse, cache, shuffle, batch), trains, validates every epoch and exports the SavedModel.
  * plain fit: the same model (``build_model``, ``training.compile_model``, same seed) fitted
    with ``model.fit(x, y)`` on numpy arrays already in memory (``data.to_numpy``, timed
    apart), with the same validation data, batch size and epochs.

Both record training examples per second of every epoch (``training.ExamplesPerSecond``,
validation included). It prints epoch 1 (the Trainer parses the files then; plain fit loaded
them before) and the median of later epochs, and the ratio Trainer / plain fit (goal: later
epochs at least 0.8). Approach 1's Trainer also mixes up its batches (mixup_alpha 0.2),
which plain fit does not: ``--no-mixup`` turns it off to compare the input pipeline alone.

  .venv/bin/python bench/trainer_throughput.py [--clips 20000] [--epochs 4]
      [--transform-root PIPELINE_ROOT] [--approaches cnn1d_150k,cnn2d] [--no-mixup]
"""

import argparse
import glob
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
import pipeline_throughput  # bench/: the ingestion + Transform run

DEFAULT_WORK = pipeline_throughput.DEFAULT_WORK
TRANSFORM = f'Transform_{pipeline_throughput.TRAINING_SET}'


def transform_output(root: Path) -> Dict[str, str]:
  """Transform's graph and transformed train/eval file patterns under a pipeline root."""
  graph = sorted(glob.glob(str(root / TRANSFORM / 'transform_graph' / '*')))
  examples = sorted(glob.glob(str(root / TRANSFORM / 'transformed_examples' / '*')))
  if not graph or not examples:
    sys.exit(f'no Transform output under {root}')
  return {'graph': graph[-1], 'train': os.path.join(examples[-1], 'Split-train', '*'),
          'eval': os.path.join(examples[-1], 'Split-eval', '*')}


def trainer_epochs(approach, data: Dict[str, str], epochs: int, overrides: Dict) -> Dict:
  """Examples/s of each epoch of the approach's run_fn, from the history it writes."""
  # pylint: disable=import-outside-toplevel
  from tfx.components.trainer.fn_args_utils import FnArgs
  from envsound.components import training
  from envsound.core.taxonomy import load_taxonomy
  module, fn = approach.run_fn.rsplit('.', 1)
  with tempfile.TemporaryDirectory() as out:
    fn_args = FnArgs(
        train_files=[data['train']], eval_files=[data['eval']],
        transform_output=data['graph'], transform_graph_path=data['graph'],
        serving_model_dir=os.path.join(out, 'Format-Serving'),
        model_run_dir=os.path.join(out, 'model_run'),
        custom_config={'approach': approach.name, 'model_name': approach.model_name,
                       'class_names': list(load_taxonomy().names),
                       **approach.hyperparameters, 'epochs': epochs, **overrides})
    getattr(importlib.import_module(module), fn)(fn_args)
    with open(os.path.join(out, 'model_run', training.HISTORY_FILE)) as f:
      return {'epochs': json.load(f)['history']['examples_per_second']}


def plain_fit_epochs(approach, data: Dict[str, str], epochs: int, overrides: Dict) -> Dict:
  """Examples/s of each epoch of model.fit on in-memory numpy copies of the same data."""
  # pylint: disable=import-outside-toplevel
  import numpy as np
  import tensorflow_transform as tft
  import tf_keras
  from envsound.components import data as data_lib
  from envsound.components import training
  from envsound.core.taxonomy import load_taxonomy
  num_classes = len(load_taxonomy().names)
  module = importlib.import_module(approach.run_fn.rsplit('.', 1)[0])
  hp = module.Hparams.from_custom_config({**approach.hyperparameters, 'epochs': epochs,
                                          **overrides})
  began = time.perf_counter()
  tft_output = tft.TFTransformOutput(data['graph'])
  x, y = data_lib.to_numpy(data['train'], tft_output)
  x_eval, y_eval = data_lib.to_numpy(data['eval'], tft_output)
  load_s = time.perf_counter() - began
  one_hot = lambda labels: np.eye(num_classes, dtype=np.float32)[labels]  # pylint: disable=unnecessary-lambda-assignment
  tf_keras.utils.set_random_seed(hp.seed)
  model = module.build_model(hp, num_classes)
  training.compile_model(model, hp, data_lib.class_counts(y, num_classes))
  history = model.fit(x, one_hot(y), batch_size=hp.batch_size, epochs=hp.epochs,
                      validation_data=(x_eval, one_hot(y_eval)), shuffle=True,
                      callbacks=[training.ExamplesPerSecond(len(y))], verbose=2)
  return {'epochs': history.history['examples_per_second'], 'load_s': load_s}


def measure(kind: str, approach: str, root: Path, epochs: int, no_mixup: bool) -> Dict:
  """Runs one measurement in a fresh process (output in ``<root>.<kind>-<approach>.log``)."""
  log = root.parent / f'{root.name}.{kind}-{approach}.log'
  with open(log, 'w') as out:
    done = subprocess.run([sys.executable, __file__, '--child', kind, approach, str(root),
                           str(epochs), str(int(no_mixup))],
                          stdout=subprocess.PIPE, stderr=out, text=True, check=False)
  if done.returncode:
    sys.exit(f'{kind} of {approach} failed ({done.returncode}); see {log}')
  result = json.loads(done.stdout.strip().splitlines()[-1])
  later = result['epochs'][1:] or result['epochs']
  return {**result, 'first': result['epochs'][0], 'later': statistics.median(later)}


def child(kind: str, name: str, root: str, epochs: str, no_mixup: str) -> None:
  from envsound.core import approaches  # pylint: disable=import-outside-toplevel
  fn = trainer_epochs if kind == 'trainer' else plain_fit_epochs
  overrides = {'mixup_alpha': 0.0} if int(no_mixup) else {}
  result = fn(approaches.by_name(name), transform_output(Path(root)), int(epochs), overrides)
  print(json.dumps(result), flush=True)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--clips', type=int, default=20_000, help='sample release size')
  parser.add_argument('--epochs', type=int, default=4, help='epochs of every fit')
  parser.add_argument('--transform-root', type=Path,
                      help=f'a pipeline root holding {TRANSFORM} output (default: make one)')
  parser.add_argument('--approaches', default='cnn1d_150k,cnn2d',
                      help='approach names (components/approaches.py) whose modules to measure')
  parser.add_argument('--no-mixup', action='store_true', help='mixup_alpha 0 for every Trainer')
  parser.add_argument('--work', type=Path, default=DEFAULT_WORK,
                      help='releases and pipeline roots (shared with pipeline_throughput.py)')
  parser.add_argument('--child', nargs=5, help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    child(*args.child)
    return

  root = args.transform_root
  if root is None:
    root = args.work / f'root-{args.clips}-in_memory'
    if not glob.glob(str(root / TRANSFORM / 'transformed_examples' / '*')):
      pipeline_throughput.measured_run(pipeline_throughput.release(args.work, args.clips), root,
                                       'in_memory')
  transform_output(root)  # fails early when there is none
  print(f'{os.cpu_count()} cores; Transform output {root}; {args.epochs} epochs; mixup '
        f'{"off" if args.no_mixup else "as each approach sets it"}', flush=True)

  rows = []
  for name in args.approaches.split(','):
    trainer = measure('trainer', name, root, args.epochs, args.no_mixup)
    plain = measure('plain', name, root, args.epochs, args.no_mixup)
    rows.append((name, trainer, plain))
    print(f'  {name}: Trainer {", ".join(f"{e:,.0f}" for e in trainer["epochs"])} ex/s; plain '
          f'fit {", ".join(f"{e:,.0f}" for e in plain["epochs"])} ex/s (numpy load '
          f'{plain["load_s"]:.1f} s)', flush=True)

  print(f'\n{"approach":12s} {"Trainer ex/s":>20s} {"plain fit ex/s":>20s} '
        f'{"Trainer / plain fit":>20s}')
  print(f'{"":12s} {"epoch 1 / later":>20s} {"epoch 1 / later":>20s} {"epoch 1 / later":>20s}')
  for name, trainer, plain in rows:
    print(f'{name:12s} {trainer["first"]:9,.0f} / {trainer["later"]:7,.0f} '
          f'{plain["first"]:9,.0f} / {plain["later"]:7,.0f} '
          f'{trainer["first"] / plain["first"]:12.2f} / {trainer["later"] / plain["later"]:5.2f}')
  print('goal: later-epoch ratio >= 0.8 (later: median of epochs 2..N)')


if __name__ == '__main__':
  main()
