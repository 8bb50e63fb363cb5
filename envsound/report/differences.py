"""The difference of two models' validation accuracies, with its standard error."""

import dataclasses
import math

import numpy as np

from envsound.report.scores import Scores


@dataclasses.dataclass(frozen=True)
class Difference:
  """``value`` = accuracy of a minus accuracy of b, ± ``standard_error``.

  Attributes:
    clips: clips it was measured on (the shared ones when paired, else the fewer).
    paired: on the same clips (the sd of the per-clip correctness difference / sqrt(clips));
      else unpaired (both binomial standard errors in quadrature).
  """
  value: float
  standard_error: float
  clips: int
  paired: bool

  @property
  def beyond_two_se(self) -> bool:
    return abs(self.value) > 2 * self.standard_error

  def text(self) -> str:
    """'+0.031 ± 0.012 (paired, 1,034 shared clips)'."""
    how = (f'paired, {self.clips:,} shared clips' if self.paired
           else f'unpaired, {self.clips:,} clips')
    return f'{self.value:+.3f} ± {self.standard_error:.3f} ({how})'


def accuracy_difference(a: Scores, b: Scores) -> Difference:
  """a's accuracy minus b's: paired over the clips both were run on when both have
  ``clip_correct`` and share at least two clips, else unpaired from the confusion matrices."""
  shared = (sorted(set(a.clip_correct) & set(b.clip_correct))
            if a.clip_correct is not None and b.clip_correct is not None else [])
  if len(shared) >= 2:
    d = np.array([float(a.clip_correct[c]) - float(b.clip_correct[c]) for c in shared])
    return Difference(float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d))), len(d), True)
  clips = int(min(a.confusion.sum(), b.confusion.sum()))
  return Difference(a.accuracy - b.accuracy, math.hypot(a.standard_error, b.standard_error),
                    clips, False)
