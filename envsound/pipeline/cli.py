"""``envsound pipeline run`` and ``envsound pipeline compile``: the TFX pipeline's commands.

Kept import-light: TensorFlow and TFX are imported inside the handlers.
"""

import argparse
import os
import pathlib
from typing import List

from envsound.core.errors import EnvsoundError
from envsound.pipeline import beam_args

DEFAULT_PIPELINE_ROOT = 'runs/pipeline'
DEFAULT_SERVING_DIR = 'runs/serving'
DEFAULT_IMAGE = 'europe-docker.pkg.dev/PROJECT/envsound/envsound:0.1.0'


def register(subparsers) -> None:
  parser = subparsers.add_parser(
      'pipeline', help='run or compile the TFX training pipeline',
      description='The TFX pipeline: ingestion, statistics, schema validation, Transform, one '
                  'Trainer/Evaluator/Pusher per approach.')
  sub = parser.add_subparsers(dest='pipeline_command', required=True)
  run = sub.add_parser(
      'run', help='run the pipeline (locally, or with Dataflow doing the Beam work)',
      description='Runs the whole pipeline with LocalDagRunner and pushes blessed models to '
                  '<serving-dir>/<model name>/<version>/. Unchanged inputs reuse cached '
                  'outputs (ML Metadata in SQLite).')
  _add_common(run)
  run.add_argument('--pipeline-root', default=None,
                   help=f'artifact folder (default: {DEFAULT_PIPELINE_ROOT}, or '
                        '<gcs-root>/pipeline with --runner dataflow)')
  run.add_argument('--serving-dir', default=None,
                   help=f'TF Serving model base path (default: {DEFAULT_SERVING_DIR}, or '
                        '<gcs-root>/serving with --runner dataflow)')
  run.add_argument('--metadata', default=None,
                   help='ML Metadata SQLite file (default: <pipeline-root>/metadata.sqlite; '
                        'runs/dataflow-metadata.sqlite with --runner dataflow)')
  run.add_argument('--runner', choices=('direct', 'dataflow'), default='direct',
                   help="Beam runner of the data components (default: %(default)s)")
  run.add_argument('--direct-running-mode', default='auto',
                   choices=('auto', 'in_memory', 'multi_threading', 'multi_processing'),
                   help='DirectRunner mode: multi_processing uses every core but costs about '
                        '20-35 s per component; auto picks it when the release holds more than '
                        '100 MiB of TFRecords (~70k clips) and the machine has 4 cores or more, '
                        'in_memory otherwise (default: %(default)s)')
  run.add_argument('--workers', type=int, default=0,
                   help='DirectRunner workers, 0 = one per core (default: %(default)s)')
  run.add_argument('--report-dir', type=pathlib.Path, default=None,
                   help='where the results report goes (default: <pipeline-root>/report)')
  run.add_argument('--target', dest='label_target', default='environment',
                   choices=('environment', 'audioset'),
                   help="what every approach learns: envsound's environments (one per clip, "
                        "accuracy) or AudioSet's 527 classes as multi-label tagging (mAP, AUC "
                        "and d' on the eval split, beside the published figures) "
                        '(default: %(default)s)')
  run.add_argument('--no-cache', action='store_true', help='rerun every component')
  _add_tuning(run)
  run.add_argument('--verbose', action='store_true', default=argparse.SUPPRESS,
                   help='show library, TensorFlow and Beam logs live (they always go to the '
                        'log file named in the first line)')
  run.set_defaults(func=_run)

  comp = sub.add_parser(
      'compile', help='write the pipeline for Vertex AI Pipelines (no cloud calls)',
      description='Compiles the same pipeline definition to a Kubeflow V2 JSON file that '
                  '`gcloud ai` / the Vertex AI SDK submits.')
  _add_common(comp)
  comp.add_argument('--target', choices=('vertex',), default='vertex',
                    help='orchestrator (default: %(default)s)')
  comp.add_argument('--label-target', dest='label_target', default='environment',
                    choices=('environment', 'audioset'),
                    help="what every approach learns (`pipeline run --target`) "
                         '(default: %(default)s)')
  comp.add_argument('--output', type=pathlib.Path, default=pathlib.Path('envsound_vertex.json'),
                    help='the JSON file to write (default: %(default)s)')
  comp.add_argument('--beam-runner', choices=('direct', 'dataflow'), default='dataflow',
                    help='where the Beam components run (default: %(default)s)')
  comp.set_defaults(func=_compile)


