"""Write outputs under a temporary name and rename them into place when complete.

An interrupted run therefore leaves either the previous output or nothing, never a
half-written file or folder.
"""

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path) -> Iterator[str]:
  """Yields a temporary name beside ``path`` to write; renames it to ``path`` on success.

  ``path`` is a local path or a URI TensorFlow's file systems write (``gs://...``).
  """
  path = str(path)
  if '://' in path:
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    tmp = f'{path}.tmp-{uuid.uuid4().hex}'
    try:
      yield tmp
      tf.io.gfile.rename(tmp, path, overwrite=True)
    except BaseException:
      with contextlib.suppress(tf.errors.NotFoundError):
        tf.io.gfile.remove(tmp)
      raise
    return
  Path(path).parent.mkdir(parents=True, exist_ok=True)
  fd, tmp = tempfile.mkstemp(prefix=f'.{Path(path).name}.', suffix='.tmp', dir=Path(path).parent)
  os.close(fd)
  try:
    yield tmp
    os.replace(tmp, path)
  except BaseException:
    with contextlib.suppress(FileNotFoundError):
      os.unlink(tmp)
    raise


@contextlib.contextmanager
def atomic_file(path, mode: str = 'wb') -> Iterator:
  """Opens a temporary file beside ``path`` (local or a URI); renames it to ``path`` on
  success."""
  with atomic_path(path) as tmp:
    if '://' in tmp:
      import tensorflow as tf  # pylint: disable=import-outside-toplevel
      with tf.io.gfile.GFile(tmp, mode) as f:
        yield f
    else:
      with open(tmp, mode) as f:
        yield f


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
