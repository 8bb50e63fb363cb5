"""envsound's TFX pipeline definition, shared by every runner (local, Dataflow, Vertex AI).

Per training set: ingestion, statistics, validation against the curated schema, Transform,
and the reference every approach must beat. Per approach: Trainer, the last model of that
approach the gate blessed, Evaluator, the quality gate, Pusher.
"""

from typing import Any, Dict, List, Sequence, Tuple

from tfx import v1 as tfx
from tfx.dsl.components.base import executor_spec

from envsound.core import approaches as approaches_lib
from envsound.core import targets
from envsound.components import atomic_pusher, audioset_example_gen, quality_gate, transform
from envsound.pipeline import code_version, configs, tuning


def schema_component(cfg: configs.PipelineConfig):
  """The curated raw schema: SequenceExample layout and Transform's tensor representations."""
  return tfx.components.ImportSchemaGen(schema_file=cfg.raw_schema)


def example_gen_component(cfg: configs.PipelineConfig, training_set: str):
  """Ingestion: environment labels, per-environment caps, validation videos kept apart."""
  return audioset_example_gen.create(
      cfg.data_root, cfg.ingestion(training_set)).with_id(f'ExampleGen_{training_set}')


def transform_component(example_gen, schema_gen, training_set: str,
                        target: targets.Target = targets.ENVIRONMENT, num_classes: int = 0):
  """Transform: dequantise, pad/cut to fixed frames, encode labels (the target's)."""
  config = {code_version.KEY: code_version.current(),
            **({'target': target.name, 'num_classes': num_classes} if target.multi_label
               else {})}
  return transform.Transform(
      examples=example_gen.outputs['examples'], schema=schema_gen.outputs['schema'],
      preprocessing_fn=approaches_lib.PREPROCESSING_FN, custom_config=config,
      disable_statistics=True, force_tf_compat_v1=transform.TF_COMPAT_V1).with_id(
          f'Transform_{training_set}')


def reference_component(example_gen, training_set: str, num_classes: int,
                        target: targets.Target = targets.ENVIRONMENT):
  """The reference (linear model on pooled embeddings) and the majority-class rate, or for a
  multi-label target the one-vs-rest reference and the label prior."""
  extra = {'target': target.name} if target.multi_label else {}
  return quality_gate.ReferenceGen(examples=example_gen.outputs['examples'],
                                   num_classes=num_classes, **extra).with_id(
                                       f'Reference_{training_set}')


def statistics_gen_component(example_gen, training_set: str):
  """StatisticsGen: per-feature statistics of each split (TFDV)."""
  return tfx.components.StatisticsGen(
      examples=example_gen.outputs['examples']).with_id(f'StatisticsGen_{training_set}')


def example_validator_component(statistics_gen, schema_gen, training_set: str):
  """ExampleValidator: anomalies of the statistics against the curated schema."""
  return tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema']).with_id(f'ExampleValidator_{training_set}')


def trainer_component(cfg: configs.PipelineConfig, approach: approaches_lib.Approach,
                      transform, schema_gen, class_names: Sequence[str], hyperparameters=None):
  """Trainer: the approach's run_fn on the transformed examples (with the Tuner's best
  hyper-parameters when ``hyperparameters`` is a channel of them)."""
  return tfx.components.Trainer(
      run_fn=approach.run_fn,
      examples=transform.outputs['transformed_examples'],
      transform_graph=transform.outputs['transform_graph'],
      schema=schema_gen.outputs['schema'], hyperparameters=hyperparameters,
      custom_config=cfg.custom_config(approach, tuple(class_names))).with_id(
          f'Trainer_{approach.name}')


def resolver_component(approach: approaches_lib.Approach):
  """The last model of this approach the quality gate blessed: the Evaluator's baseline."""
  return tfx.dsl.Resolver(
      strategy_class=tfx.dsl.experimental.LatestBlessedModelStrategy,
      model=tfx.dsl.Channel(type=tfx.types.standard_artifacts.Model,
                            producer_component_id=f'Trainer_{approach.name}'),
      model_blessing=tfx.dsl.Channel(type=tfx.types.standard_artifacts.ModelBlessing,
                                     producer_component_id=f'QualityGate_{approach.name}'),
  ).with_id(f'Resolver_{approach.name}')


def evaluator_component(cfg: configs.PipelineConfig, approach: approaches_lib.Approach,
                        example_gen, trainer, resolver, class_names: Sequence[str]):
  """Evaluator: TFMA on the validation split against the baseline; blesses or not. A
  multi-label target's is tagging_evaluator's (mAP, AUC, d' of the exported model)."""
  # pylint: disable=import-outside-toplevel
  if cfg.target_spec.multi_label:
    from envsound.components import tagging_evaluator
    return tagging_evaluator.TaggingEvaluator(
        examples=example_gen.outputs['examples'], model=trainer.outputs['model'],
        baseline_model=resolver.outputs['model']).with_id(f'Evaluator_{approach.name}')
  from envsound.components import eval_config as eval_config_lib  # imports TFMA
  eval_config = eval_config_lib.build_eval_config(class_names=tuple(class_names),
                                                  min_accuracy=cfg.min_accuracy or 0.0)
  return tfx.components.Evaluator(
      examples=example_gen.outputs['examples'],
      model=trainer.outputs['model'], baseline_model=resolver.outputs['model'],
      eval_config=eval_config, example_splits=['eval']).with_id(f'Evaluator_{approach.name}')


