"""Raw audio through a served VGGish: waveforms and audio files -> AudioSet-style clips.

No TensorFlow here. A 16 kHz waveform is cut into the windows its examples read
(``core.audio.example_windows``: float32 ``[examples, 15600]``) and sent to the VGGish
model's ``serving_default`` signature (``waveform [batch, samples]``), one row per 0.96 s
example. Every request from every file, client or live stream then has the same shape beyond
dimension 0, so a server with ``--enable_batching`` merges them into shared batches (the
``embed_waveform`` signature, ``[samples]``, has no batch dimension and cannot batch).
"""

import dataclasses
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np

from envsound.core import audio, features
from envsound.core.errors import InvalidInputError
from envsound.serving.client_errors import ModelNotFoundError
from envsound.serving.requests import predict_request

_WINDOW_BYTES = audio.EXAMPLE_SPAN * 4 + 64


class NoVGGishModelError(ModelNotFoundError):
  """The server has no VGGish model to turn audio into embeddings."""


def how_to_add(model: str = features.VGGISH_MODEL_NAME) -> str:
  """One line: how to give a server a VGGish model named ``model``."""
  return (f'add one with `envsound vggish export --checkpoint vggish_model.ckpt --pca-params '
          f'vggish_pca_params.npz --out SERVING_DIR/{model}` and a models.config entry '
          f'config {{ name: "{model}" base_path: "SERVING_DIR/{model}" model_platform: '
          '"tensorflow" }} (docs/audio.md)')


def embed_waveform(client, waveform: np.ndarray,
                   model: str = features.VGGISH_MODEL_NAME) -> np.ndarray:
  """16 kHz mono float32 samples -> uint8 ``[frames, 128]`` from the served VGGish.

  Args:
    client: an ``envsound.serving.client.Client``.
    waveform: samples in [-1, 1]; a trailing part shorter than one example is dropped.
    model: the VGGish model's name on the server.

  Raises:
    NoVGGishModelError: the server has no model ``model`` (the message says how to add one).
    ServingClientError: any other failure of the calls.
  """
  windows = audio.example_windows(waveform)
  per_request = max(1, min(client.max_batch_clips,
                           (client.max_message_bytes - 4096) // _WINDOW_BYTES))
  parts = [np.zeros((0, features.EMBEDDING_DIM), np.uint8)]
  for start in range(0, len(windows), per_request):
    request = predict_request(model, {features.WAVEFORM_INPUT: windows[start:start + per_request]},
                              signature=features.VGGISH_SIGNATURE,
                              output_filter=(features.VGGISH_EMBEDDING,))
    try:
      outputs, _ = client.call_predict(request, model)
    except ModelNotFoundError as e:
      raise NoVGGishModelError(f'{e}: this server cannot embed audio; {how_to_add(model)}',
                               e.code) from None
    parts.append(np.asarray(outputs[features.VGGISH_EMBEDDING], np.uint8).reshape(
        -1, features.EMBEDDING_DIM))
  return np.concatenate(parts)


@dataclasses.dataclass
class EmbeddedFile:
  """An audio file and its embedding (uint8 ``[frames, 128]``)."""
  path: Path
  frames: np.ndarray
  seconds: float


def embed_files(client, paths: Sequence, model: str = features.VGGISH_MODEL_NAME,
                on_error: Optional[Callable[[InvalidInputError], None]] = None,
                check: Optional[Callable[[], None]] = None) -> List[Optional[EmbeddedFile]]:
  """Decodes each audio file (``core.audio.read_audio``) and embeds it on the server.

  Returns one entry per path, in order: None for a file that could not be decoded, which
  was passed to ``on_error`` (its one-line error names it); the others go on. ``check``
  runs before each file (e.g. to cancel).

  Raises:
    NoVGGishModelError, ServingClientError: the server could not embed (nothing returned).
  """
  done = []
  for path in map(Path, paths):
    if check is not None:
      check()
    try:
      waveform = audio.read_audio(path)
    except InvalidInputError as e:
      if on_error is None:
        raise
      on_error(e)
      done.append(None)
      continue
    done.append(EmbeddedFile(path, embed_waveform(client, waveform, model),
                             len(waveform) / audio.SAMPLE_RATE))
  return done
