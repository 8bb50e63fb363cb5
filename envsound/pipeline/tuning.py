"""Where each Trainer's hyper-parameters come from: TFX's Tuner, or its latest result.

With a tuning budget (``envsound pipeline run --tune``) an approach gets a ``Tuner_<name>``
component: KerasTuner searches the trainer module's space (``tuner_fn``, components/tuning.py)
on the Transform's train split alone (TrainArgs and EvalArgs both name 'train'; the search
holds out part of it), and its ``best_hyperparameters`` feed the Trainer, as in TFX's penguin
example. The artifact is cached like any other: a second ``--tune`` run with the same inputs
reuses it. Without a budget a ``TunedResolver_<name>`` resolves the latest HyperParameters
artifact ``Tuner_<name>`` ever produced in this pipeline; before any tuning it resolves
nothing and the Trainer keeps its module's defaults.
"""

from typing import Any, List, Sequence, Tuple

from tfx import v1 as tfx

from envsound.core import approaches as approaches_lib
from envsound.components import tuning as tuning_lib
from envsound.pipeline import configs

TRAIN_SPLIT = 'train'


def tuner_id(approach: approaches_lib.Approach) -> str:
  return f'Tuner_{approach.name}'


def hyperparameters_source(cfg: configs.PipelineConfig, approach: approaches_lib.Approach,
                           transform, schema_gen, class_names: Sequence[str]
                           ) -> Tuple[List[Any], Any]:
  """The component giving ``approach``'s Trainer its hyper-parameters, and its channel.

  Returns:
    ``([Tuner or Resolver], channel of HyperParameters)`` for the Trainer's
    ``hyperparameters=``.
  """
  if cfg.tune is None:
    resolver = tfx.dsl.Resolver(
        strategy_class=tfx.dsl.experimental.LatestArtifactStrategy,
        hyperparameters=tfx.dsl.Channel(type=tfx.types.standard_artifacts.HyperParameters,
                                        producer_component_id=tuner_id(approach)),
    ).with_id(f'TunedResolver_{approach.name}')
    return [resolver], resolver.outputs['hyperparameters']
  custom_config = {**cfg.custom_config(approach, tuple(class_names)),
                   tuning_lib.TUNING_KEY: {'trials': cfg.tune.trials,
                                           'minutes': cfg.tune.minutes}}
  tuner = tfx.components.Tuner(
      tuner_fn=approach.tuner_fn,
      examples=transform.outputs['transformed_examples'],
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'],
      train_args=tfx.proto.TrainArgs(splits=[TRAIN_SPLIT]),
      eval_args=tfx.proto.EvalArgs(splits=[TRAIN_SPLIT]),
      custom_config=custom_config).with_id(tuner_id(approach))
  return [tuner], tuner.outputs['best_hyperparameters']
