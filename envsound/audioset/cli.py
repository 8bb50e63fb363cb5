"""``envsound data sample|inspect|export``: AudioSet feature releases on disk.

Kept import-light: TensorFlow is imported inside the handlers.
"""

import argparse
import sys
from pathlib import Path

from envsound.core import features
from envsound.core.errors import EnvsoundError

DEFAULT_CLIPS = 20_000
_RELEASE_HELP = ('AudioSet release root: bal_train/, unbal_train/, eval/ (*.tfrecord) and '
                 f'{features.CLASS_CSV}; a folder holding Google\'s unpacked '
                 'audioset_v1_embeddings/ works too')
_SKIP_HELP = ('skip bad records (and the unreadable rest of a corrupt file), count and list '
              'them, instead of stopping at the first one')


def register(subparsers) -> None:
  parser = subparsers.add_parser(
      'data', help='generate, inspect and export AudioSet embedding releases',
      description='AudioSet feature releases (Google\'s VGGish embeddings as TFRecords of '
                  'SequenceExamples): generate a sample one, count what one holds, export '
                  'clips as .npy files. Bad input stops a command with a one-line message '
                  'naming the file and record; --skip-invalid skips and counts instead.')
  sub = parser.add_subparsers(dest='data_command', metavar='SUBCOMMAND', required=True)

  sample = sub.add_parser(
      'sample', help='write a synthetic release (no download needed)',
      description='Writes a synthetic AudioSet release with the layout and records of '
                  'Google\'s: --clips split 15% bal_train, 75% unbal_train, 10% eval, or '
                  'per-split sizes (AudioSet\'s own: --bal 22160 --unbal 2041789 --eval '
                  '20371); 1,000 clips per .tfrecord file, plus the 527-class list. The same '
                  'seed writes the same clips. See docs/data.md for the generative model.')
  sample.add_argument('--out', type=Path, required=True, help='release folder to create')
  sample.add_argument('--clips', type=int, default=None,
                      help=f'clips in all splits together (default: {DEFAULT_CLIPS})')
  for flag, split in (('--bal', 'bal_train'), ('--unbal', 'unbal_train'), ('--eval', 'eval')):
    sample.add_argument(flag, type=int, default=None, metavar='N',
                        help=f'clips in {split} (give all three instead of --clips)')
  sample.add_argument('--seed', type=int, default=0, help='seed (default: %(default)s)')
  sample.add_argument('--overwrite', action='store_true',
                      help='replace --out if it exists (once the new release is complete)')
  sample.set_defaults(func=_sample)

  inspect = sub.add_parser(
      'inspect', help='count clips per split, class and environment; list problems',
      description='Reads every record of a release and prints clips per split, per AudioSet '
                  'class (top 25), per environment of the taxonomy (and unassigned), a '
                  'histogram of frames per clip, and every problem found.')
  inspect.add_argument('release', type=Path, metavar='DIR', help=_RELEASE_HELP)
  inspect.add_argument('--all-classes', action='store_true',
                       help='list every AudioSet class present, not only the top 25')
  inspect.add_argument('--skip-invalid', action='store_true', help=_SKIP_HELP)
  inspect.set_defaults(func=_inspect)

  export = sub.add_parser(
      'export', help='write one .npy per clip plus manifest.csv per split',
      description='Writes each clip as OUT/<folder>/<video_id>_<start seconds>.npy (uint8 '
                  '[frames, 128], AudioSet\'s bytes) with a manifest.csv (file, video_id, '
                  'start/end time, frames, label mids and names, environment) per folder: '
                  'balanced/ (bal_train), unbalanced/ (unbal_train), eval/. The desktop '
                  'client takes OUT as its reference set. OUT appears only when complete.')
  export.add_argument('release', type=Path, metavar='DIR', help=_RELEASE_HELP)
  export.add_argument('--out', type=Path, required=True, help='output folder')
  export.add_argument('--splits', default=None, metavar='SPLIT[,SPLIT...]',
                      help=f'splits to export, of {",".join(features.SPLITS)} (default: '
                           'every split the release has)')
  export.add_argument('--max-clips', type=int, default=None, metavar='N',
                      help='at most N clips per split, a seeded pseudo-random choice')
  export.add_argument('--balance', action='store_true',
                      help='cap clips per environment: fair shares of --max-clips, or as '
                           'many as the rarest environment has; unassigned clips are left out')
  export.add_argument('--seed', type=int, default=0,
                      help='seed of the --max-clips/--balance choice (default: %(default)s)')
  export.add_argument('--overwrite', action='store_true',
                      help='replace OUT if it exists (once the new export is complete)')
  export.add_argument('--skip-invalid', action='store_true', help=_SKIP_HELP)
  export.set_defaults(func=_export)


def _progress() -> bool:
  return sys.stderr.isatty()


def _sample(args: argparse.Namespace) -> int:
  from envsound.audioset import sample  # pylint: disable=import-outside-toplevel
  per_split = {'bal_train': args.bal, 'unbal_train': args.unbal, 'eval': args.eval}
  given = [f'--{flag}' for flag, n in zip(('bal', 'unbal', 'eval'), per_split.values())
           if n is not None]
  if given and args.clips is not None:
    raise EnvsoundError(f'give --clips or per-split sizes ({", ".join(given)}), not both')
  if given and len(given) < 3:
    raise EnvsoundError('per-split sizes need all of --bal, --unbal and --eval')
  summary = sample.generate_release(
      args.out, args.clips or DEFAULT_CLIPS, args.seed, sizes=per_split if given else None,
      overwrite=args.overwrite, progress=_progress())
  print(summary)
  return 0


def _inspect(args: argparse.Namespace) -> int:
  # pylint: disable=import-outside-toplevel
  from envsound.audioset.release import find_release
  release = find_release(args.release)  # before TensorFlow loads: layout errors come fast
  from envsound.audioset import inspect
  result = inspect.inspect_release(release, skip_invalid=args.skip_invalid,
                                   progress=_progress())
  print('\n'.join(inspect.report_lines(result, all_classes=args.all_classes)))
  return 0


def _export(args: argparse.Namespace) -> int:
  # pylint: disable=import-outside-toplevel
  from envsound.audioset.release import find_release
  release = find_release(args.release)
  from envsound.audioset import export
  splits = export.parse_splits(args.splits) if args.splits is not None else None
  results = export.export_release(
      release, args.out, splits=splits, max_clips=args.max_clips,
      balance=args.balance, seed=args.seed, overwrite=args.overwrite,
      skip_invalid=args.skip_invalid, progress=_progress())
  print('\n'.join(export.summary_lines(args.out, results)))
  return 0