def quality_gate_component(cfg: configs.PipelineConfig, approach: approaches_lib.Approach,
                           trainer, evaluator, reference):
  """The gate: beats the reference and the majority class (or ``--min-accuracy``)? For a
  multi-label target: mAP above the reference's and the label prior's (or ``--min-map``)?"""
  minimum = cfg.min_map if cfg.target_spec.multi_label else cfg.min_accuracy
  extra = {'target': cfg.target} if cfg.target_spec.multi_label else {}
  return quality_gate.QualityGate(
      model=trainer.outputs['model'], evaluation=evaluator.outputs['evaluation'],
      evaluator_blessing=evaluator.outputs['blessing'],
      reference=reference.outputs['reference'],
      min_accuracy=-1.0 if minimum is None else minimum, **extra).with_id(
          f'QualityGate_{approach.name}')


def pusher_component(cfg: configs.PipelineConfig, approach: approaches_lib.Approach, trainer,
                     gate):
  """Blessed models only, renamed into <serving_dir>/<model_name>/<version> when complete."""
  return tfx.components.Pusher(
      model=trainer.outputs['model'], model_blessing=gate.outputs['blessing'],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(
              base_directory=configs.join(cfg.serving_dir, approach.model_name))),
      custom_executor_spec=executor_spec.ExecutorClassSpec(atomic_pusher.Executor),
  ).with_id(f'Pusher_{approach.name}')


def data_components(cfg: configs.PipelineConfig, num_classes: int = 0
                    ) -> Tuple[List, Any, Dict, Dict]:
  """Returns the data half: (components, schema_gen, example_gens, transforms by set);
  ``num_classes``: the length of a multi-label target's label vector."""
  schema_gen = schema_component(cfg)
  components: List = [schema_gen]
  example_gens, transforms = {}, {}
  for training_set in cfg.training_sets:
    example_gen = example_gen_component(cfg, training_set)
    statistics_gen = statistics_gen_component(example_gen, training_set)
    example_validator = example_validator_component(statistics_gen, schema_gen, training_set)
    transform = transform_component(example_gen, schema_gen, training_set, cfg.target_spec,
                                    num_classes)
    components += [example_gen, statistics_gen, example_validator, transform]
    example_gens[training_set] = example_gen
    transforms[training_set] = transform
  return components, schema_gen, example_gens, transforms


def create_pipeline(cfg: configs.PipelineConfig, *, metadata_connection_config=None,
                    beam_pipeline_args: Sequence[str] = ()) -> tfx.dsl.Pipeline:
  """Returns the pipeline that ``cfg`` describes.

  Args:
    cfg: what to run (data, outputs, approaches, sizes).
    metadata_connection_config: ML Metadata connection (local runs: SQLite); None lets the
      orchestrator (Vertex AI) provide one.
    beam_pipeline_args: arguments of every Beam-based component (runner, workers...).
  """
  target = cfg.target_spec
  class_names = target.class_names(cfg.ingestion(approaches_lib.BALANCED).class_csv)
  components, schema_gen, example_gens, transforms = data_components(cfg, len(class_names))
  references = {}
  for training_set, example_gen in example_gens.items():
    references[training_set] = reference_component(example_gen, training_set, len(class_names),
                                                   target)
    components.append(references[training_set])
  for approach in cfg.selected_approaches:
    transform = transforms[approach.training_set]
    tuned, hyperparameters = tuning.hyperparameters_source(cfg, approach, transform, schema_gen,
                                                           class_names)
    trainer = trainer_component(cfg, approach, transform, schema_gen, class_names,
                                hyperparameters)
    resolver = resolver_component(approach)
    evaluator = evaluator_component(cfg, approach, example_gens[approach.training_set],
                                    trainer, resolver, class_names)
    gate = quality_gate_component(cfg, approach, trainer, evaluator,
                                  references[approach.training_set])
    components += [*tuned, trainer, resolver, evaluator, gate,
                   pusher_component(cfg, approach, trainer, gate)]

  return tfx.dsl.Pipeline(
      pipeline_name=cfg.pipeline_name, pipeline_root=cfg.pipeline_root,
      components=components, enable_cache=cfg.enable_cache,
      metadata_connection_config=metadata_connection_config,
      beam_pipeline_args=list(beam_pipeline_args))
