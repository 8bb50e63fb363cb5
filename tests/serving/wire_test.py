"""The generated messages (envsound.serving.protos) are TF Serving's on the wire, both ways:
what one side writes, tensorflow-serving-api (with TensorFlow's own protos) reads, and back."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import (get_model_metadata_pb2, get_model_status_pb2,
                                     model_service_pb2, predict_pb2, prediction_service_pb2)

from envsound.core import features
from envsound.serving import protos, tensors
from envsound.serving.requests import predict_request

CLIPS = np.random.default_rng(5).integers(0, 256, (3, 7, features.EMBEDDING_DIM), np.uint8)


def test_a_request_built_here_is_read_by_tensorflow_serving_api():
  request = predict_request('cnn1d_balanced', {features.EMBEDDING_INPUT: CLIPS}, label='stable',
                            signature=features.UINT8_SIGNATURE,
                            output_filter=(features.PROBABILITIES, features.MAP_XY))
  theirs = predict_pb2.PredictRequest.FromString(request.SerializeToString())
  assert theirs.model_spec.name == 'cnn1d_balanced'
  assert theirs.model_spec.version_label == 'stable'
  assert not theirs.model_spec.HasField('version')
  assert theirs.model_spec.signature_name == features.UINT8_SIGNATURE
  assert list(theirs.output_filter) == [features.PROBABILITIES, features.MAP_XY]
  np.testing.assert_array_equal(tf.make_ndarray(theirs.inputs[features.EMBEDDING_INPUT]), CLIPS)
  assert theirs.SerializeToString() == request.SerializeToString()


def test_a_response_from_tensorflow_serving_api_is_read_here():
  theirs = predict_pb2.PredictResponse()
  theirs.model_spec.name = 'cnn1d_balanced'
  theirs.model_spec.version.value = 7
  outputs = {features.PROBABILITIES: np.array([[0.25, 0.75]], np.float32),
             features.TOP_CLASS: np.array([b'rail']),
             features.MAP_XY: np.array([[1.5, -2.0]], np.float32),
             features.REFERENCE_COUNT: np.array([1200], np.int64)}
  for key, value in outputs.items():
    theirs.outputs[key].CopyFrom(tf.make_tensor_proto(value))
  ours = protos.PREDICT.response.FromString(theirs.SerializeToString())
  assert ours.model_spec.version.value == 7
  for key, value in outputs.items():
    np.testing.assert_array_equal(tensors.from_proto(ours.outputs[key]), value)


def test_signature_metadata_packed_by_tensorflow_unpacks_here():
  signatures = get_model_metadata_pb2.SignatureDefMap()
  signature = signatures.signature_def[features.UINT8_SIGNATURE]
  signature.method_name = 'tensorflow/serving/predict'
  signature.inputs[features.EMBEDDING_INPUT].dtype = tf.uint8.as_datatype_enum
  for size in (-1, -1, features.EMBEDDING_DIM):
    signature.inputs[features.EMBEDDING_INPUT].tensor_shape.dim.add(size=size)
  theirs = get_model_metadata_pb2.GetModelMetadataResponse()
  theirs.metadata['signature_def'].Pack(signatures)
  ours = protos.GET_MODEL_METADATA.response.FromString(theirs.SerializeToString())
  unpacked = protos.unpack_any(ours.metadata['signature_def'],
                               protos.get_model_metadata_pb2.SignatureDefMap)
  info = unpacked.signature_def[features.UINT8_SIGNATURE].inputs[features.EMBEDDING_INPUT]
  assert tensors.describe(info) == ('uint8', (None, None, features.EMBEDDING_DIM))
  with pytest.raises(ValueError, match='expected a tensorflow.serving.PredictRequest'):
    protos.unpack_any(ours.metadata['signature_def'], protos.predict_pb2.PredictRequest)


def test_model_status_with_an_error_code_reads_both_ways():
  theirs = get_model_status_pb2.GetModelStatusResponse()
  status = theirs.model_version_status.add(version=3, state=get_model_status_pb2.
                                           ModelVersionStatus.State.Value('END'))
  status.status.error_code = 3  # INVALID_ARGUMENT: an enum there, an int32 here
  status.status.error_message = 'corrupt saved_model.pb'
  ours = protos.GET_MODEL_STATUS.response.FromString(theirs.SerializeToString())
  assert (ours.model_version_status[0].version, ours.model_version_status[0].status.error_code,
          ours.model_version_status[0].status.error_message) == (3, 3, 'corrupt saved_model.pb')
  assert protos.get_model_status_pb2.ModelVersionStatus.State.Name(
      ours.model_version_status[0].state) == 'END'
  assert get_model_status_pb2.GetModelStatusResponse.FromString(
      ours.SerializeToString()) == theirs


@pytest.mark.parametrize('method,service_file', [
    (protos.PREDICT, prediction_service_pb2),
    (protos.GET_MODEL_METADATA, prediction_service_pb2),
    (protos.GET_MODEL_STATUS, model_service_pb2)])
def test_methods_use_tf_servings_paths_and_message_types(method, service_file):
  _, service_name, method_name = method.path.split('/')
  service = service_file.DESCRIPTOR.services_by_name[service_name.rpartition('.')[2]]
  assert service.full_name == service_name
  theirs = service.methods_by_name[method_name]
  assert theirs.input_type.full_name == protos.wire_name(method.request)
  assert theirs.output_type.full_name == protos.wire_name(method.response)
