"""The exported SavedModel: its signatures, its embeddings against the numpy reference,
its warm-up requests and the atomic export."""

import numpy as np
import pytest
import tensorflow as tf

from envsound.core import features, warmup
from envsound.core.errors import EnvsoundError, InvalidInputError
from envsound.vggish import export, params
from tests.vggish import reference

RATE = 16000


def waveform(seconds: float, seed: int = 0) -> np.ndarray:
  rng = np.random.default_rng(seed)
  t = np.arange(int(seconds * RATE)) / RATE
  return (0.3 * np.sin(2 * np.pi * 700 * t) * (t % 1 < 0.5)
          + rng.normal(0, 0.05, len(t))).astype(np.float32)


def test_layout_and_signatures(model_dir):
  assert model_dir.name == '1' and (model_dir / 'saved_model.pb').is_file()
  assert (model_dir / 'variables').is_dir()
  assert [p.name for p in model_dir.parent.iterdir()] == ['1']  # no staging leftovers
  defs = warmup.read_signature_defs(model_dir)
  defs.pop('__saved_model_init_op', None)  # TF2's own, in every SavedModel
  assert set(defs) == {features.VGGISH_SIGNATURE, features.WAVEFORM_SIGNATURE}
  shapes = {'input': {}, 'output': {}}
  for name, sig in defs.items():
    (alias, info), = sig.inputs.items()
    assert alias == features.WAVEFORM_INPUT and info.dtype == tf.float32.as_datatype_enum
    shapes['input'][name] = [d.size for d in info.tensor_shape.dim]
    assert set(sig.outputs) == {features.VGGISH_EMBEDDING, features.VGGISH_FLOAT_EMBEDDING}
    assert sig.outputs[features.VGGISH_EMBEDDING].dtype == tf.uint8.as_datatype_enum
    shapes['output'][name] = [d.size for d in sig.outputs[features.VGGISH_EMBEDDING]
                              .tensor_shape.dim]
  assert shapes['input'] == {features.VGGISH_SIGNATURE: [-1, -1],
                             features.WAVEFORM_SIGNATURE: [-1]}
  assert shapes['output'] == {features.VGGISH_SIGNATURE: [-1, -1, 128],
                              features.WAVEFORM_SIGNATURE: [-1, 128]}


def test_embedding_matches_the_numpy_reference(signatures, weights, pca):
  audio = waveform(2.5)
  out = signatures[features.WAVEFORM_SIGNATURE](waveform=tf.constant(audio))
  got = out[features.VGGISH_EMBEDDING].numpy()
  clipped = reference.postprocess_float(
      reference.network(weights, reference.examples(audio)), *pca)
  want = reference.quantize(clipped)
  assert got.shape == want.shape == (2, 128) and got.dtype == np.uint8
  assert ((want > 0) & (want < 255)).mean() > 0.5  # not saturated: the check has teeth
  np.testing.assert_allclose(got.astype(int), want.astype(int), atol=1)
  assert (got == want).mean() > 0.95
  np.testing.assert_allclose(out[features.VGGISH_FLOAT_EMBEDDING].numpy(),
                             features.dequantize(got.astype(np.float32)), atol=1e-6)


def test_batch_signature_equals_one_waveform_at_a_time(signatures):
  audio = np.stack([waveform(2.0, seed) for seed in (1, 2)])
  batch = signatures[features.VGGISH_SIGNATURE](waveform=tf.constant(audio))
  assert batch[features.VGGISH_EMBEDDING].shape == (2, 2, 128)
  for row in range(2):
    one = signatures[features.WAVEFORM_SIGNATURE](waveform=tf.constant(audio[row]))
    np.testing.assert_array_equal(batch[features.VGGISH_EMBEDDING][row].numpy(),
                                  one[features.VGGISH_EMBEDDING].numpy())
  assert not np.array_equal(batch[features.VGGISH_EMBEDDING][0], batch[features.VGGISH_EMBEDDING][1])


def test_too_short_for_an_example_gives_zero_frames(signatures):
  out = signatures[features.WAVEFORM_SIGNATURE](waveform=tf.zeros([params.EXAMPLE_SPAN - 1]))
  assert out[features.VGGISH_EMBEDDING].shape == (0, 128)


def test_warmup_requests_cover_both_signatures_and_run(model_dir, signatures):
  records = list(warmup.read_warmup_requests(model_dir))
  assert len(records) == export.WARMUP_RECORDS
  names = [r.predict_log.request.model_spec.signature_name for r in records]
  assert set(names) == {features.VGGISH_SIGNATURE, features.WAVEFORM_SIGNATURE}
  for record in records:
    request = record.predict_log.request
    inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
    out = signatures[request.model_spec.signature_name](**inputs)
    frames = out[features.VGGISH_EMBEDDING].shape[-2]
    assert frames == int(export.WARMUP_SECONDS / params.EXAMPLE_SECONDS)


def test_export_of_a_bad_checkpoint_writes_nothing(tmp_path, pca_path):
  bogus = tmp_path / 'vggish_model.ckpt'
  bogus.write_bytes(b'\0' * 64)
  out = tmp_path / 'serving' / 'vggish'
  with pytest.raises(InvalidInputError, match='not a TensorFlow checkpoint'):
    export.export_model(bogus, pca_path, out)
  assert not out.exists()


def test_export_refuses_an_existing_version(model_dir, checkpoint_path, pca_path):
  with pytest.raises(EnvsoundError, match='already exists'):
    export.export_model(checkpoint_path, pca_path, model_dir.parent, version=1)


def test_next_version_is_above_existing_ones(tmp_path):
  (tmp_path / '99999999999').mkdir()
  (tmp_path / '.staging').mkdir()
  assert export.next_version(tmp_path) == 100000000000
  assert export.next_version(tmp_path / 'absent') > 1_700_000_000
