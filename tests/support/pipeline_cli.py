"""``envsound pipeline run`` as tests drive it: the config a command runs, and the command."""

import argparse
import pathlib
import subprocess
import sys
from typing import Sequence


def pipeline_config(argv: Sequence[str]):
  """The PipelineConfig that ``envsound <argv>`` (a ``pipeline run`` command) runs."""
  from envsound.pipeline import cli  # pylint: disable=import-outside-toplevel
  parser = argparse.ArgumentParser()
  cli.register(parser.add_subparsers())
  return cli.make_config(parser.parse_args(list(argv)), cloud=False)


def envsound(*args: str, cwd: pathlib.Path, timeout_s: float = 1500
             ) -> subprocess.CompletedProcess:
  """Runs ``envsound ARGS`` in a subprocess as a user does; returns what it printed."""
  return subprocess.run([sys.executable, '-m', 'envsound', *args], cwd=cwd, text=True,
                        capture_output=True, timeout=timeout_s, check=False)
