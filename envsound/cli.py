"""The ``envsound`` command line: one entry point, a subcommand per part of the system.

Each part registers its own subcommands (``register(subparsers)``) and imports its heavy
dependencies (TensorFlow, TFX) only when a command runs, so ``--help`` stays instant.
"""

import argparse
import importlib
import logging
import os
import sys
import warnings
from typing import Optional, Sequence

from envsound.core.errors import EnvsoundError

# What only the `pipeline` extra installs: a command that needs them says so on one line.
_PIPELINE_EXTRA = frozenset((
    'tensorflow', 'tensorflow_serving', 'tf_keras', 'tfx', 'tfx_bsl', 'apache_beam',
    'tensorflow_transform', 'tensorflow_data_validation', 'tensorflow_model_analysis',
    'ml_metadata', 'tqdm', 'pandas', 'aiohttp', 'grpc_health'))

# Modules that add subcommands, in the order ``--help`` lists them.
_COMMAND_MODULES = (
    'envsound.demo',
    'envsound.audioset.cli',
    'envsound.pipeline.cli',
    'envsound.serving.cli',
    'envsound.gui.cli',
    'envsound.vggish.cli',
)


def build_parser() -> argparse.ArgumentParser:
  """Returns the top-level parser with every available subcommand."""
  parser = argparse.ArgumentParser(
      prog='envsound',
      description='Recognise environments from sound: AudioSet VGGish embeddings in, '
                  'TFX-trained models served by TF Serving, a UMAP desktop client.')
  parser.add_argument('-v', '--verbose', action='store_true',
                      help='show library logs and full tracebacks')
  subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
  for name in _COMMAND_MODULES:
    try:
      module = importlib.import_module(name)
    except ModuleNotFoundError as e:
      if e.name != name:  # a real import error inside the module, not a missing part
        raise
      continue
    module.register(subparsers)
  return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs the command line; returns the process exit status."""
  parser = build_parser()
  args = parser.parse_args(argv)
  if not args.verbose:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')  # TF's CUDA-factory lines are ERROR-level noise here
    warnings.filterwarnings('ignore', category=FutureWarning)
  if not getattr(args, 'func', None):
    parser.print_help()
    return 2
  logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                      format='%(levelname)s %(name)s: %(message)s')
  try:
    return int(args.func(args) or 0)
  except EnvsoundError as e:
    if args.verbose:
      raise
    print(f'envsound: error: {e}', file=sys.stderr)
    return 1
  except ModuleNotFoundError as e:
    if args.verbose or (e.name or '').split('.')[0] not in _PIPELINE_EXTRA:
      raise
    print(f'envsound: error: `envsound {args.command}` needs the pipeline extra (no module '
          f"{e.name}): pip install 'envsound[pipeline]'", file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print('envsound: interrupted', file=sys.stderr)
    return 130


if __name__ == '__main__':
  sys.exit(main())
