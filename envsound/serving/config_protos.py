"""TF Serving config messages that tensorflow-serving-api does not ship, and text-proto reading.

``BatchingParameters`` (session_bundle_config.proto) and ``MonitoringConfig``
(monitoring_config.proto) are declared here with TF Serving 2.16's package, field names,
numbers and types, so a file ``tensorflow_model_server`` accepts parses the same way here.
"""

from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format
from google.protobuf import wrappers_pb2

from envsound.core.errors import EnvsoundError

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {'int64': _F.TYPE_INT64, 'bool': _F.TYPE_BOOL, 'string': _F.TYPE_STRING}
_PACKAGE = 'tensorflow.serving'
_MESSAGES = {  # message -> (field, number, type); 'repeated T', a scalar or a message name
    'BatchingParameters': (
        ('max_batch_size', 1, '.google.protobuf.Int64Value'),
        ('batch_timeout_micros', 2, '.google.protobuf.Int64Value'),
        ('max_enqueued_batches', 3, '.google.protobuf.Int64Value'),
        ('num_batch_threads', 4, '.google.protobuf.Int64Value'),
        ('thread_pool_name', 5, '.google.protobuf.StringValue'),
        ('allowed_batch_sizes', 6, 'repeated int64'),
        ('pad_variable_length_inputs', 7, 'bool'),
        ('enable_large_batch_splitting', 8, '.google.protobuf.BoolValue'),
        ('max_execution_batch_size', 9, '.google.protobuf.Int64Value')),
    'PrometheusConfig': (('enable', 1, 'bool'), ('path', 2, 'string')),
    'MonitoringConfig': (('prometheus_config', 1, f'.{_PACKAGE}.PrometheusConfig'),),
}


def _declare():
  pool = descriptor_pool.DescriptorPool()
  pool.Add(descriptor_pb2.FileDescriptorProto.FromString(wrappers_pb2.DESCRIPTOR.serialized_pb))
  f = descriptor_pb2.FileDescriptorProto(name='envsound_serving_configs.proto', package=_PACKAGE,
                                         syntax='proto3')
  f.dependency.append('google/protobuf/wrappers.proto')
  for message, fields in _MESSAGES.items():
    msg = f.message_type.add(name=message)
    for name, number, kind in fields:
      repeated, _, kind = kind.rpartition(' ')
      field = msg.field.add(name=name, number=number,
                            label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL)
      if kind in _SCALARS:
        field.type = _SCALARS[kind]
      else:
        field.type, field.type_name = _F.TYPE_MESSAGE, kind
  pool.Add(f)
  factory = message_factory.MessageFactory(pool)
  return {m: factory.GetPrototype(pool.FindMessageTypeByName(f'{_PACKAGE}.{m}'))
          for m in _MESSAGES}


_CLASSES = _declare()
BatchingParameters = _CLASSES['BatchingParameters']
MonitoringConfig = _CLASSES['MonitoringConfig']


def read_text_proto(path, message):
  """Parses the text proto at ``path`` into ``message`` (returned).

  Raises:
    EnvsoundError: naming the file and the message type, when it is missing or does not parse.
  """
  try:
    return text_format.Parse(Path(path).read_text(), message)
  except (OSError, text_format.ParseError) as e:
    raise EnvsoundError(f'{path}: not a readable {message.DESCRIPTOR.name} text proto: '
                        f'{e}') from e
