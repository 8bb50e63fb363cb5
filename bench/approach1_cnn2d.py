"""Approach 1's training choices, each measured against the seed's 2D CNN and the reference.

On the Transform output of a sample release's balanced set (``--root``: a pipeline root
holding ``ExampleGen_balanced`` and ``Transform_balanced``), each variant of
``trainer_cnn2d`` is trained by its ``run_fn`` as the Trainer calls it, for each seed, and
the exported model scores every validation clip. A variant is custom_config overrides laid
over the module's defaults; ``seed`` pins the choices the seed shipped (no batch norm, no
weight decay, constant learning rate, no early stopping). Printed per variant and seed:
validation accuracy with its standard error and training seconds; then per variant its
mean over seeds and the paired difference to ``seed`` (same clips); last, the reference
(``reference.fit`` on the same ExampleGen splits) and each variant's margin over it.

  .venv/bin/python bench/approach1_cnn2d.py --root ROOT [--seeds 0,1] [--epochs N]
      [--variants seed,batch_norm,...]
"""

import argparse
import glob
import os
import sys
from pathlib import Path

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
os.environ.setdefault('TF_USE_LEGACY_KERAS', '1')
sys.path.insert(0, str(Path(__file__).resolve().parent))

# pylint: disable=wrong-import-position
import numpy as np

import approach3_models  # bench/: trains one module and scores its export

SEED = {'batch_norm': False, 'weight_decay': 0.0, 'lr_schedule': 'constant',
        'warmup_epochs': 0, 'early_stopping': 0}
VARIANTS = {
    'seed': SEED,
    'batch_norm': {**SEED, 'batch_norm': True},
    'weight_decay': {**SEED, 'weight_decay': 0.01},
    'cosine': {**SEED, 'lr_schedule': 'cosine', 'warmup_epochs': 1},
    'early_stop': {**SEED, 'early_stopping': 3, 'epochs': 20},
    'cosine_20': {**SEED, 'lr_schedule': 'cosine', 'warmup_epochs': 1, 'epochs': 20},
    'defaults': {},  # the module's current defaults
}


def reference_accuracy(root: Path):
  """The reference's validation correctness per clip on the balanced ExampleGen splits."""
  # pylint: disable=import-outside-toplevel
  from envsound.components import reference
  from envsound.core.taxonomy import load_taxonomy
  uri = sorted(glob.glob(str(root / 'ExampleGen_balanced' / 'examples' / '*')))[-1]
  result = reference.fit(*reference.read_pooled(uri, 'train'), *reference.read_pooled(uri, 'eval'),
                         len(load_taxonomy().names))
  return result.accuracy, result.eval_clips, result.c


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--root', type=Path, required=True)
  parser.add_argument('--seeds', default='0,1')
  parser.add_argument('--epochs', type=int, default=None)
  parser.add_argument('--variants', default=','.join(VARIANTS))
  args = parser.parse_args()
  graph, train, evaluation = approach3_models.transform_output(args.root, 'Transform_balanced')
  names, seeds = args.variants.split(','), [int(s) for s in args.seeds.split(',')]
  print(f'{os.cpu_count()} cores; variants {names}; seeds {seeds}; epochs '
        f'{args.epochs or "default"}', flush=True)
  correct = approach3_models.measure(names, seeds, lambda name, seed, out: (
      approach3_models.train_and_score('cnn2d', graph, train, evaluation, seed, args.epochs,
                                       out, VARIANTS[name], f'-{name}')))
  ref, n, c_value = reference_accuracy(args.root)
  ref_se = np.sqrt(ref * (1 - ref) / n)
  print(f'reference: accuracy {ref:.4f} +- {ref_se:.4f} (C {c_value:g}, {n} clips)')
  for name in names:
    mean = np.mean([correct[name, s].mean() for s in seeds])
    line = f'  {name:12s}: mean accuracy {mean:.4f}, vs reference {mean - ref:+.4f}'
    if name != 'seed' and 'seed' in names:
      d = [correct[name, s] - correct['seed', s] for s in seeds]
      paired = ', '.join(f'{x.mean():+.4f} +- {x.std(ddof=1) / np.sqrt(len(x)):.4f}' for x in d)
      line += f'; vs seed (paired, per seed) {paired}'
    print(line, flush=True)


if __name__ == '__main__':
  main()
