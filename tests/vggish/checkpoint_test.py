"""Reading VGGish checkpoints by variable name, in V1 and V2 format, and the one-line errors."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.core.errors import InvalidInputError
from envsound.vggish import checkpoint, params


def save_v2(prefix, variables) -> str:
  """Writes a V2 checkpoint (``prefix.index`` + data) with exactly these tensor names."""
  names = list(variables)
  tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[''] * len(names),
                    tensors=[tf.constant(variables[n]) for n in names])
  return str(prefix)


def test_v1_checkpoint_loads_by_name(checkpoint_path, weights):
  assert checkpoint_path.is_file() and not checkpoint_path.with_suffix('.ckpt.index').exists()
  loaded = checkpoint.read_checkpoint(checkpoint_path)
  assert list(loaded) == list(params.variable_shapes())
  for name, value in weights.items():
    np.testing.assert_array_equal(loaded[name], value, err_msg=name)


def test_v2_checkpoint_with_extra_variables_loads(tmp_path):
  rng = np.random.default_rng(0)
  variables = {n: rng.standard_normal(s).astype(np.float32) * 0.01
               for n, s in params.variable_shapes().items()}
  variables['global_step'] = np.int64(7)
  prefix = save_v2(tmp_path / 'model.ckpt', variables)
  loaded = checkpoint.read_checkpoint(prefix)
  assert 'global_step' not in loaded
  np.testing.assert_array_equal(loaded['vggish/fc2/biases'], variables['vggish/fc2/biases'])
  np.testing.assert_array_equal(loaded['vggish/conv3/conv3_2/weights'],
                                variables['vggish/conv3/conv3_2/weights'])


def test_a_renamed_variable_is_named_on_one_line(tmp_path):
  variables = {n: np.zeros(s, np.float32) for n, s in params.variable_shapes().items()}
  variables['vggish/fc2/bias'] = variables.pop('vggish/fc2/biases')
  prefix = save_v2(tmp_path / 'renamed.ckpt', variables)
  with pytest.raises(InvalidInputError) as error:
    checkpoint.read_checkpoint(prefix)
  message = str(error.value)
  assert '\n' not in message and message.startswith(prefix)
  assert "'vggish/fc2/biases' is missing" in message and "'vggish/fc2/bias' instead" in message


def test_a_misshaped_variable_is_named_on_one_line(tmp_path):
  shapes = dict(params.variable_shapes(), **{'vggish/conv2/weights': (3, 3, 64, 64)})
  prefix = save_v2(tmp_path / 'shape.ckpt', {n: np.zeros(s, np.float32)
                                             for n, s in list(shapes.items())[:4]})
  with pytest.raises(InvalidInputError,
                     match=r"'vggish/conv2/weights' has shape \[3, 3, 64, 64\], expected "
                           r"\[3, 3, 64, 128\]$"):
    checkpoint.read_checkpoint(prefix)


def test_not_a_checkpoint(tmp_path):
  bogus = tmp_path / 'vggish_model.ckpt'
  bogus.write_bytes(b'not a checkpoint at all')
  with pytest.raises(InvalidInputError, match='vggish_model.ckpt: not a TensorFlow checkpoint'):
    checkpoint.read_checkpoint(bogus)
  with pytest.raises(InvalidInputError, match='no such checkpoint'):
    checkpoint.read_checkpoint(tmp_path / 'absent.ckpt')
