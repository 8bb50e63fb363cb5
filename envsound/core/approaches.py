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
    run_fn: dotted path of the TFX Trainer ``run_fn``.
    hyperparameters: defaults passed in the Trainer's ``custom_config``.
  """
  name: str
  title: str
  model_name: str
  training_set: str
  run_fn: str
  hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)


APPROACHES: Tuple[Approach, ...] = (
    Approach('cnn2d', 'Approach 1: 2D CNN on embedding images', 'cnn2d_balanced',
             BALANCED, 'envsound.components.trainer_cnn2d.run_fn'),
    Approach('cnn1d', 'Approach 2: 1D CNN on raw embeddings', 'cnn1d_balanced',
             BALANCED, 'envsound.components.trainer_cnn1d.run_fn'),
    Approach('cnn1d_150k', 'Approach 3: 1D CNN, balanced + unbalanced', 'cnn1d_150k',
             WITH_UNBALANCED, 'envsound.components.trainer_cnn1d.run_fn'),
)

PREPROCESSING_FN = 'envsound.components.preprocessing.preprocessing_fn'


def by_name(name: str) -> Approach:
  """Returns the approach called ``name``; raises KeyError naming the known ones."""
  for approach in APPROACHES:
    if approach.name == name:
      return approach
  raise KeyError(f'unknown approach {name!r}; known: {", ".join(a.name for a in APPROACHES)}')