def _add_common(parser: argparse.ArgumentParser) -> None:
  """Flags shared by run and compile: data, sizes, approaches, Google Cloud."""
  from envsound.core import approaches  # pylint: disable=import-outside-toplevel
  names = ','.join(a.name for a in approaches.APPROACHES)
  parser.add_argument('--data', required=True,
                      help='AudioSet release root (sample data, or Google\'s unpacked features '
                           'folder): bal_train/, eval/ [, unbal_train/] and '
                           'class_labels_indices.csv, or a folder holding '
                           'audioset_v1_embeddings/ and the CSV')
  parser.add_argument('--approaches', default=names,
                      help='comma-separated approaches to train (default: %(default)s)')
  parser.add_argument('--max-clips', type=int, default=None,
                      help='quick run: keep at most N clips per split (fair per environment)')
  parser.add_argument('--unbalanced-cap', type=int, default=150_000,
                      help="size of the 'balanced + unbalanced' training set "
                           '(default: %(default)s)')
  parser.add_argument('--epochs', type=int, default=None,
                      help="training epochs (default: each approach's own)")
  parser.add_argument('--min-accuracy', type=float, default=None,
                      help='push a model whose validation accuracy reaches this, instead of '
                           'requiring it to beat the reference (logistic regression on pooled '
                           'embeddings) and the majority class (default: the comparison); '
                           'environment target only')
  parser.add_argument('--min-map', type=float, default=None,
                      help='with --target audioset: push a model whose eval mAP reaches this, '
                           'instead of requiring it to beat the reference (one-vs-rest '
                           'logistic regression) and the label prior (default: the comparison)')
  cloud = parser.add_argument_group('Google Cloud (Dataflow / Vertex AI)')
  cloud.add_argument('--project', help='Google Cloud project')
  cloud.add_argument('--region', help='region, e.g. europe-west1')
  cloud.add_argument('--gcs-root', help='gs://BUCKET/PATH for pipeline, temp and staging files')
  cloud.add_argument('--image', default=None,
                     help=f'worker container image built from envsound/pipeline/Dockerfile '
                          f'(e.g. {DEFAULT_IMAGE})')
  cloud.add_argument('--extra-package', default=None,
                     help='envsound wheel for Dataflow workers when no --image is given')
  cloud.add_argument('--machine-type', default=beam_args.DATAFLOW_MACHINE_TYPE,
                     help='Dataflow worker machine type (default: %(default)s)')
  cloud.add_argument('--max-workers', type=int, default=beam_args.DATAFLOW_MAX_WORKERS,
                     help='Dataflow autoscaling limit (default: %(default)s)')
  cloud.add_argument('--disk-size-gb', type=int, default=beam_args.DATAFLOW_DISK_GB,
                     help='Dataflow persistent disk per worker (default: %(default)s)')


def _add_tuning(parser: argparse.ArgumentParser) -> None:
  """--tune and its budget."""
  group = parser.add_argument_group('tuning (TFX Tuner, KerasTuner)')
  group.add_argument('--tune', action='store_true',
                     help="search each approach's hyper-parameters on part of its training "
                          'split (never the validation split) before training; later runs '
                          'without --tune reuse the latest result')
  group.add_argument('--tune-trials', type=int, default=10,
                     help='most hyper-parameter sets per approach (default: %(default)s)')
  group.add_argument('--tune-minutes', type=float, default=30.0,
                     help='search time per approach, in minutes (default: %(default)s)')


def make_config(args: argparse.Namespace, *, cloud: bool):
  """Builds the PipelineConfig the flags describe."""
  from envsound.pipeline import configs  # pylint: disable=import-outside-toplevel
  approaches = tuple(a.strip() for a in args.approaches.split(',') if a.strip())
  root = args.gcs_root.rstrip('/') if cloud else None
  pipeline_root = getattr(args, 'pipeline_root', None) or (
      f'{root}/pipeline' if cloud else DEFAULT_PIPELINE_ROOT)
  serving_dir = getattr(args, 'serving_dir', None) or (
      f'{root}/serving' if cloud else DEFAULT_SERVING_DIR)
  if not cloud:
    pipeline_root = str(pathlib.Path(pipeline_root).resolve())
    serving_dir = str(pathlib.Path(serving_dir).resolve())
  data, class_csv = args.data, None
  if '://' not in data:  # a local release: the sample's layout or Google's, checked up front
    from envsound.audioset.release import find_release  # pylint: disable=import-outside-toplevel
    release = find_release(data)
    missing = [s for s in ('bal_train', 'eval') if s not in release.files]
    if missing:
      raise EnvsoundError(f'{release.root}: the pipeline needs the {" and ".join(missing)} '
                          'split(s)')
    data, class_csv = str(release.root.resolve()), str(release.class_csv.resolve())
  try:
    tune = (configs.TuningBudget(args.tune_trials, args.tune_minutes)
            if getattr(args, 'tune', False) else None)
  except ValueError as e:
    raise EnvsoundError(f'--tune-trials/--tune-minutes: {e}') from e
  try:
    cfg = configs.PipelineConfig(
        data_root=data, pipeline_root=pipeline_root, serving_dir=serving_dir,
        approaches=approaches, max_clips=args.max_clips, unbalanced_cap=args.unbalanced_cap,
        epochs=args.epochs, min_accuracy=args.min_accuracy, min_map=args.min_map,
        class_csv=class_csv, enable_cache=not getattr(args, 'no_cache', False), tune=tune,
        target=args.label_target)
    cfg.selected_approaches  # pylint: disable=pointless-statement  (validates the names)
  except KeyError as e:
    raise EnvsoundError(f'--approaches: {e.args[0]}') from e
  except ValueError as e:
    raise EnvsoundError(str(e)) from e
  return cfg


