"""TF Serving's gRPC services on top of a ModelManager.

PredictionService: Predict, GetModelMetadata and Classify (signatures of method
``tensorflow/serving/classify``: ``inputs`` -> ``classes``/``scores``);
Regress and MultiInference answer UNIMPLEMENTED. ModelService: GetModelStatus and
HandleReloadConfigRequest.
"""

import functools
import logging
import time

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.example import example_pb2
from tensorflow.core.protobuf import error_codes_pb2
from tensorflow_serving.apis import (classification_pb2, get_model_metadata_pb2,
                                     get_model_status_pb2, model_management_pb2,
                                     model_service_pb2_grpc, predict_pb2,
                                     prediction_service_pb2_grpc)

from envsound.core import features
from envsound.core.errors import EnvsoundError
from envsound.serving import metrics, server_errors, tensors
from envsound.serving.model_manager import ModelManager

log = logging.getLogger(__name__)
SIGNATURE_DEF = 'signature_def'


def _grpc_errors(method):
  """Turns ServingError (and bugs) into gRPC status codes; counts and times every call."""
  @functools.wraps(method)
  def wrapper(self, request, context):
    start, code, response = time.perf_counter(), grpc.StatusCode.INTERNAL, None
    try:
      response = method(self, request, context)
      code = grpc.StatusCode.OK
      return response
    except server_errors.ServingError as e:
      code = e.code
      context.abort(e.code, e.message)
    except Exception as e:  # pylint: disable=broad-except
      log.exception('%s failed', method.__name__)
      context.abort(grpc.StatusCode.INTERNAL, f'{type(e).__name__}: {e}')
    finally:
      spec = getattr(request, 'model_spec', None)
      served = getattr(response, 'model_spec', spec)
      version = served.version.value if served is not None and served.HasField('version') \
          else None
      self.metrics.request(spec.name if spec is not None else '',
                           '' if version is None else str(version), method.__name__, 'GRPC',
                           code.name, time.perf_counter() - start)
  return wrapper


def _spec_version(spec):
  which = spec.WhichOneof('version_choice')
  return (spec.version.value if which == 'version' else None,
          spec.version_label if which == 'version_label' else None)


def _examples(inputs) -> np.ndarray:
  """Serialized tf.Examples of a Classify ``Input`` (context merged in, as TF Serving does)."""
  kind = inputs.WhichOneof('kind')
  if kind == 'example_list':
    examples = list(inputs.example_list.examples)
  elif kind == 'example_list_with_context':
    context = inputs.example_list_with_context.context
    examples = []
    for example in inputs.example_list_with_context.examples:
      merged = example_pb2.Example()
      merged.CopyFrom(context)
      merged.MergeFrom(example)
      examples.append(merged)
  else:
    raise server_errors.invalid_argument('Input is empty')
  if not examples:
    raise server_errors.invalid_argument('Input is empty')
  return np.array([e.SerializeToString() for e in examples], dtype=object)


def resolve(manager: ModelManager, spec):
  """The servable a request's ModelSpec names."""
  version, label = _spec_version(spec)
  return manager.servable(spec.name, version, label)


