"""TFX Transform whose transformed_examples say what they hold: tf.Example records.

TFX 1.16's Transform writes tf.Examples but leaves its ``transformed_examples`` artifact
without the ``payload_format`` property, so every reader of it (the Trainer's data
accessor) logs that it falls back to FORMAT_TF_EXAMPLE. This executor sets the property.
"""

from tfx import v1 as tfx
from tfx.components.transform import executor as transform_executor
from tfx.components.util import examples_utils
from tfx.dsl.components.base import executor_spec
from tfx.proto import example_gen_pb2
from tfx.types import standard_component_specs


class Executor(transform_executor.Executor):
  """TFX's Transform executor, then ``payload_format`` FORMAT_TF_EXAMPLE on its examples."""

  def Do(self, input_dict, output_dict, exec_properties) -> None:
    super().Do(input_dict, output_dict, exec_properties)
    for examples in output_dict.get(standard_component_specs.TRANSFORMED_EXAMPLES_KEY, []):
      examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)


class Transform(tfx.components.Transform):
  """tfx.components.Transform with :class:`Executor`."""

  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)
