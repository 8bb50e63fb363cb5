"""Beam pipeline arguments for each runner; pure functions, no cloud calls."""

from typing import List, Optional

DIRECT_RUNNING_MODES = ('in_memory', 'multi_threading', 'multi_processing')
AUTO_MULTI_PROCESSING_BYTES = 100 << 20  # of release TFRecords (~70k clips)
AUTO_MULTI_PROCESSING_CORES = 4


def auto_running_mode(release_bytes: int, cores: int) -> str:
  """The DirectRunner mode ``--direct-running-mode auto`` picks for a local release.

  in_memory unless the release is large *and* there are at least 4 cores, where
  multi_processing's worker start-up pays back (docs/pipeline.md has the measurements).
  """
  if release_bytes > AUTO_MULTI_PROCESSING_BYTES and cores >= AUTO_MULTI_PROCESSING_CORES:
    return 'multi_processing'
  return 'in_memory'


def direct_args(running_mode: str = 'multi_processing', workers: int = 0) -> List[str]:
  """Arguments for Beam's DirectRunner.

  Args:
    running_mode: one of DIRECT_RUNNING_MODES. multi_processing uses several cores but adds
      about 20-35 s per component (worker start-up): it pays off only on large inputs.
    workers: worker processes or threads; 0 means one per core (in_memory always uses 1).
  """
  if running_mode not in DIRECT_RUNNING_MODES:
    raise ValueError(f'unknown running mode {running_mode!r}; '
                     f'choose from {", ".join(DIRECT_RUNNING_MODES)}')
  if running_mode == 'in_memory':
    workers = 1  # in_memory runs in this process; more workers only draw Beam's warning
  return ['--runner=DirectRunner', f'--direct_running_mode={running_mode}',
          f'--direct_num_workers={workers}']


# Settings docs/dataflow.md recommends for AudioSet's release (2M clips, ~3 GB of records).
DATAFLOW_MACHINE_TYPE = 'n2-standard-4'
DATAFLOW_MAX_WORKERS = 16
DATAFLOW_DISK_GB = 50


def dataflow_args(project: str, region: str, temp_location: str, *,
                  image: Optional[str] = None, setup_file: Optional[str] = None,
                  extra_package: Optional[str] = None,
                  machine_type: Optional[str] = None,
                  max_workers: Optional[int] = None,
                  disk_size_gb: Optional[int] = None) -> List[str]:
  """Arguments for Beam's DataflowRunner (runner v2).

  Workers get envsound's code and pinned dependencies from a container ``image`` (see
  envsound/pipeline/Dockerfile) or, without one, from a ``setup_file``/``extra_package``.

  Args:
    project: Google Cloud project id.
    region: Dataflow region, e.g. europe-west1.
    temp_location: gs:// folder for temporary files; staging goes to ``<it>/staging``.
    image: worker container image holding envsound and its dependencies.
    setup_file: path of a setup.py/pyproject project to install on the workers.
    extra_package: a built envsound wheel/sdist to install on the workers.
    machine_type: worker machine type.
    max_workers: autoscaling limit (throughput-based autoscaling up to it).
    disk_size_gb: persistent disk per worker.

  Raises:
    ValueError: ``temp_location`` is not a gs:// URI or no worker code is given.
  """
  if not temp_location.startswith('gs://'):
    raise ValueError(f'Dataflow needs a gs:// temp location, got {temp_location!r}')
  if not (image or setup_file or extra_package):
    raise ValueError('Dataflow workers need envsound: give a container image '
                     '(--image) or a package (--extra-package)')
  temp = temp_location.rstrip('/')
  args = ['--runner=DataflowRunner', f'--project={project}', f'--region={region}',
          f'--temp_location={temp}', f'--staging_location={temp}/staging',
          '--experiments=use_runner_v2']
  if image:
    args += [f'--sdk_container_image={image}', '--sdk_location=container']
  if setup_file:
    args.append(f'--setup_file={setup_file}')
  if extra_package:
    args.append(f'--extra_package={extra_package}')
  if machine_type:
    args.append(f'--machine_type={machine_type}')
  if max_workers:
    args += [f'--max_num_workers={max_workers}', '--autoscaling_algorithm=THROUGHPUT_BASED']
  if disk_size_gb:
    args.append(f'--disk_size_gb={disk_size_gb}')
  return args
