"""TF Serving's messages without TensorFlow, and calls on TF Serving's own method paths.

The message modules are generated when envsound is built (package ``envsound_wire``, see
setup.py): the fields of tensorflow-serving-api's, under proto packages renamed so that both
load in one process. The methods keep TF Serving's paths
(``/tensorflow.serving.PredictionService/Predict``, ...), so the same calls reach
tensorflow_model_server and ``envsound serve``.
"""

from typing import Callable, NamedTuple

import grpc

from envsound_wire.tensorflow.core.framework import tensor_pb2, types_pb2
from envsound_wire.tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                                   predict_pb2)

__all__ = ['tensor_pb2', 'types_pb2', 'get_model_metadata_pb2', 'get_model_status_pb2',
           'predict_pb2', 'Method', 'PREDICT', 'GET_MODEL_METADATA', 'GET_MODEL_STATUS',
           'PREDICTION_SERVICE', 'MODEL_SERVICE', 'bind', 'wire_name', 'unpack_any']

_PREFIX = 'envsound_wire.'
PREDICTION_SERVICE = 'tensorflow.serving.PredictionService'
MODEL_SERVICE = 'tensorflow.serving.ModelService'


class Method(NamedTuple):
  """One unary gRPC method: its path on the wire and its message classes."""
  path: str
  request: type
  response: type


PREDICT = Method(f'/{PREDICTION_SERVICE}/Predict', predict_pb2.PredictRequest,
                 predict_pb2.PredictResponse)
GET_MODEL_METADATA = Method(f'/{PREDICTION_SERVICE}/GetModelMetadata',
                            get_model_metadata_pb2.GetModelMetadataRequest,
                            get_model_metadata_pb2.GetModelMetadataResponse)
GET_MODEL_STATUS = Method(f'/{MODEL_SERVICE}/GetModelStatus',
                          get_model_status_pb2.GetModelStatusRequest,
                          get_model_status_pb2.GetModelStatusResponse)


def bind(channel: grpc.Channel, method: Method) -> Callable:
  """A callable for ``method`` on ``channel``, like a generated stub's attribute."""
  return channel.unary_unary(method.path, request_serializer=method.request.SerializeToString,
                             response_deserializer=method.response.FromString)


def wire_name(message_class) -> str:
  """The message's full name as TF Serving spells it (``tensorflow.serving.ModelSpec``)."""
  name = message_class.DESCRIPTOR.full_name
  return name[len(_PREFIX):] if name.startswith(_PREFIX) else name


def unpack_any(value, message_class):
  """Parses a ``google.protobuf.Any`` that holds TF Serving's ``message_class``.

  ``Any.Unpack`` compares full names, which differ here by the renamed package; the type URL
  names TF Serving's message.

  Raises:
    ValueError: the Any holds another type.
  """
  expected = wire_name(message_class)
  if value.type_url.rpartition('/')[2] != expected:
    raise ValueError(f'expected a {expected}, got {value.type_url or "an empty Any"}')
  return message_class.FromString(value.value)
