"""A fingerprint of the code the pipeline's Transform, Tuner and Trainers run.

TFX caches a component's execution on its inputs and settings. With a ``module_file`` TFX
would hash the user's module; envsound's components name installed functions instead
(``run_fn``, ``tuner_fn``, ``preprocessing_fn``), so their settings carry this fingerprint
(``custom_config['code_version']``): a change to that code re-runs them instead of reusing
models built by the old code.
"""

import functools
import hashlib
import pathlib

KEY = 'code_version'
PACKAGE = pathlib.Path(__file__).resolve().parents[1]
SOURCES = ('components', 'core', 'schemas')  # what Transform, the Tuner and Trainers import


def fingerprint(package: pathlib.Path = PACKAGE, sources=SOURCES) -> str:
  """12 hex digits of SHA-256 over the relative names and bytes of ``sources``' .py and
  .pbtxt files."""
  digest = hashlib.sha256()
  for folder in sources:
    for path in sorted((package / folder).rglob('*')):
      if path.suffix in ('.py', '.pbtxt') and path.is_file():
        digest.update(path.relative_to(package).as_posix().encode() + b'\0')
        digest.update(path.read_bytes() + b'\0')
  return digest.hexdigest()[:12]


@functools.lru_cache(maxsize=1)
def current() -> str:
  """The installed package's fingerprint (computed once per process)."""
  return fingerprint()
