"""preprocessing_fn through tf.Transform's Beam API (AnalyzeDataset + TransformDataset)."""

import numpy as np
import tensorflow_transform as tft

from envsound.core import features



from envsound.components import data
from tests.components.conftest import clip_id


def _expected(clips, mean, std):
  """What preprocessing_fn should emit per clip: flat frames, mask, label."""
  rows, masks, labels = [], [], []
  for clip, env in clips:
    frames = features.dequantize(clip.astype(np.float64))[:features.NUM_FRAMES]
    n = len(frames)
    padded = np.zeros([features.NUM_FRAMES, features.EMBEDDING_DIM])
    padded[:n] = (frames - mean) / std
    rows.append(padded.reshape(-1))
    masks.append([1.0] * n + [0.0] * (features.NUM_FRAMES - n))
    labels.append(env)
  return np.array(rows), np.array(masks), np.array(labels)


def test_transform_dequantises_pads_normalises_and_labels(transformed):
  tft_output = tft.TFTransformOutput(transformed['transform_graph'])
  train_clips = transformed['clips']['train']
  real = np.concatenate([features.dequantize(c.astype(np.float64))[:features.NUM_FRAMES]
                         for c, _ in train_clips])
  mean, std = real.mean(0), real.std(0)  # full-pass statistics of the analysed split

  for split in ('train', 'eval'):
    x, y = data.to_numpy(transformed['files'][split], tft_output)
    want_x, want_mask, want_y = _expected(transformed['clips'][split], mean, std)
    assert x[features.AUDIO_EMBEDDING_XF].shape == (len(want_y), 1280)
    assert x[features.MASK_XF].shape == (len(want_y), features.NUM_FRAMES)
    # Record order is not kept: pair every output row with its nearest expected clip.
    dist = np.abs(x[features.AUDIO_EMBEDDING_XF][:, None, :] - want_x[None, :, :]).max(-1)
    match = dist.argmin(1)
    assert sorted(match) == list(range(len(want_y)))
    np.testing.assert_allclose(dist.min(1), 0.0, atol=2e-3)
    np.testing.assert_array_equal(x[features.MASK_XF], want_mask[match])
    np.testing.assert_array_equal(y, want_y[match])


def test_short_clips_have_zero_pad_frames_and_long_ones_are_cut(transformed):
  tft_output = tft.TFTransformOutput(transformed['transform_graph'])
  x, _ = data.to_numpy(transformed['files']['train'], tft_output)
  frames = x[features.AUDIO_EMBEDDING_XF].reshape(-1, features.NUM_FRAMES, features.EMBEDDING_DIM)
  counts = x[features.MASK_XF].sum(1)
  assert set(counts) == {7.0, 10.0}  # 12-frame clips are cut to 10
  assert np.all(frames[counts == 7][:, 7:] == 0.0)
  assert np.all(np.abs(frames[counts == 7][:, :7]).sum(-1) > 0)


def test_transform_names_each_clip_by_video_id_and_start_time(transformed):
  tft_output = tft.TFTransformOutput(transformed['transform_graph'])
  for split, clips in transformed['clips'].items():
    columns = data.read_columns(transformed['files'][split], tft_output,
                                (features.CLIP_ID_XF, features.LABEL_XF))
    ids = [c.decode() for c in columns[features.CLIP_ID_XF]]
    assert sorted(ids) == sorted(clip_id(split, i) for i in range(len(clips)))
    assert any(i.endswith(':2.5') for i in ids) and any(i.endswith(':5') for i in ids)
    want = {clip_id(split, i): env for i, (_, env) in enumerate(clips)}
    assert [want[i] for i in ids] == columns[features.LABEL_XF].tolist()
