"""Compiles envsound's pipeline for Vertex AI Pipelines (Kubeflow V2 JSON); no cloud calls."""

from typing import Sequence

from envsound.pipeline import configs

# Where envsound/pipeline/Dockerfile installs envsound's curated schemas inside the image.
IMAGE_SCHEMA_DIR = '/usr/local/lib/python3.10/site-packages/envsound/schemas'
IMAGE_SCHEMA_FILE = f'{IMAGE_SCHEMA_DIR}/audioset_raw.pbtxt'  # the environment target's


def image_schema_file(target) -> str:
  """The curated raw schema of ``target`` (a core.targets.Target) inside the image."""
  return f'{IMAGE_SCHEMA_DIR}/{target.schema_file}'


def compile_vertex(cfg: configs.PipelineConfig, output_file: str, *, image: str,
                   beam_pipeline_args: Sequence[str] = ()) -> str:
  """Writes the Vertex AI Pipelines definition of ``cfg`` to ``output_file``.

  Args:
    cfg: the pipeline settings; its paths should be gs:// URIs the workers can reach.
    output_file: the JSON file to write.
    image: container image holding envsound (envsound/pipeline/Dockerfile), used by every component.
    beam_pipeline_args: Beam arguments of the Beam-based components (e.g. Dataflow's).

  Returns:
    ``output_file``.
  """
  # pylint: disable=import-outside-toplevel
  import os
  from tfx import v1 as tfx
  from envsound.pipeline import pipeline as pipeline_lib
  definition = pipeline_lib.create_pipeline(cfg, beam_pipeline_args=beam_pipeline_args)
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
      config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
      output_dir=os.path.dirname(os.path.abspath(output_file)),
      output_filename=os.path.basename(output_file))
  runner.run(definition, write_out=True)
  return output_file
