"""The client's request plan: groups of equal frame count and dtype, chunks that fit the
server's limits, rows back in the caller's order."""

import numpy as np
import pytest

from envsound.core import features
from envsound.serving.client import Client, InvalidRequestError

pytestmark = pytest.mark.integration


def _clips():
  rng = np.random.default_rng(3)
  frames = (10, 6, 12, 6, 3, 10, 6)
  clips = [rng.integers(0, 256, (n, features.EMBEDDING_DIM), np.uint8) for n in frames]
  clips[3] = features.dequantize(clips[3].astype(np.float32))  # a float clip among uint8
  return clips


def test_mixed_clips_come_back_in_order_as_if_sent_alone(server):
  clips = _clips()
  with Client(server.grpc_target, max_batch_clips=2) as client:
    together = client.predict('cnn1d_balanced', clips)
    alone = [client.predict('cnn1d_balanced', [c]) for c in clips]
  assert len(together) == len(clips) and together.class_names == alone[0].class_names
  for i, one in enumerate(alone):
    np.testing.assert_allclose(together.probabilities[i], one.probabilities[0], rtol=1e-5)
    np.testing.assert_allclose(together.embedding[i], one.embedding[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(together.map_xy[i], one.map_xy[0], rtol=1e-5, atol=1e-6)
    assert together.top_class[i] == one.top_class[0]
    assert together.model_version == one.model_version


def test_requests_above_the_server_batch_limit_are_split_by_the_client(server):
  clips = np.random.default_rng(4).integers(0, 256, (70, 1, 128), np.uint8)
  many = np.repeat(clips, 16, axis=0)  # 1,120 one-frame clips: 143 KB, above 1,024 clips
  with Client(server.grpc_target, max_batch_clips=4096) as big, \
       Client(server.grpc_target) as default:
    with pytest.raises(InvalidRequestError, match='larger than maximum input batch size'):
      big.predict('cnn1d_balanced', many)
    out = default.predict('cnn1d_balanced', many)
  assert len(out) == len(many)
  np.testing.assert_allclose(out.probabilities[::16], out.probabilities[1::16], rtol=1e-5)
