"""``envsound demo``: the main job on the embedded default, one visible command at a time.

Each stage is an ordinary ``envsound`` command, printed before it runs, so a user can rerun
or change any of them by hand: generate a sample AudioSet release, inspect it, export .npy
clips (the desktop client's reference set), run the TFX pipeline (report at the end), make a
few recordings and export a random-weight VGGish beside the pushed models, serve them all,
classify the recordings (audio files, embedded by the served VGGish) and serve until Ctrl-C.
"""

import argparse
import shlex
from pathlib import Path
from typing import List, Sequence

from envsound.core import features
from envsound.vggish import demo_audio

DEFAULT_WORKDIR = Path('runs/demo')
DEFAULT_CLIPS = 20_000


def register(subparsers) -> None:
  parser = subparsers.add_parser(
      'demo', help='run the whole job on generated sample data',
      description='Generate a sample AudioSet release, inspect it, export .npy clips, run '
                  'the TFX pipeline locally and serve the pushed models; every stage is an '
                  'envsound command, printed before it runs.')
  parser.add_argument('--workdir', type=Path, default=DEFAULT_WORKDIR,
                      help='where data, pipeline outputs and models go (default: %(default)s)')
  parser.add_argument('--clips', type=int, default=DEFAULT_CLIPS,
                      help='sample clips to generate (default: %(default)s)')
  parser.add_argument('--seed', type=int, default=0, help='sample data seed')
  parser.add_argument('--epochs', type=int, default=None,
                      help="training epochs (default: each approach's own)")
  parser.add_argument('--min-accuracy', type=float, default=None,
                      help="bless any model at least this accurate instead of the pipeline's "
                           'gate (beat the majority rate, the reference and the last blessed '
                           'model)')
  parser.add_argument('--port', type=int, default=8500, help='gRPC port of the server')
  parser.add_argument('--rest-port', type=int, default=8501, help='REST port of the server')
  parser.add_argument('--no-serve', action='store_true',
                      help='stop after the pipeline instead of serving the models')
  parser.set_defaults(func=run)


def paths(workdir: Path) -> dict:
  """Where each stage reads and writes, under ``workdir``."""
  return {'data': workdir / 'audioset', 'npy': workdir / 'npy',
          'pipeline': workdir / 'pipeline', 'serving': workdir / 'serving'}


def stages(args: argparse.Namespace) -> List[List[str]]:
  """Returns the envsound commands the demo runs before serving, in order."""
  p = paths(args.workdir)
  commands = []
  if not (p['data'] / 'class_labels_indices.csv').exists():
    commands.append(['data', 'sample', '--out', str(p['data']), '--clips', str(args.clips),
                     '--seed', str(args.seed)])
  commands.append(['data', 'inspect', str(p['data'])])
  commands.append(['data', 'export', str(p['data']), '--out', str(p['npy']),
                   '--splits', 'bal_train,eval', '--overwrite'])
  pipeline = ['pipeline', 'run', '--data', str(p['data']), '--pipeline-root', str(p['pipeline']),
              '--serving-dir', str(p['serving'])]
  if args.epochs is not None:
    pipeline += ['--epochs', str(args.epochs)]
  if args.min_accuracy is not None:
    pipeline += ['--min-accuracy', str(args.min_accuracy)]
  commands.append(pipeline)
  commands += demo_audio.stages(args.workdir, p['serving'])
  return commands


def serve_command(args: argparse.Namespace) -> List[str]:
  """The ``envsound serve`` command the demo's last stage runs (in this process)."""
  from envsound.serving import options  # pylint: disable=import-outside-toplevel
  serving = paths(args.workdir)['serving']
  return ['serve', f'--port={args.port}', f'--rest_api_port={args.rest_port}',
          f'--model_config_file={serving / "models.config"}', '--enable_batching',
          f'--batching_parameters_file={options.BATCHING_PARAMETERS_FILE}']


def usage_text(server, models: Sequence[str] = ()) -> str:
  """What to print once the server runs: how to query it and open the desktop client."""
  host = server.options.host
  models = list(models) or classifiers(server)
  first = models[0] if models else 'MODEL'
  served = models + [m for m in server.manager.model_names() if m not in models]
  lines = [f'Serving {", ".join(served)} (gRPC {host}:{server.grpc_port}'
           + (f', REST {host}:{server.rest_port}' if server.rest_port else '') + ').',
           'Query it (audio files go through the served vggish first):',
           f'  envsound predict --server {host}:{server.grpc_port} --model {first} '
           'clip.npy recording.wav']
  if server.rest_port:
    lines += [f'  curl http://{host}:{server.rest_port}/v1/models/{first}',
              f'  curl http://{host}:{server.rest_port}/v1/models/{first}/metadata']
  lines += ['Open the desktop client:',
            f'  envsound gui --server {host}:{server.grpc_port} --model {first}',
            '  (its Listen button classifies the microphone live; without one, add '
            '--listen-file recording.wav)',
            'Press Ctrl-C to stop the server.']
  return '\n'.join(lines)


def classifiers(server) -> List[str]:
  """The served models other than VGGish."""
  return [m for m in server.manager.model_names() if m != features.VGGISH_MODEL_NAME]


def _classify_recordings(args: argparse.Namespace, server) -> None:
  """Classifies the demo's own recordings (audio files) with the first served classifier."""
  # pylint: disable=import-outside-toplevel
  from envsound import cli
  from envsound.vggish.demo_files import WARNING
  models = classifiers(server)
  if not models:
    return
  argv = demo_audio.predict_command(args.workdir, f'{server.options.host}:{server.grpc_port}',
                                    models[0])
  print(f'\n$ envsound {shlex.join(argv)}', flush=True)
  cli.main(argv)
  print(f'WARNING: the served vggish embedded these recordings. {WARNING}', flush=True)


def serve_pushed_models(args: argparse.Namespace) -> int:
  """Serves every model the Pusher wrote until Ctrl-C or SIGTERM.

  Writes ``<serving dir>/models.config`` (absolute base paths, stable/canary labels) first,
  so the same file can be handed to tensorflow_model_server.
  """
  # pylint: disable=import-outside-toplevel
  from envsound.serving import local_server, model_config, options, signals
  serving = paths(args.workdir)['serving']
  model_config.write_model_config(serving, serving / 'models.config')
  argv = serve_command(args)
  print(f'\n$ envsound {shlex.join(argv)}', flush=True)
  parser = argparse.ArgumentParser(prog='envsound serve')
  options.add_server_flags(parser)
  server = local_server.ModelServer(options.ServerOptions.from_args(parser.parse_args(argv[1:])))
  with signals.stopped_on_interrupt(server):
    server.start()
    _classify_recordings(args, server)
    print(usage_text(server), flush=True)
    server.wait()
  return 0


def run(args: argparse.Namespace) -> int:
  from envsound import cli  # pylint: disable=import-outside-toplevel
  for argv in stages(args):
    print(f'\n$ envsound {shlex.join(argv)}', flush=True)
    status = cli.main(argv)
    if status:
      return status
  return 0 if args.no_serve else serve_pushed_models(args)
