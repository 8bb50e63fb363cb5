"""``envsound vggish export|demo-checkpoint`` and ``envsound embed``: raw audio in.

Kept import-light: TensorFlow is imported inside the handlers.
"""

import argparse
import sys
from pathlib import Path

from envsound.core import features

_RANDOM = ('random weights give meaningless embeddings; Google\'s files are '
           'https://storage.googleapis.com/audioset/vggish_model.ckpt and '
           'https://storage.googleapis.com/audioset/vggish_pca_params.npz')


def register(subparsers) -> None:
  parser = subparsers.add_parser(
      'vggish', help='export Google\'s VGGish (raw audio -> AudioSet embeddings) for serving',
      description='VGGish turns 16 kHz audio into AudioSet\'s 128-d embeddings, one per '
                  '0.96 s. See docs/audio.md.')
  sub = parser.add_subparsers(dest='vggish_command', metavar='SUBCOMMAND', required=True)

  export = sub.add_parser(
      'export', help='write a SavedModel version (TF Serving layout) from the checkpoint',
      description='Writes OUT/<version>/ (saved_model.pb, variables/, warm-up requests) '
                  'with signatures taking float32 16 kHz mono waveforms in [-1, 1]: '
                  f'{features.VGGISH_SIGNATURE} ({features.WAVEFORM_INPUT} [batch, samples] '
                  f'-> [batch, frames, 128]) and {features.WAVEFORM_SIGNATURE} '
                  f'([samples] -> [frames, 128]); outputs {features.VGGISH_EMBEDDING} (uint8, '
                  f'as AudioSet ships it) and {features.VGGISH_FLOAT_EMBEDDING} (dequantised). '
                  'The version appears only when complete.')
  export.add_argument('--checkpoint', type=Path, required=True,
                      help='vggish_model.ckpt (TF1 checkpoint, V1 or V2 format)')
  export.add_argument('--pca-params', type=Path, required=True, help='vggish_pca_params.npz')
  export.add_argument('--out', type=Path, required=True,
                      help=f'model base path, e.g. <serving dir>/{features.VGGISH_MODEL_NAME}')
  export.add_argument('--version', type=int,
                      help='version number (default: Unix time, above any existing version)')
  export.add_argument('--fc2-relu', action='store_true',
                      help='apply ReLU after fc2, as earlier revisions of Google\'s code did')
  export.set_defaults(func=_export)

  demo = sub.add_parser(
      'demo-checkpoint', help='write a RANDOM-weight checkpoint and PCA file (demos, tests)',
      description='Writes OUT/vggish_model.ckpt and OUT/vggish_pca_params.npz with Google\'s '
                  f'names, shapes and formats; {_RANDOM}.')
  demo.add_argument('--out', type=Path, required=True, help='folder to write them into')
  demo.add_argument('--seed', type=int, default=0, help='seed (default: %(default)s)')
  demo.set_defaults(func=_demo_checkpoint)

  recordings = sub.add_parser(
      'demo-audio', help='write a few short recordings (tones, noise; speech with espeak-ng)',
      description='Writes 3 s recordings made locally at 8 to 48 kHz (one stereo), and '
                  'speech when espeak-ng is installed, for the demo.')
  recordings.add_argument('--out', type=Path, required=True, help='folder to write them into')
  recordings.set_defaults(func=_demo_audio)

  embed = subparsers.add_parser(
      'embed', help='audio files -> AudioSet-style .npy embeddings with a VGGish SavedModel',
      description='Embeds audio files (wav, flac, ogg, ... any rate, stereo mixed down, '
                  'resampled to 16 kHz) into OUT/<name>.npy (uint8 [frames, 128]) plus '
                  'OUT/manifest.csv, as `envsound data export` writes them. A file that '
                  'cannot be embedded gets a one-line error; the others go on (exit status 1 '
                  'if any failed). OUT appears only when complete.')
  embed.add_argument('inputs', nargs='+', type=Path, metavar='FILE_OR_FOLDER',
                     help='audio files, or folders searched recursively for them')
  embed.add_argument('--vggish', type=Path, required=True, metavar='DIR',
                     help='a VGGish SavedModel: a version folder or its base path (newest)')
  embed.add_argument('--out', type=Path, required=True, help='output folder')
  embed.add_argument('--overwrite', action='store_true',
                     help='replace OUT if it exists (once the new one is complete)')
  embed.set_defaults(func=_embed)


def _export(args: argparse.Namespace) -> int:
  from envsound.vggish import export  # pylint: disable=import-outside-toplevel
  final = export.export_model(args.checkpoint, args.pca_params, args.out,
                              version=args.version, fc2_relu=args.fc2_relu)
  print(f'Exported VGGish to {final}')
  print(f'Serve it as model {features.VGGISH_MODEL_NAME!r}: envsound serve '
        f'--model_name={features.VGGISH_MODEL_NAME} --model_base_path={final.parent}')
  return 0


def _demo_checkpoint(args: argparse.Namespace) -> int:
  from envsound.vggish import demo_files  # pylint: disable=import-outside-toplevel
  ckpt, pca = demo_files.write_demo_files(args.out, seed=args.seed)
  print(f'Wrote {ckpt} and {pca}')
  print(f'WARNING: {demo_files.WARNING}')
  return 0


def _demo_audio(args: argparse.Namespace) -> int:
  from envsound.vggish import demo_audio  # pylint: disable=import-outside-toplevel
  paths = demo_audio.write_recordings(args.out)
  print(f'Wrote {len(paths)} recordings to {args.out}: {", ".join(p.name for p in paths)}')
  return 0


def _embed(args: argparse.Namespace) -> int:
  # pylint: disable=import-outside-toplevel
  from envsound.core import audio
  audio.expand_inputs(args.inputs)  # before TensorFlow loads: a bad argument fails fast
  from envsound.vggish import embed

  def report(error) -> None:
    print(f'envsound: error: {error}', file=sys.stderr)

  summary = embed.embed_files(args.vggish, args.inputs, args.out, overwrite=args.overwrite,
                              on_error=report, progress=sys.stderr.isatty())
  print(f'Embedded {len(summary.written)} file(s), {summary.seconds:.1f} s of audio, into '
        f'{summary.out} ({len(summary.errors)} failed)')
  return 1 if summary.errors else 0
