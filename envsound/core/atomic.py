"""Write outputs under a temporary name and rename them into place when complete.

An interrupted run therefore leaves either the previous output or nothing, never a
half-written file or folder.
"""

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_file(path, mode: str = 'wb') -> Iterator:
  """Opens a temporary file beside ``path``; renames it to ``path`` on success."""
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
  try:
    with os.fdopen(fd, mode) as f:
      yield f
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise


@contextlib.contextmanager
def atomic_dir(path, overwrite: bool = False) -> Iterator[Path]:
  """Yields a temporary folder beside ``path``; renames it to ``path`` on success.

  Args:
    path: the final folder.
    overwrite: replace an existing ``path`` (removed only once the new one is complete).

  Raises:
    FileExistsError: ``path`` exists and ``overwrite`` is false.
  """
  path = Path(path)
  if path.exists() and not overwrite:
    raise FileExistsError(f'{path} already exists (pass --overwrite to replace it)')
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = Path(tempfile.mkdtemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent))
  try:
    yield tmp
    if path.exists():
      old = path.with_name(f'.{path.name}.old')
      shutil.rmtree(old, ignore_errors=True)
      os.replace(path, old)
      os.replace(tmp, path)
      shutil.rmtree(old, ignore_errors=True)
    else:
      os.replace(tmp, path)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
