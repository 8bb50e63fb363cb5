"""Ways the benches call a model: prebuilt gRPC PredictRequests, or the SavedModel in-process."""

from pathlib import Path
from typing import Sequence

import numpy as np

from envsound.core import features

CHANNEL_OPTIONS = [('grpc.use_local_subchannel_pool', 1), ('grpc.max_receive_message_length', -1)]


def predict_request(batch: np.ndarray, signature: str, model_name: str,
                    output_filter: Sequence[str] = ()):
  """A PredictRequest of ``batch`` (clips), built by envsound's one builder
  (envsound.serving.requests), as the client sends it."""
  from envsound.serving.requests import predict_request as build  # pylint: disable=import-outside-toplevel
  return build(model_name, {features.EMBEDDING_INPUT: batch}, signature=signature,
               output_filter=output_filter)


def predict_stub(target: str):
  """``stub.Predict`` on TF Serving's method path, for the builder's messages, on a channel
  of its own (its own TCP connection)."""
  # pylint: disable=import-outside-toplevel
  import types
  import grpc
  from envsound.serving import protos
  channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
  return channel, types.SimpleNamespace(Predict=protos.bind(channel, protos.PREDICT))


def grpc_calls(target: str, signature: str, model_name: str):
  """Returns ``make(batch) -> call`` sending one prebuilt PredictRequest per call on a channel
  of that call object's own; ``make.close()`` closes the channels."""
  channels = []

  def make(batch: np.ndarray):
    request = predict_request(batch, signature, model_name)
    channel, stub = predict_stub(target)
    channels.append(channel)
    return lambda: stub.Predict(request, timeout=30)

  def close():
    for channel in channels:
      channel.close()
  make.close = close
  return make


def in_process_calls(version_dir: Path, signature: str):
  """Returns ``make(batch) -> call`` running the SavedModel signature in this process, as
  the server's Servable does (numpy in, numpy out)."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  loaded = tf.saved_model.load(str(version_dir), tags=['serve'])
  fn = loaded.signatures[signature]

  def make(batch: np.ndarray):
    def call():
      outputs = fn(**{features.EMBEDDING_INPUT: tf.constant(batch)})
      return {k: v.numpy() for k, v in outputs.items()}
    return call
  make.loaded = loaded  # keep the SavedModel alive
  return make
