"""Python client for TF Serving and ``envsound serve`` (the same gRPC calls to both).

    with Client('localhost:8500') as client:
      for model in client.list_models():
        print(model.name, [(v.version, v.state, v.labels) for v in model.versions])
      result = client.predict('cnn1d_balanced', clips)   # clips: [frames, 128] arrays
      print(result.top_class, result.top_score)

It needs no TensorFlow: messages come from envsound.serving.protos. UNAVAILABLE answers
(server down or a version still loading) are retried by gRPC itself, with exponential
back-off, as the channel's service config ``retryPolicy`` says; other failures raise one-line
``ServingClientError`` subclasses. One class for the whole public API (status, metadata,
predict, reference map) keeps a user's one object in one module, past the usual ~250 lines.
"""

import dataclasses
import json
from typing import Dict, List, Optional, Sequence, Tuple, Union

import grpc
import numpy as np

from envsound.core import approaches, features
from envsound.serving import client_audio, protos, tensors
from envsound.serving.client_errors import (InvalidRequestError, MessageTooLargeError,
                                            ModelNotFoundError, NoReferenceMapError,
                                            RequestTimeoutError, ServerUnavailableError,
                                            ServingClientError, from_rpc_error)
from envsound.serving.client_audio import NoVGGishModelError
from envsound.serving.client_results import (ModelInfo, ModelMetadata, Predictions,
                                             ReferenceMap, VersionInfo, text)
from envsound.serving.requests import predict_request, set_spec

__all__ = ['Client', 'Predictions', 'ModelInfo', 'VersionInfo', 'ModelMetadata', 'ReferenceMap',
           'predict_request', 'ServingClientError', 'ServerUnavailableError',
           'ModelNotFoundError', 'InvalidRequestError', 'MessageTooLargeError',
           'RequestTimeoutError', 'NoReferenceMapError', 'NoVGGishModelError']

DEFAULT_LABELS = ('stable', 'canary')
DEFAULT_MAX_MESSAGE_BYTES = 4 << 20  # gRPC's default receive limit: safe for any server
DEFAULT_MAX_BATCH_CLIPS = 512  # fits serving/config/batching_parameters.pbtxt's max_batch_size
MAX_RETRIES = 4  # gRPC makes at most 5 attempts of a call, whatever a retryPolicy asks
_ROW_OUTPUTS = (features.PROBABILITIES, features.TOP_CLASS, features.TOP_SCORE,
                features.PENULTIMATE, features.MAP_XY)
_REFERENCE_ROWS = (features.REFERENCE_CLIP_ID, features.REFERENCE_ENVIRONMENT,
                   features.MAP_XY, features.PENULTIMATE)
_SIGNATURE_DTYPES = {features.UINT8_SIGNATURE: np.uint8,
                     features.FLOAT_SIGNATURE: np.float32}
_STATES = protos.get_model_status_pb2.ModelVersionStatus.State
ClipsLike = Union[np.ndarray, Sequence[np.ndarray]]


def _service_config(max_retries: int, backoff_s: float) -> str:
  """The channel's service config: retry UNAVAILABLE answers of every TF Serving method."""
  retry = {'maxAttempts': max_retries + 1, 'initialBackoff': f'{backoff_s:.3f}s',
           'maxBackoff': f'{backoff_s * 2 ** max(max_retries - 1, 0):.3f}s',
           'backoffMultiplier': 2, 'retryableStatusCodes': ['UNAVAILABLE']}
  names = [{'service': protos.PREDICTION_SERVICE}, {'service': protos.MODEL_SERVICE}]
  return json.dumps({'methodConfig': [{'name': names, 'retryPolicy': retry}]})


