"""Python client for TF Serving and ``envsound serve`` (the same gRPC calls to both).

    with Client('localhost:8500') as client:
      for model in client.list_models():
        print(model.name, [(v.version, v.state, v.labels) for v in model.versions])
      result = client.predict('cnn1d_balanced', clips)   # clips: [frames, 128] arrays
      print(result.top_class, result.top_score)

UNAVAILABLE answers (server down or a version still loading) are retried with exponential
back-off; other failures raise one-line ``ServingClientError`` subclasses.
"""

import dataclasses
import random
import time
from typing import Dict, List, Optional, Sequence, Tuple, Union

import grpc
import numpy as np
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from envsound.core import approaches, features
from envsound.serving import tensors
from envsound.serving.errors import (InvalidRequestError, MessageTooLargeError,
                                     ModelNotFoundError, RequestTimeoutError,
                                     ServerUnavailableError, ServingClientError)

__all__ = ['Client', 'Predictions', 'ModelInfo', 'VersionInfo', 'ModelMetadata',
           'ServingClientError', 'ServerUnavailableError', 'ModelNotFoundError',
           'InvalidRequestError', 'MessageTooLargeError', 'RequestTimeoutError']

DEFAULT_LABELS = ('stable', 'canary')
DEFAULT_MAX_MESSAGE_BYTES = 4 << 20  # gRPC's default receive limit: safe for any server
DEFAULT_MAX_BATCH_CLIPS = 512  # fits serving/config/batching_parameters.pbtxt's max_batch_size
_ROW_OUTPUTS = (features.PROBABILITIES, features.TOP_CLASS, features.TOP_SCORE,
                features.PENULTIMATE)
_SIGNATURE_DTYPES = {features.UINT8_SIGNATURE: np.uint8,
                     features.FLOAT_SIGNATURE: np.float32}
_STATES = get_model_status_pb2.ModelVersionStatus.State


@dataclasses.dataclass(frozen=True)
class VersionInfo:
  version: int
  state: str                      # START, LOADING, AVAILABLE, UNLOADING, END
  labels: Tuple[str, ...] = ()
  error: str = ''                 # why it failed to load, if it did


@dataclasses.dataclass(frozen=True)
class ModelInfo:
  name: str
  versions: List[VersionInfo]     # newest first

  @property
  def available(self) -> List[VersionInfo]:
    return [v for v in self.versions if v.state == 'AVAILABLE']


@dataclasses.dataclass(frozen=True)
class ModelMetadata:
  """GetModelMetadata, decoded: ``signatures[name] = {'method', 'inputs', 'outputs'}``
  with ``inputs``/``outputs`` mapping tensor alias -> (dtype name, shape with None)."""
  name: str
  version: int
  signatures: Dict[str, Dict]
  class_names: Tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Predictions:
  """One row per clip, in the order given."""
  model_name: str
  model_version: int
  class_names: Tuple[str, ...]
  probabilities: np.ndarray       # float32 [n, C]
  top_class: List[str]
  top_score: np.ndarray           # float32 [n]
  embedding: np.ndarray           # float32 [n, d]

  def __len__(self) -> int:
    return len(self.top_class)


ClipsLike = Union[np.ndarray, Sequence[np.ndarray]]


