"""What a pipeline learns to predict: a target.

Every part that depends on the task asks the run's :class:`Target` instead of testing its
name: ingestion (which clips are kept), Transform (the label tensor), the Trainers (output
activation, loss, the label feature), the reference, the Evaluator, the gate (the metric it
compares) and the report.

- ``environment`` (the default): one environment per clip (envsound's taxonomy), softmax over
  the environments, categorical cross-entropy; clips without an environment are dropped; the
  gate compares top-1 accuracy.
- ``audioset``: AudioSet's 527 classes as multi-label tagging (Hershey et al. 2017): every clip
  with at least one label is kept, its label is a 527-long multi-hot vector of its ``labels``,
  sigmoid outputs, binary cross-entropy; the gate compares mAP on the eval split. Its
  trainers run without dropout at the penultimate layer, with the wide path (heads.py) and a
  learning rate of 3e-3 (``trainer_defaults``).
"""

import dataclasses
from typing import Optional, Tuple

from envsound.core import features


@dataclasses.dataclass(frozen=True)
class Target:
  """One learning task of the pipeline.

  Attributes:
    name: the ``--target`` value, recorded in the components' settings.
    multi_label: clips carry several classes (multi-hot labels, sigmoid, binary
      cross-entropy, tagging metrics) rather than one.
    keep_unassigned: ingestion keeps clips that have no environment.
    label_key: the transformed feature the Trainers learn (features.py).
    activation: the output layer's activation.
    loss: the training loss (``'categorical_crossentropy'`` or ``'binary_crossentropy'``).
    gate_metric: the eval-split figure the quality gate compares.
    schema_file: the curated raw schema of its ingested clips (in ``envsound/schemas/``).
    trainer_defaults: ``(field, value)`` pairs every trainer's hyper-parameters take under
      this target in place of the module's defaults; custom_config (and ``--epochs``) still
      overrides them (training.TrainerHparams.from_custom_config).
  """
  name: str
  multi_label: bool
  keep_unassigned: bool
  label_key: str
  activation: str
  loss: str
  gate_metric: str
  schema_file: str
  trainer_defaults: Tuple[Tuple[str, object], ...] = ()

  def class_names(self, class_csv: Optional[str] = None) -> Tuple[str, ...]:
    """The model's classes in index order: environment ids, or the display names of a
    release's ``class_labels_indices.csv`` (a local path; None: the one bundled, which is
    Google's)."""
    # pylint: disable=import-outside-toplevel
    if self.multi_label:
      from envsound.core.labels import bundled_class_labels_path, load_class_labels
      local = class_csv and '://' not in class_csv
      return load_class_labels(class_csv if local else bundled_class_labels_path()).names
    from envsound.core.taxonomy import load_taxonomy
    return tuple(load_taxonomy().names)


ENVIRONMENT = Target(
    name='environment', multi_label=False, keep_unassigned=False,
    label_key=features.LABEL_XF, activation='softmax', loss='categorical_crossentropy',
    gate_metric='accuracy', schema_file='audioset_raw.pbtxt')
AUDIOSET = Target(
    name='audioset', multi_label=True, keep_unassigned=True,
    label_key=features.TAGS_XF, activation='sigmoid', loss='binary_crossentropy',
    gate_metric='mAP', schema_file='audioset_raw_tagging.pbtxt',
    # Measured on held-out training clips of the 20k sample (bench/tagging_variants.py;
    # docs/pipeline.md), each beyond two paired standard errors for every approach: no
    # dropout before and after the penultimate layer (+0.011..+0.025 mAP over 0.3), then
    # the wide path with a learning rate of 3e-3 (+0.10..+0.13 mAP over neither).
    trainer_defaults=(('dropout', 0.0), ('wide', True), ('learning_rate', 3e-3)))
TARGETS: Tuple[Target, ...] = (ENVIRONMENT, AUDIOSET)
DEFAULT = ENVIRONMENT.name


def by_name(name: str = DEFAULT) -> Target:
  """The target called ``name``.

  Raises:
    KeyError: naming the known targets.
  """
  for target in TARGETS:
    if target.name == name:
      return target
  raise KeyError(f'unknown target {name!r}; known: {", ".join(t.name for t in TARGETS)}')
