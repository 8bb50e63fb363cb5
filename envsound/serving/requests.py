"""Building TF Serving requests: the one place envsound writes a ModelSpec or PredictRequest."""

from typing import Mapping, Optional, Sequence

import numpy as np

from envsound.serving import protos, tensors


def set_spec(spec, model: str, version: Optional[int] = None, label: Optional[str] = None,
             signature: Optional[str] = None) -> None:
  """Fills a ModelSpec: the model, at most one of version and label, and the signature.

  Raises:
    ValueError: both a version and a label.
  """
  spec.name = model
  if version is not None and label:
    raise ValueError('give a version or a label, not both')
  if version is not None:
    spec.version.value = int(version)
  elif label:
    spec.version_label = label
  if signature:
    spec.signature_name = signature


def predict_request(model: str, inputs: Mapping[str, np.ndarray], version: Optional[int] = None,
                    label: Optional[str] = None, signature: Optional[str] = None,
                    output_filter: Sequence[str] = ()):
  """A PredictRequest (TF Serving's fields, envsound.serving.protos' class).

  Args:
    model: the model name.
    inputs: tensor alias -> array (numbers go as tensor_content, strings as string_val).
    version: a version number, or None for the newest (or ``label``'s).
    label: a version label such as 'stable'; not with ``version``.
    signature: the signature name; the server's default (serving_default) when None.
    output_filter: the outputs to return; all when empty.

  Servers built on TensorFlow's own messages read it with
  ``PredictRequest.FromString(request.SerializeToString())``: the bytes are the same.
  """
  request = protos.predict_pb2.PredictRequest()
  set_spec(request.model_spec, model, version, label, signature)
  for key, value in inputs.items():
    tensors.fill_proto(request.inputs[key], value)
  request.output_filter.extend(output_filter)
  return request
