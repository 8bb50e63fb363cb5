"""Settings of one envsound pipeline run: frozen dataclasses and defaults, no I/O."""

import dataclasses
import pathlib
from typing import Any, Mapping, Optional, Tuple

from envsound.core import approaches as approaches_lib
from envsound.core import features, targets
from envsound.pipeline import code_version

PIPELINE_NAME = 'envsound'
DEFAULT_UNBALANCED_CAP = 150_000   # clips in the 'balanced + unbalanced' training set
METADATA_FILE = 'metadata.sqlite'
# The curated raw schemas installed with envsound (ImportSchemaGen reads one where it runs).
SCHEMA_DIR = pathlib.Path(__file__).resolve().parent.parent / 'schemas'
RAW_SCHEMA = str(SCHEMA_DIR / targets.ENVIRONMENT.schema_file)

# Input splits of an AudioSet release, as globs under its root. `*_train` matches
# bal_train and unbal_train; ingestion gives bal_train priority when it caps.
TRAIN_PATTERNS = {
    approaches_lib.BALANCED: 'bal_train/*.tfrecord',
    approaches_lib.WITH_UNBALANCED: '*_train/*.tfrecord',
}
EVAL_PATTERN = 'eval/*.tfrecord'


@dataclasses.dataclass(frozen=True)
class IngestionConfig:
  """How ingestion turns release files into a training set.

  Attributes:
    train_pattern: glob (relative to the release root) of the training files.
    eval_pattern: glob of the validation files (AudioSet's eval split).
    class_csv: the release's ``class_labels_indices.csv``.
    max_train_clips: cap on training clips (per-environment fair caps); None keeps all.
    max_eval_clips: cap on validation clips; None keeps all.
    target: the run's target (``core.targets``): which clips are kept.
  """
  train_pattern: str
  eval_pattern: str
  class_csv: str
  max_train_clips: Optional[int] = None
  max_eval_clips: Optional[int] = None
  target: str = targets.DEFAULT


@dataclasses.dataclass(frozen=True)
class TuningBudget:
  """How long TFX's Tuner searches each approach's hyper-parameters (whichever ends first).

  Attributes:
    trials: most hyper-parameter sets tried.
    minutes: wall-clock budget of one approach's search.
  """
  trials: int = 10
  minutes: float = 30.0

  def __post_init__(self):
    if self.trials < 1 or self.minutes <= 0:
      raise ValueError(f'tuning needs trials >= 1 and minutes > 0, got {self.trials} trials '
                       f'and {self.minutes} minutes')


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
  """Everything that defines one pipeline, whatever runs it.

  Attributes:
    data_root: AudioSet release root (sample data or Google's), local or gs://.
    pipeline_root: where TFX writes artifacts.
    serving_dir: TF Serving model base directory; models go to ``<dir>/<model_name>/<v>/``.
    approaches: names from ``components.approaches.APPROACHES`` to train.
    max_clips: quick-run cap on every split's clips; None keeps the full data.
    unbalanced_cap: size of the 'balanced + unbalanced' training set.
    epochs: training epochs (None: each approach's default).
    hyperparameters: overrides merged into every Trainer's ``custom_config``.
    min_accuracy: an absolute accuracy threshold that replaces the quality gate's comparison
      with the reference and the majority class (None: the gate compares); environment
      target only.
    min_map: for a multi-label target, an absolute eval mAP threshold that replaces the
      gate's comparison with the reference and the label prior (None: the gate compares).
    pipeline_name: TFX pipeline name (MLMD context).
    enable_cache: reuse outputs of components whose inputs did not change.
    schema_file: the curated raw schema, as the executors see it (None: the target's,
      installed with envsound).
    class_csv: the release's class list (default: ``<data_root>/class_labels_indices.csv``).
    tune: a budget adds a Tuner per approach; None reuses each approach's latest tuning
      result, if any (pipeline/tuning.py).
    target: what every approach learns (``core.targets``): 'environment' or 'audioset'.
  """
  data_root: str
  pipeline_root: str
  serving_dir: str
  approaches: Tuple[str, ...] = tuple(a.name for a in approaches_lib.APPROACHES)
  max_clips: Optional[int] = None
  unbalanced_cap: int = DEFAULT_UNBALANCED_CAP
  epochs: Optional[int] = None
  hyperparameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  min_accuracy: Optional[float] = None
  min_map: Optional[float] = None
  pipeline_name: str = PIPELINE_NAME
  enable_cache: bool = True
  schema_file: Optional[str] = None
  class_csv: Optional[str] = None
  tune: Optional[TuningBudget] = None
  target: str = targets.DEFAULT

  def __post_init__(self):
    multi_label = self.target_spec.multi_label
    if self.tune is not None and multi_label:
      raise ValueError(f'--tune searches on accuracy; the {self.target} target has none')
    if multi_label and self.min_accuracy is not None:
      raise ValueError(f'--min-accuracy is for the environment target; the {self.target} '
                       'target is gated on mAP (--min-map)')
    if not multi_label and self.min_map is not None:
      raise ValueError('--min-map is for a multi-label target (--target audioset)')

  @property
  def target_spec(self) -> targets.Target:
    return targets.by_name(self.target)

  @property
  def raw_schema(self) -> str:
    """The schema file ImportSchemaGen reads."""
    return self.schema_file or str(SCHEMA_DIR / self.target_spec.schema_file)

  @property
  def selected_approaches(self) -> Tuple[approaches_lib.Approach, ...]:
    return tuple(approaches_lib.by_name(name) for name in self.approaches)

  @property
  def training_sets(self) -> Tuple[str, ...]:
    """The training sets the selected approaches use, in TRAINING_SETS order."""
    used = {a.training_set for a in self.selected_approaches}
    return tuple(s for s in approaches_lib.TRAINING_SETS if s in used)

  def ingestion(self, training_set: str) -> IngestionConfig:
    """Returns the ingestion settings of one training set."""
    cap = self.max_clips
    if training_set == approaches_lib.WITH_UNBALANCED:
      cap = min(cap, self.unbalanced_cap) if cap else self.unbalanced_cap
    return IngestionConfig(
        train_pattern=TRAIN_PATTERNS[training_set], eval_pattern=EVAL_PATTERN,
        class_csv=self.class_csv or join(self.data_root, features.CLASS_CSV),
        max_train_clips=cap, max_eval_clips=self.max_clips, target=self.target)

  def custom_config(self, approach: approaches_lib.Approach,
                    class_names: Tuple[str, ...]) -> dict:
    """Returns the Trainer ``custom_config`` of ``approach``."""
    config = {'approach': approach.name, 'model_name': approach.model_name,
              'class_names': list(class_names), 'target': self.target,
              code_version.KEY: code_version.current(),
              **approach.hyperparameters,
              **self.hyperparameters}
    if self.epochs is not None:
      config['epochs'] = self.epochs
    return config


def join(root: str, *parts: str) -> str:
  """Joins path parts with '/' (works for local paths and gs:// URIs alike)."""
  return '/'.join([root.rstrip('/'), *parts])