def dataflow_beam_args(args: argparse.Namespace) -> List[str]:
  """Beam arguments for DataflowRunner from the flags (no cloud call)."""
  missing = [f'--{n.replace("_", "-")}' for n in ('project', 'region', 'gcs_root')
             if not getattr(args, n)]
  if missing:
    raise EnvsoundError(f'Dataflow needs {", ".join(missing)}')
  try:
    return beam_args.dataflow_args(
        args.project, args.region, f'{args.gcs_root.rstrip("/")}/tmp', image=args.image,
        extra_package=args.extra_package, machine_type=args.machine_type,
        max_workers=args.max_workers, disk_size_gb=args.disk_size_gb)
  except ValueError as e:
    raise EnvsoundError(str(e)) from e


def _run(args: argparse.Namespace) -> int:
  # pylint: disable=import-outside-toplevel
  from envsound.pipeline import local_runner
  cloud = args.runner == 'dataflow'
  cfg = make_config(args, cloud=cloud)
  extra = dataflow_beam_args(args) if cloud else ()
  metadata = args.metadata or ('runs/dataflow-metadata.sqlite' if cloud else None)
  mode = args.direct_running_mode
  if mode == 'auto':
    mode = beam_args.auto_running_mode(_release_bytes(cfg.data_root), os.cpu_count() or 1)
  from envsound.pipeline import console as console_lib
  console = console_lib.Console(cfg.pipeline_root, verbose=getattr(args, 'verbose', False))
  try:
    with console:
      metadata = local_runner.run(cfg, running_mode=mode, workers=args.workers,
                                  metadata=metadata, extra_beam_args=extra, console=console)
  except Exception as e:  # the console printed it
    raise RunFailed(console.path) from e
  from envsound.pipeline import run_summary
  print('\nData checks and quality gates:\n  ' + '\n  '.join(run_summary.summarize(metadata)))
  print_report(cfg.pipeline_root, metadata, args.report_dir)
  return 0


class RunFailed(EnvsoundError):
  """The pipeline stopped; the console printed the component and its error."""

  def __init__(self, log: pathlib.Path):
    super().__init__(f'the pipeline run failed (full log: {log})')
    self.log = log


def _release_bytes(data_root: str) -> int:
  """Total size of a local release's TFRecords (0 for a gs:// release)."""
  if '://' in data_root:
    return 0
  return sum(p.stat().st_size for p in pathlib.Path(data_root).glob('*/*.tfrecord'))


def print_report(pipeline_root: str, metadata: str, report_dir=None) -> pathlib.Path:
  """Writes the results report of the last run and prints its results and ranking, then its
  path (the file has the rest)."""
  # pylint: disable=import-outside-toplevel
  from envsound import report
  from envsound.report import summary
  out_dir = pathlib.Path(report_dir or pathlib.Path(pipeline_root) / 'report')
  path = pathlib.Path(report.write_report(pipeline_root, metadata, out_dir))
  if path.suffix in ('.md', '.txt'):
    print(summary.console_summary(path.read_text(encoding='utf-8')))
    print()
  print(f'Report: {path}')
  return path


def _compile(args: argparse.Namespace) -> int:
  # pylint: disable=import-outside-toplevel
  import dataclasses
  from envsound.pipeline import beam_args, vertex_runner
  if not args.gcs_root or not args.gcs_root.startswith('gs://'):
    raise EnvsoundError('--gcs-root gs://BUCKET/PATH is required for Vertex AI')
  if not args.image:
    raise EnvsoundError(f'--image is required (the image built from envsound/pipeline/Dockerfile, '
                        f'e.g. {DEFAULT_IMAGE})')
  cfg = make_config(args, cloud=True)
  cfg = dataclasses.replace(cfg, schema_file=vertex_runner.image_schema_file(cfg.target_spec))
  beam = (dataflow_beam_args(args) if args.beam_runner == 'dataflow'
          else beam_args.direct_args('multi_processing'))
  path = vertex_runner.compile_vertex(cfg, str(args.output), image=args.image,
                                      beam_pipeline_args=beam)
  print(f'Wrote {path}')
  return 0
