"""Runs envsound's pipeline on this machine: LocalDagRunner, Beam DirectRunner, SQLite MLMD."""

import os
import pathlib
from typing import Optional, Sequence

from absl import logging

from envsound.pipeline import beam_args, configs


def metadata_path(pipeline_root: str) -> str:
  """The ML Metadata SQLite file of a local pipeline root."""
  return os.path.join(pipeline_root, configs.METADATA_FILE)


def run(cfg: configs.PipelineConfig, *, running_mode: str = 'multi_processing',
        workers: int = 0, metadata: Optional[str] = None,
        extra_beam_args: Sequence[str] = (), console=None) -> str:
  """Runs the whole pipeline; returns the MLMD SQLite path.

  Re-running with unchanged inputs reuses cached outputs. A run interrupted and started
  again creates new executions; earlier artifacts and the serving folder stay intact.

  Args:
    cfg: the pipeline settings.
    running_mode: Beam DirectRunner mode (see ``beam_args.DIRECT_RUNNING_MODES``).
    workers: DirectRunner workers; 0 means one per core.
    metadata: MLMD SQLite file (default: ``<pipeline_root>/metadata.sqlite``).
    extra_beam_args: appended to the Beam arguments (e.g. a DataflowRunner's).
    console: a ``console.Console`` to tell which components will run.
  """
  # pylint: disable=import-outside-toplevel
  from tfx import v1 as tfx
  from envsound.pipeline import pipeline as pipeline_lib
  metadata = metadata or metadata_path(cfg.pipeline_root)
  pathlib.Path(metadata).parent.mkdir(parents=True, exist_ok=True)
  args = list(extra_beam_args) or beam_args.direct_args(running_mode, workers)
  logging.info('Beam arguments: %s', args)
  definition = pipeline_lib.create_pipeline(
      cfg, metadata_connection_config=tfx.orchestration.metadata
      .sqlite_metadata_connection_config(metadata), beam_pipeline_args=args)
  if console is not None:
    console.plan(cfg.pipeline_name, [c.id for c in definition.components], metadata)
  tfx.orchestration.LocalDagRunner().run(definition)
  return metadata
