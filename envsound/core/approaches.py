"""The research project's three modelling approaches: which data each trains on and which code trains it.

The pipeline adds one Trainer, Evaluator and Pusher per entry (component ids
``Trainer_<name>``, ``Evaluator_<name>``, ``Pusher_<name>``); the model is pushed to
``<serving_dir>/<model_name>/<version>/`` and served under ``model_name``.
"""

import dataclasses
from typing import Any, Mapping, Tuple

# Training sets built at ingestion (component ids ``ExampleGen_<set>``, ``Transform_<set>``).
BALANCED = 'balanced'          # AudioSet bal_train (~22k clips in the real release)
WITH_UNBALANCED = '150k'       # bal_train + unbal_train, capped (150k clips by default)
TRAINING_SETS = (BALANCED, WITH_UNBALANCED)


@dataclasses.dataclass(frozen=True)
class Approach:
  """One modelling approach.

  Attributes:
    name: short id, used in component ids and reports.
    title: what the report calls it.
    model_name: the name TF Serving serves it under.
    training_set: one of TRAINING_SETS.
    run_fn: dotted path of the TFX Trainer ``run_fn`` (its module also has the TFX Tuner's
      ``tuner_fn``).
    hyperparameters: defaults passed in the Trainer's ``custom_config``.
    options: other models the approach can train instead: option name -> (title, run_fn);
      ``by_name('<name>:<option>')`` selects one.
  """
  name: str
  title: str
  model_name: str
  training_set: str
  run_fn: str
  hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  options: Mapping[str, Tuple[str, str]] = dataclasses.field(default_factory=dict)

  @property
  def tuner_fn(self) -> str:
    """Dotted path of the TFX Tuner ``tuner_fn`` (in the run_fn's module)."""
    return self.run_fn.rsplit('.', 1)[0] + '.tuner_fn'

  def with_option(self, option: str) -> 'Approach':
    """This approach training the model ``option`` names (same ids and model name)."""
    if option not in self.options:
      raise KeyError(f'approach {self.name!r} has no option {option!r}; options: '
                     f'{", ".join(self.options) or "none"}')
    title, run_fn = self.options[option]
    return dataclasses.replace(self, title=title, run_fn=run_fn)


# Approach 3's candidate models (docs/pipeline.md: how the default was chosen).
APPROACH3_MODELS = {
    'cnn1d': ('Approach 3: 1D CNN, balanced + unbalanced',
              'envsound.components.trainer_cnn1d.run_fn'),
    'attention': ('Approach 3: feature-level attention, balanced + unbalanced',
                  'envsound.components.trainer_attention.run_fn'),
}
APPROACH3_DEFAULT = 'attention'
_APPROACH3_TITLE, _APPROACH3_RUN_FN = APPROACH3_MODELS[APPROACH3_DEFAULT]

APPROACHES: Tuple[Approach, ...] = (
    Approach('cnn2d', 'Approach 1: 2D CNN on embedding images', 'cnn2d_balanced',
             BALANCED, 'envsound.components.trainer_cnn2d.run_fn'),
    Approach('cnn1d', 'Approach 2: 1D CNN on raw embeddings', 'cnn1d_balanced',
             BALANCED, 'envsound.components.trainer_cnn1d.run_fn'),
    Approach('cnn1d_150k', _APPROACH3_TITLE, 'cnn1d_150k', WITH_UNBALANCED, _APPROACH3_RUN_FN,
             options=APPROACH3_MODELS),
)

PREPROCESSING_FN = 'envsound.components.preprocessing.preprocessing_fn'


def by_name(name: str) -> Approach:
  """Returns the approach called ``name``, or ``'<name>:<option>'`` with that option's model.

  Raises:
    KeyError: naming the known approaches (or the approach's options).
  """
  name, _, option = name.partition(':')
  for approach in APPROACHES:
    if approach.name == name:
      return approach.with_option(option) if option else approach
  raise KeyError(f'unknown approach {name!r}; known: {", ".join(a.name for a in APPROACHES)}')