class Client:
  """gRPC client for one server.

  Args:
    target: ``host:port`` of the gRPC endpoint.
    timeout_s: deadline of each call.
    max_retries: extra attempts after an UNAVAILABLE answer.
    backoff_s: first back-off; doubles each retry (with jitter).
    max_message_bytes: the largest request sent; bigger batches are split.
    max_batch_clips: the most clips in one request (a batching server refuses requests
      above its max_batch_size).
    model_names: what list_models() probes by default (TF Serving cannot list models);
      the approaches' model names unless given.
    labels: the version labels list_models() looks for.
  """

  def __init__(self, target: str, timeout_s: float = 10.0, max_retries: int = 3,
               backoff_s: float = 0.2, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
               max_batch_clips: int = DEFAULT_MAX_BATCH_CLIPS,
               model_names: Optional[Sequence[str]] = None,
               labels: Sequence[str] = DEFAULT_LABELS):
    self.target = target
    self.timeout_s = timeout_s
    self.max_retries = max_retries
    self.backoff_s = backoff_s
    self.max_message_bytes = max_message_bytes
    self.max_batch_clips = max_batch_clips
    self.model_names = tuple(model_names or (a.model_name for a in approaches.APPROACHES))
    self.labels = tuple(labels)
    self._channel = grpc.insecure_channel(target, options=[
        ('grpc.max_receive_message_length', -1),
        ('grpc.max_send_message_length', -1)])
    self._predict = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
    self._models = model_service_pb2_grpc.ModelServiceStub(self._channel)

  @classmethod
  def from_model_config(cls, target: str, config_path, **kwargs) -> 'Client':
    """A client that probes the models and labels named in a models.config."""
    from envsound.serving import model_config  # pylint: disable=import-outside-toplevel
    config = model_config.read_model_server_config(config_path).model_config_list.config
    labels = sorted({label for m in config for label in m.version_labels} | set(DEFAULT_LABELS))
    return cls(target, model_names=[m.name for m in config], labels=labels, **kwargs)

  def close(self) -> None:
    self._channel.close()

  def __enter__(self) -> 'Client':
    return self

  def __exit__(self, *exc) -> None:
    self.close()

  # --- models --------------------------------------------------------------------------

  def model_status(self, model: str, version: Optional[int] = None) -> List[VersionInfo]:
    """GetModelStatus: the model's versions and their states, newest first (no labels)."""
    request = get_model_status_pb2.GetModelStatusRequest()
    _set_spec(request.model_spec, model, version, None)
    response = self._call(self._models.GetModelStatus, request, model)
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
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata['signature_def'].Unpack(signature_map)
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
    request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=['signature_def'])
    _set_spec(request.model_spec, model, version, label)
    return self._call(self._predict.GetModelMetadata, request, model)

  # --- predictions ---------------------------------------------------------------------

  def predict(self, model: str, clips: ClipsLike, version: Optional[int] = None,
              label: Optional[str] = None, signature: Optional[str] = None) -> Predictions:
    """Classifies clips (uint8 or float ``[frames, 128]`` each; cut to NUM_FRAMES).

    Clips are sent in groups of equal frame count, so none is padded on the way (the
    models pad and mask each clip themselves), and each group is split into requests of at
    most ``max_batch_clips`` clips and ``max_message_bytes``. Every request goes to the
    version that answered the first one.
    """
    groups = tensors.group_clips(clips, _SIGNATURE_DTYPES.get(signature))
    total = sum(len(g.indices) for g in groups)
    rows: Dict[str, List] = {k: [None] * total for k in _ROW_OUTPUTS}
    class_names: Tuple[str, ...] = ()
    for group in groups:
      name = signature or (features.UINT8_SIGNATURE if group.batch.dtype == np.uint8
                           else features.FLOAT_SIGNATURE)
      per_clip = group.batch[0].nbytes + 256
      chunk = max(1, min(self.max_batch_clips, (self.max_message_bytes - 4096) // per_clip))
      for start in range(0, len(group.batch), chunk):
        request = predict_pb2.PredictRequest()
        _set_spec(request.model_spec, model, version, label, name)
        tensors.fill_proto(request.inputs[features.EMBEDDING_INPUT],
                           group.batch[start:start + chunk])
        request.output_filter.extend(_ROW_OUTPUTS + (() if class_names else
                                                     (features.CLASS_NAMES,)))
        response = self._call(self._predict.Predict, request, model)
        outputs = {k: tensors.from_proto(v) for k, v in response.outputs.items()}
        if not class_names:
          class_names = tuple(_text(c) for c in outputs[features.CLASS_NAMES][0])
          version, label = response.model_spec.version.value, None
        for key in _ROW_OUTPUTS:
          for index, row in zip(group.indices[start:start + chunk], outputs[key]):
            rows[key][index] = row
    return Predictions(model, int(version), class_names,
                       np.stack(rows[features.PROBABILITIES]).astype(np.float32),
                       [_text(c) for c in rows[features.TOP_CLASS]],
                       np.asarray(rows[features.TOP_SCORE], np.float32),
                       np.stack(rows[features.PENULTIMATE]).astype(np.float32))

  # --- plumbing ------------------------------------------------------------------------

  def _call(self, method, request, model: str):
    """Calls ``method`` with retries on UNAVAILABLE; maps gRPC errors to ServingClientError."""
    for attempt in range(self.max_retries + 1):
      try:
        return method(request, timeout=self.timeout_s)
      except grpc.RpcError as e:
        code, detail = e.code(), (e.details() or '').strip().splitlines()
        detail = detail[0] if detail else code.name
        if code == grpc.StatusCode.UNAVAILABLE and attempt < self.max_retries:
          time.sleep(self.backoff_s * 2 ** attempt * (0.5 + random.random()))
          continue
        raise _client_error(code, detail, self.target, model, attempt + 1) from None
    raise AssertionError('unreachable')


def _client_error(code, detail: str, target: str, model: str, attempts: int):
  where = f'{target}, model {model}'
  if code == grpc.StatusCode.UNAVAILABLE:
    return ServerUnavailableError(f'{where}: unavailable after {attempts} attempts: {detail}',
                                  code.name)
  if code == grpc.StatusCode.NOT_FOUND or 'version label' in detail:
    return ModelNotFoundError(f'{where}: {detail}', code.name)
  if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
    return MessageTooLargeError(f'{where}: {detail}', code.name)
  if code == grpc.StatusCode.DEADLINE_EXCEEDED:
    return RequestTimeoutError(f'{where}: no answer within the timeout ({detail})', code.name)
  if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
    return InvalidRequestError(f'{where}: {detail}', code.name)
  return ServingClientError(f'{where}: {code.name}: {detail}', code.name)


def _set_spec(spec, model: str, version: Optional[int], label: Optional[str],
              signature: Optional[str] = None) -> None:
  spec.name = model
  if version is not None and label:
    raise ValueError('give a version or a label, not both')
  if version is not None:
    spec.version.value = int(version)
  elif label:
    spec.version_label = label
  if signature:
    spec.signature_name = signature


def _text(value) -> str:
  return value.decode('utf-8', 'replace') if isinstance(value, bytes) else str(value)
