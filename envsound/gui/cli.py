"""``envsound gui``: the desktop client."""

import argparse
from pathlib import Path

from envsound.core import features


def register(subparsers) -> None:
  parser = subparsers.add_parser(
      'gui', help='open the desktop client (Tkinter + UMAP)',
      description='Drop .npy embedding clips or audio files into a window, classify them '
                  'with a served model over gRPC (TF Serving or `envsound serve`) and see '
                  'where they sit on a UMAP map of the reference clips; Listen classifies '
                  'the microphone live. Audio goes through the server\'s VGGish model.')
  parser.add_argument('--server', help='host:port of the gRPC server '
                                       '(default: the last one used, else localhost:8500)')
  parser.add_argument('--model', help='model to select: NAME, "NAME vN" or "NAME @LABEL"')
  parser.add_argument('--models', default='', metavar='NAME[,NAME...]',
                      help='model names to look for on the server: TF Serving cannot list '
                           'its models (default: the three approaches\' names, plus any '
                           'named before)')
  parser.add_argument('--reference', type=Path, metavar='DIR',
                      help='reference set: a folder with manifest.csv and .npy clips, as '
                           '`envsound data export` writes (default: the last one used, '
                           '$ENVSOUND_REFERENCE, or runs/demo/npy)')
  parser.add_argument('--vggish-model', default=features.VGGISH_MODEL_NAME, metavar='NAME',
                      help='the served VGGish that embeds audio files and Listen\'s sound '
                           '(default: %(default)s)')
  parser.add_argument('--listen-file', type=Path, metavar='FILE',
                      help='Listen plays this audio file in real time instead of the '
                           'microphone (to try Listen without one)')
  parser.add_argument('--no-connect', action='store_true',
                      help='open the window without connecting')
  parser.add_argument('files', nargs='*', type=Path,
                      help='.npy clips, audio files or folders to load')
  parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
  import os  # pylint: disable=import-outside-toplevel
  import tkinter  # pylint: disable=import-outside-toplevel
  # numba (UMAP) keeps its compiled code on disk, so a live fit is warm from the second start.
  cache = os.environ.get('XDG_CACHE_HOME') or os.path.join(os.path.expanduser('~'), '.cache')
  os.environ.setdefault('NUMBA_CACHE_DIR', os.path.join(cache, 'envsound', 'numba'))
  from envsound.core.errors import EnvsoundError  # pylint: disable=import-outside-toplevel
  from envsound.gui import app  # pylint: disable=import-outside-toplevel
  try:
    root = app.make_root()
  except tkinter.TclError as e:
    raise EnvsoundError(f'cannot open a window ({e}); is DISPLAY set?') from None
  models = [m.strip() for m in args.models.split(',') if m.strip()]
  window = app.App(root, server=args.server, model=args.model, models=models,
                   reference=args.reference, connect=not args.no_connect)
  window.vggish_model = args.vggish_model
  if args.listen_file:
    window.set_listen_source(args.listen_file)
  if args.files:
    window.load_files(args.files)
  root.mainloop()
  return 0
