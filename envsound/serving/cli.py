"""``envsound serve`` (a TF Serving-compatible server), ``envsound predict`` (its client) and
``envsound models-config`` (a model_config_list with version labels for a serving dir)."""

import argparse
import json
import sys
from pathlib import Path

from envsound.core import features


def register(subparsers) -> None:
  from envsound.serving import options  # pylint: disable=import-outside-toplevel
  serve = subparsers.add_parser(
      'serve', help='serve SavedModels like tensorflow_model_server (gRPC 8500, REST 8501)',
      description="A TF Serving-compatible server taking tensorflow_model_server's flags "
                  '(--flag=value or --flag value). See docs/serving.md.')
  options.add_server_flags(serve)
  serve.set_defaults(func=_serve)

  predict = subparsers.add_parser(
      'predict', help='classify .npy clips or audio files with a served model',
      description='Send .npy clips ([frames, 128], uint8 or float) to a TF Serving or '
                  'envsound serve gRPC endpoint and print one row per clip. Audio files '
                  '(wav, flac, ogg, ...: any rate, stereo mixed down) are decoded here, '
                  'resampled to 16 kHz and embedded by the server\'s VGGish model first; '
                  'one that cannot be decoded gets a one-line error and the others go on '
                  '(exit status 1). See docs/audio.md.')
  predict.add_argument('clips', nargs='+', type=Path, metavar='FILE',
                       help='.npy clips or audio files')
  predict.add_argument('--server', default='localhost:8500', help='host:port (gRPC)')
  predict.add_argument('--model', required=True, help='model name')
  which = predict.add_mutually_exclusive_group()
  which.add_argument('--version', type=int, help='model version (default: newest)')
  which.add_argument('--label', help='version label, e.g. stable or canary')
  predict.add_argument('--signature', help='signature (default: by the clips\' dtype)')
  predict.add_argument('--vggish-model', default=features.VGGISH_MODEL_NAME, metavar='NAME',
                       help='the served VGGish that embeds audio files (default: %(default)s)')
  predict.add_argument('--timeout', type=float, default=10.0, help='seconds per call')
  predict.add_argument('--top', type=int, default=1, help='classes to show per clip')
  predict.add_argument('--json', action='store_true', help='print JSON instead of a table')
  predict.set_defaults(func=_predict)

  config = subparsers.add_parser(
      'models-config', help='write a models.config (with stable/canary labels) for a serving dir',
      description='Write a TF Serving model_config_list naming every model pushed under '
                  'SERVING_DIR, keeping its newest versions loaded, with "stable" on the older '
                  'and "canary" on the newest of them. Serve it with tensorflow_model_server '
                  'or envsound serve (--model_config_file).')
  config.add_argument('serving_dir', type=Path, help="the Pusher's serving dir")
  config.add_argument('--out', type=Path,
                      help='where to write it (default: SERVING_DIR/models.config)')
  config.add_argument('--base-path-prefix',
                      help='write <prefix>/<model> as base paths, e.g. /models where the '
                           'tensorflow/serving container mounts SERVING_DIR (default: the '
                           'absolute local paths)')
  config.add_argument('--num-versions', type=int, default=2,
                      help='newest versions kept loaded per model (default: %(default)s)')
  config.add_argument('--no-labels', action='store_true', help='write no version labels')
  config.set_defaults(func=_models_config)


def _serve(args: argparse.Namespace) -> int:
  import logging  # pylint: disable=import-outside-toplevel
  from envsound.serving import options, signals  # pylint: disable=import-outside-toplevel
  logging.getLogger('envsound.serving').setLevel(logging.INFO)
  return signals.serve(options.ServerOptions.from_args(args))


def _models_config(args: argparse.Namespace) -> int:
  from envsound.serving import model_config  # pylint: disable=import-outside-toplevel
  out = model_config.write_model_config(
      args.serving_dir, args.out or args.serving_dir / 'models.config',
      labels=not args.no_labels, num_versions=args.num_versions,
      base_path_prefix=args.base_path_prefix)
  print(out.read_text(), end='')
  print(f'# written to {out}')
  return 0


def _predict(args: argparse.Namespace) -> int:
  # pylint: disable=import-outside-toplevel
  import numpy as np
  from envsound.core import audio, clips
  from envsound.core.errors import EnvsoundError
  from envsound.serving import client_audio
  from envsound.serving.client import Client
  sounds = [p for p in args.clips if audio.is_audio(p)]
  loaded = {p: clips.load(p) for p in args.clips if p not in sounds}  # fails before any call
  failed = []

  def report(error) -> None:
    failed.append(error)
    print(f'envsound: error: {error}', file=sys.stderr)

  with Client(args.server, timeout_s=args.timeout) as client:
    for path, item in zip(sounds, client_audio.embed_files(client, sounds, args.vggish_model,
                                                           on_error=report)):
      if item is not None:
        loaded[path] = item.frames
    paths = [p for p in args.clips if p in loaded]
    if not paths:
      raise EnvsoundError(f'none of the {len(args.clips)} file(s) could be read')
    result = client.predict(args.model, [loaded[p] for p in paths], version=args.version,
                            label=args.label, signature=args.signature)
  rows = []
  for i, path in enumerate(paths):
    order = np.argsort(-result.probabilities[i])[:max(args.top, 1)]
    rows.append({'clip': str(path), 'top_class': result.top_class[i],
                 'top_score': round(float(result.top_score[i]), 4),
                 'top': [[result.class_names[j], round(float(result.probabilities[i][j]), 4)]
                         for j in order]})
  if args.json:
    print(json.dumps({'model': result.model_name, 'version': result.model_version,
                      'predictions': rows}, indent=2))
    return 1 if failed else 0
  print(f'model {result.model_name} version {result.model_version}')
  width = max(len(r['clip']) for r in rows)
  for r in rows:
    classes = ', '.join(f'{name} {score:.3f}' for name, score in r['top'])
    print(f'{r["clip"]:<{width}}  {classes}')
  return 1 if failed else 0