class Client:
  """gRPC client for one server.

  Args:
    target: ``host:port`` of the gRPC endpoint.
    timeout_s: deadline of each call, retries included.
    max_retries: extra attempts after an UNAVAILABLE answer; gRPC makes at most 5 attempts
      of a call, so values above MAX_RETRIES (4) act as 4.
    backoff_s: the first back-off; doubles each retry (gRPC adds +-20% jitter). The channel
      also reconnects to a server that is down at this pace.
    max_message_bytes: the largest request sent; bigger batches are split.
    max_batch_clips: the most clips (or reference rows) in one request (a batching server
      refuses requests above its max_batch_size).
    model_names: what list_models() probes by default (TF Serving cannot list models);
      the approaches' model names unless given.
    labels: the version labels list_models() looks for.
  """

  def __init__(self, target: str, timeout_s: float = 10.0, max_retries: int = 3,
               backoff_s: float = 0.2, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
               max_batch_clips: int = DEFAULT_MAX_BATCH_CLIPS,
               model_names: Optional[Sequence[str]] = None,
               labels: Sequence[str] = DEFAULT_LABELS):
    if max_retries < 0:
      raise ValueError(f'max_retries must be at least 0, got {max_retries}')
    max_retries = min(max_retries, MAX_RETRIES)
    self.target = target
    self.timeout_s = timeout_s
    self.max_retries = max_retries
    self.max_message_bytes = max_message_bytes
    self.max_batch_clips = max_batch_clips
    self.model_names = tuple(model_names or (a.model_name for a in approaches.APPROACHES))
    self.labels = tuple(labels)
    backoff_ms = max(1, int(backoff_s * 1000))
    self._channel = grpc.insecure_channel(target, options=[
        ('grpc.max_receive_message_length', -1),
        ('grpc.max_send_message_length', -1),
        ('grpc.enable_retries', 1),
        ('grpc.service_config', _service_config(max_retries, backoff_s)),
        ('grpc.initial_reconnect_backoff_ms', backoff_ms),
        ('grpc.min_reconnect_backoff_ms', backoff_ms),
        ('grpc.max_reconnect_backoff_ms', backoff_ms * 2 ** max(max_retries - 1, 0))])
    self._predict = protos.bind(self._channel, protos.PREDICT)
    self._metadata = protos.bind(self._channel, protos.GET_MODEL_METADATA)
    self._status = protos.bind(self._channel, protos.GET_MODEL_STATUS)

  @classmethod
  def from_model_config(cls, target: str, config, **kwargs) -> 'Client':
    """A client that probes the models and labels of a ModelServerConfig message (e.g.
    ``envsound.serving.model_config.read_model_server_config(path)``)."""
    models = config.model_config_list.config
    labels = sorted({label for m in models for label in m.version_labels} | set(DEFAULT_LABELS))
    return cls(target, model_names=[m.name for m in models], labels=labels, **kwargs)

  def close(self) -> None:
    self._channel.close()

  def __enter__(self) -> 'Client':
    return self

  def __exit__(self, *exc) -> None:
    self.close()

  # --- models --------------------------------------------------------------------------

  def model_status(self, model: str, version: Optional[int] = None) -> List[VersionInfo]:
    """GetModelStatus: the model's versions and their states, newest first (no labels)."""
    request = protos.get_model_status_pb2.GetModelStatusRequest()
    set_spec(request.model_spec, model, version, None)
    response = self._call(self._status, request, model)
    return sorted((VersionInfo(s.version, _STATES.Name(s.state), (), s.status.error_message)
                   for s in response.model_version_status),
                  key=lambda v: v.version, reverse=True)

  def list_models(self, names: Optional[Sequence[str]] = None) -> List[ModelInfo]:
    """The models among ``names`` (default: the client's) that the server knows."""
    infos = []
    for name in names or self.model_names:
      try:
        versions = self.model_status(name)
      except ModelNotFoundError:
        continue
      labels: Dict[int, List[str]] = {}
      for label in self.labels:
        try:
          labels.setdefault(self._metadata_response(name, None, label).model_spec.version.value,
                            []).append(label)
        except (ModelNotFoundError, InvalidRequestError, ServerUnavailableError):
          continue
      infos.append(ModelInfo(name, [dataclasses.replace(v, labels=tuple(labels.get(v.version, ())))
                                    for v in versions]))
    return infos

  def metadata(self, model: str, version: Optional[int] = None,
               label: Optional[str] = None) -> ModelMetadata:
    """GetModelMetadata plus the class names (from a one-clip Predict)."""
    response = self._metadata_response(model, version, label)
    signature_map = protos.unpack_any(response.metadata['signature_def'],
                                      protos.get_model_metadata_pb2.SignatureDefMap)
    signatures = {key: {'method': sig.method_name,
                        'inputs': {k: tensors.describe(v) for k, v in sig.inputs.items()},
                        'outputs': {k: tensors.describe(v) for k, v in sig.outputs.items()}}
                  for key, sig in signature_map.signature_def.items()
                  if not key.startswith('__')}
    served = response.model_spec.version.value
    class_names = ()
    if features.UINT8_SIGNATURE in signatures:
      probe = np.zeros((1, features.NUM_FRAMES, features.EMBEDDING_DIM), np.uint8)
      class_names = self.predict(model, probe, version=served).class_names
    return ModelMetadata(model, served, signatures, class_names)

  def _metadata_response(self, model, version, label):
    request = protos.get_model_metadata_pb2.GetModelMetadataRequest(
        metadata_field=['signature_def'])
    set_spec(request.model_spec, model, version, label)
    return self._call(self._metadata, request, model)

  # --- predictions ---------------------------------------------------------------------

  def predict(self, model: str, clips: ClipsLike, version: Optional[int] = None,
              label: Optional[str] = None, signature: Optional[str] = None) -> Predictions:
    """Classifies clips (uint8 or float ``[frames, 128]`` each; cut to NUM_FRAMES).

    Clips are sent in groups of equal frame count, so none is padded on the way (the
    models pad and mask each clip themselves), and each group is split into requests of at
    most ``max_batch_clips`` clips and ``max_message_bytes``. Every request goes to the
    version that answered the first one; the first asks for every output (learning the
    class names and whether the model has a map), the others only for the rows' outputs.

    Raises:
      InvalidInputError: a clip breaks envsound.core.clips' rule ('clip <index>: ...').
      ServingClientError: the server refused or did not answer.
    """
    groups = tensors.group_clips(clips, _SIGNATURE_DTYPES.get(signature))
    total = sum(len(g.indices) for g in groups)
    rows: Dict[str, List] = {}
    class_names: Tuple[str, ...] = ()
    for group in groups:
      name = signature or (features.UINT8_SIGNATURE if group.batch.dtype == np.uint8
                           else features.FLOAT_SIGNATURE)
      per_clip = group.batch[0].nbytes + 256
      chunk = max(1, min(self.max_batch_clips, (self.max_message_bytes - 4096) // per_clip))
      for start in range(0, len(group.batch), chunk):
        request = predict_request(
            model, {features.EMBEDDING_INPUT: group.batch[start:start + chunk]}, version,
            label, name, tuple(rows))
        outputs, answered = self.call_predict(request, model)
        if not class_names:
          class_names = tuple(text(c) for c in outputs[features.CLASS_NAMES][0])
          version, label = answered, None
          rows = {k: [None] * total for k in _ROW_OUTPUTS if k in outputs}
        for key, column in rows.items():
          for index, row in zip(group.indices[start:start + chunk], outputs[key]):
            column[index] = row
    return Predictions(model, int(version), class_names,
                       np.stack(rows[features.PROBABILITIES]).astype(np.float32),
                       [text(c) for c in rows[features.TOP_CLASS]],
                       np.asarray(rows[features.TOP_SCORE], np.float32),
                       np.stack(rows[features.PENULTIMATE]).astype(np.float32),
                       (np.stack(rows[features.MAP_XY]).astype(np.float32)
                        if features.MAP_XY in rows else None))

  def embed_audio(self, waveform: np.ndarray,
                  model: str = features.VGGISH_MODEL_NAME) -> np.ndarray:
    """16 kHz mono float32 samples -> uint8 ``[frames, 128]`` (a clip for ``predict``) from
    the served VGGish, one 0.96 s example per row of a batchable request (see client_audio).

    Raises:
      NoVGGishModelError: the server has no such model (the message says how to add one).
    """
    return client_audio.embed_waveform(self, waveform, model)

  def reference_map(self, model: str, version: Optional[int] = None,
                    label: Optional[str] = None) -> ReferenceMap:
    """The reference points the model was exported with (signature ``reference_map``):
    row 0 first, for the count and the version, then the rows in chunks of at most
    ``max_batch_clips``, all from that version.

    Raises:
      NoReferenceMapError: the model has no such signature.
      ServingClientError: any other failure.
    """
    def rows(indices, version, label):
      request = predict_request(model, {features.REFERENCE_INDEX_INPUT: indices}, version,
                                label, features.REFERENCE_MAP_SIGNATURE)
      try:
        return self.call_predict(request, model)
      except InvalidRequestError as e:
        if features.REFERENCE_MAP_SIGNATURE in str(e) and 'not found' in str(e):
          raise NoReferenceMapError(
              f'{self.target}: model {model} has no {features.REFERENCE_MAP_SIGNATURE} '
              'signature (exported by an older envsound); re-run the pipeline or choose a '
              'reference folder', e.code) from None
        raise

    first, version = rows(np.zeros(1, np.int64), version, label)
    count = int(first[features.REFERENCE_COUNT][0])
    columns = {k: [] for k in _REFERENCE_ROWS}
    for start in range(0, count, self.max_batch_clips):
      stop = min(count, start + self.max_batch_clips)
      outputs, _ = rows(np.arange(start, stop, dtype=np.int64), version, None)
      for key, column in columns.items():
        column.extend(outputs[key])
    return ReferenceMap([text(c) for c in columns[features.REFERENCE_CLIP_ID]],
                        [text(e) for e in columns[features.REFERENCE_ENVIRONMENT]],
                        np.asarray(columns[features.MAP_XY], np.float32).reshape(-1, 2),
                        np.asarray(columns[features.PENULTIMATE], np.float32).reshape(count, -1),
                        version)

  def call_predict(self, request, model: str) -> Tuple[Dict[str, np.ndarray], int]:
    """Sends one PredictRequest; returns its outputs as arrays and the version that answered."""
    response = self._call(self._predict, request, model)
    return ({k: tensors.from_proto(v) for k, v in response.outputs.items()},
            int(response.model_spec.version.value))

  # --- plumbing ------------------------------------------------------------------------

  def _call(self, method, request, model: str):
    """Calls ``method`` (gRPC retries UNAVAILABLE); maps gRPC errors to ServingClientError."""
    try:
      return method(request, timeout=self.timeout_s)
    except grpc.RpcError as e:
      raise from_rpc_error(e, self.target, model, self.max_retries + 1) from None
