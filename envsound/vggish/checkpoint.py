"""Reads and writes VGGish's TF1 checkpoint by variable name (``vggish/conv1/weights``, ...).

Google's ``vggish_model.ckpt`` is a single-file V1 checkpoint; ``tf.train.load_checkpoint``
reads V1 and V2 (``.index`` + ``.data-*``) checkpoints alike. Variables beyond VGGish's
(``global_step``, optimiser slots) are ignored.
"""

import difflib
from pathlib import Path
from typing import Dict, Mapping

import numpy as np

from envsound.core.errors import InvalidInputError
from envsound.vggish import params


def read_checkpoint(path) -> Dict[str, np.ndarray]:
  """Returns every VGGish variable of the checkpoint at ``path`` as float32 arrays.

  Raises:
    InvalidInputError: one line naming the file and the missing or mis-shaped variable,
      or saying the file is no checkpoint.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  path = Path(path)
  if not path.exists() and not Path(f'{path}.index').exists():
    raise InvalidInputError(path, 'no such checkpoint (neither the file nor '
                                  f'{path.name}.index exists)')
  try:
    reader = tf.train.load_checkpoint(str(path))
  except (tf.errors.OpError, ValueError) as e:
    reason = (getattr(e, 'message', '') or str(e)).strip().splitlines()[0]
    raise InvalidInputError(path, f'not a TensorFlow checkpoint ({reason})') from None
  shapes = reader.get_variable_to_shape_map()
  dtypes = reader.get_variable_to_dtype_map()
  for name, shape in params.variable_shapes().items():
    if name not in shapes:
      unknown = [n for n in shapes if n not in params.variable_shapes()]
      near = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
      hint = f'; the checkpoint has {near[0]!r} instead' if near else ''
      raise InvalidInputError(path, f'VGGish variable {name!r} is missing{hint}')
    if tuple(shapes[name]) != tuple(shape):
      raise InvalidInputError(path, f'VGGish variable {name!r} has shape {list(shapes[name])}, '
                                    f'expected {list(shape)}')
    if not dtypes[name].is_floating:
      raise InvalidInputError(path, f'VGGish variable {name!r} is {dtypes[name].name}, '
                                    'expected a float type')
  return {name: reader.get_tensor(name).astype(np.float32, copy=False)
          for name in params.variable_shapes()}


def write_checkpoint(path, variables: Mapping[str, np.ndarray], v1: bool = True) -> Path:
  """Writes ``variables`` (name -> array) as a TF1 checkpoint at ``path``.

  Args:
    path: the checkpoint path (a V1 checkpoint is this one file; a V2 one is
      ``path.index`` + ``path.data-*``).
    variables: checkpoint variable names and their values.
    v1: write Google's single-file V1 format rather than V2.

  Returns:
    ``path``.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  v1_api = tf.compat.v1
  path = Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  with tf.Graph().as_default():
    feeds, saved = {}, {}
    for name, value in variables.items():
      value = np.asarray(value)
      holder = v1_api.placeholder(tf.as_dtype(value.dtype), value.shape)
      saved[name] = v1_api.Variable(holder, name=name.replace('/', '_'))
      feeds[holder] = value
    version = v1_api.train.SaverDef.V1 if v1 else v1_api.train.SaverDef.V2
    saver = v1_api.train.Saver(saved, write_version=version)
    logger, level = tf.get_logger(), tf.get_logger().level
    logger.setLevel('ERROR')  # the V1 format's deprecation banner
    try:
      with v1_api.Session() as session:
        session.run(v1_api.global_variables_initializer(), feed_dict=feeds)
        saver.save(session, str(path), write_meta_graph=False, write_state=False)
    finally:
      logger.setLevel(level)
  return path