def ndarray(tensor_proto, alias: str):
  """TensorProto -> numpy, INVALID_ARGUMENT when the proto is malformed."""
  try:
    return tensors.from_proto(tensor_proto)
  except (TypeError, ValueError) as e:
    raise server_errors.invalid_argument(f'input {alias!r}: malformed TensorProto: {e}') from e


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
  """tensorflow.serving.PredictionService."""

  def __init__(self, manager: ModelManager, server_metrics: metrics.Metrics = metrics.NO_METRICS):
    self._manager = manager
    self.metrics = server_metrics

  @_grpc_errors
  def Predict(self, request, context):  # pylint: disable=invalid-name
    servable = resolve(self._manager, request.model_spec)
    inputs = {k: ndarray(v, k) for k, v in request.inputs.items()}
    outputs = servable.predict(request.model_spec.signature_name, inputs,
                               request.output_filter)
    response = predict_pb2.PredictResponse()
    self._fill_spec(response.model_spec, request.model_spec, servable)
    for key, value in outputs.items():
      tensors.fill_proto(response.outputs[key], value)
    return response

  @_grpc_errors
  def GetModelMetadata(self, request, context):  # pylint: disable=invalid-name
    fields = list(request.metadata_field)
    if fields != [SIGNATURE_DEF]:
      raise server_errors.invalid_argument(
          f'Metadata field {",".join(fields) or "(none)"} is not supported; '
          f'request exactly "{SIGNATURE_DEF}"')
    servable = resolve(self._manager, request.model_spec)
    response = get_model_metadata_pb2.GetModelMetadataResponse()
    self._fill_spec(response.model_spec, request.model_spec, servable)
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, signature in servable.signature_defs.items():
      signature_map.signature_def[key].CopyFrom(signature)
    response.metadata[SIGNATURE_DEF].Pack(signature_map)
    return response

  @_grpc_errors
  def Classify(self, request, context):  # pylint: disable=invalid-name
    servable = resolve(self._manager, request.model_spec)
    key = request.model_spec.signature_name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY
    signature = servable.signature_def(key)
    if signature.method_name != features.CLASSIFY_METHOD:
      raise server_errors.invalid_argument(
          f'Expected classification signature method_name to be {features.CLASSIFY_METHOD}.'
          f' Was: {signature.method_name}')
    if set(signature.inputs) != {features.CLASSIFY_INPUT}:
      raise server_errors.invalid_argument(
          f'Classification signature must have exactly one input, named '
          f'{features.CLASSIFY_INPUT!r}')
    outputs = servable.predict(key, {features.CLASSIFY_INPUT: _examples(request.input)})
    classes = outputs.get(features.CLASSIFY_CLASSES)
    scores = outputs.get(features.CLASSIFY_SCORES)
    if classes is None and scores is None:
      raise server_errors.invalid_argument(
          'Classification signature has neither classes nor scores')
    response = classification_pb2.ClassificationResponse()
    self._fill_spec(response.model_spec, request.model_spec, servable)
    for i in range(len(classes if classes is not None else scores)):
      result = response.result.classifications.add()
      for j in range((classes if classes is not None else scores).shape[1]):
        item = result.classes.add()
        if classes is not None:
          item.label = classes[i][j].decode()
        if scores is not None:
          item.score = float(scores[i][j])
    return response

  def Regress(self, request, context):  # pylint: disable=invalid-name
    context.abort(grpc.StatusCode.UNIMPLEMENTED, 'Regress is not supported by envsound serve')

  def MultiInference(self, request, context):  # pylint: disable=invalid-name
    context.abort(grpc.StatusCode.UNIMPLEMENTED,
                  'MultiInference is not supported by envsound serve')

  @staticmethod
  def _fill_spec(out, spec, servable) -> None:
    out.name = servable.name
    out.version.value = servable.version
    out.signature_name = spec.signature_name or tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY


def model_status_response(manager: ModelManager, name: str, version=None, label=None):
  """GetModelStatusResponse for a model (and optionally one version or label)."""
  response = get_model_status_pb2.GetModelStatusResponse()
  for entry in manager.version_states(name, version, label):
    item = response.model_version_status.add(version=entry.number, state=entry.state)
    item.status.SetInParent()  # error_code OK, as TF Serving reports it
    if entry.error:
      item.status.error_code = error_codes_pb2.UNKNOWN
      item.status.error_message = entry.error
  return response


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
  """tensorflow.serving.ModelService."""

  def __init__(self, manager: ModelManager, server_metrics: metrics.Metrics = metrics.NO_METRICS):
    self._manager = manager
    self.metrics = server_metrics

  @_grpc_errors
  def GetModelStatus(self, request, context):  # pylint: disable=invalid-name
    version, label = _spec_version(request.model_spec)
    return model_status_response(self._manager, request.model_spec.name, version, label)

  @_grpc_errors
  def HandleReloadConfigRequest(self, request, context):  # pylint: disable=invalid-name
    response = model_management_pb2.ReloadConfigResponse()
    try:
      self._manager.reload_config(request.config)
    except EnvsoundError as e:
      response.status.error_code = error_codes_pb2.INVALID_ARGUMENT
      response.status.error_message = str(e)
    return response
