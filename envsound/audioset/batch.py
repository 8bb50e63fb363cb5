"""A batch of checked records: each serialized record as read, beside its parsed fields.

The reader hands these out so that a caller can keep a record as it was read (no decode and
re-encode round trip) while working on its fields as arrays.
"""

import dataclasses
from typing import List, Optional, Sequence

import numpy as np

from envsound.core.records import Clip


@dataclasses.dataclass(frozen=True)
class RecordBatch:
  """Valid records of one file, in file order, and their fields.

  ``raw[i]`` is record ``i`` as serialized in the file. Labels and frames are flat with
  row splits: record ``i`` has ``labels[label_splits[i]:label_splits[i + 1]]`` and frames
  ``frames[frame_splits[i]:frame_splits[i + 1]]``. ``end_given[i]`` is false where the
  record had no (or a NaN) end time, and ``end_times[i]`` then is start + frames.
  ``path`` and ``positions`` (as the reader hands batches out): the file and each record's
  index in it, counting every record the file holds, valid or not.
  """
  raw: Sequence[bytes]
  video_ids: List[str]
  start_times: np.ndarray   # float32 [n]
  end_times: np.ndarray     # float64 [n]
  end_given: np.ndarray     # bool [n]
  labels: np.ndarray        # int64 [total labels]
  label_splits: np.ndarray  # int64 [n + 1]
  frames: np.ndarray        # uint8 [total frames, 128]
  frame_splits: np.ndarray  # int64 [n + 1]
  path: str = ''
  positions: Optional[np.ndarray] = None  # int64 [n]

  def __len__(self) -> int:
    return len(self.video_ids)

  def padded_labels(self) -> np.ndarray:
    """int64 ``[n, most labels of a record]``: each record's labels, padded with -1."""
    counts = np.diff(self.label_splits)
    out = np.full((len(self), int(counts.max(initial=0))), -1, np.int64)
    rows = np.repeat(np.arange(len(self)), counts)
    out[rows, np.arange(len(self.labels)) - np.repeat(self.label_splits[:-1], counts)] = \
        self.labels
    return out

  def clips(self) -> List[Clip]:
    """The records as Clips; each owns its frames (a kept clip holds no batch)."""
    starts, ends = self.start_times.tolist(), self.end_times.tolist()
    labels, s, f = self.labels.tolist(), self.label_splits.tolist(), self.frame_splits.tolist()
    return [Clip(self.video_ids[i], starts[i], ends[i], tuple(labels[s[i]:s[i + 1]]),
                 self.frames[f[i]:f[i + 1]].copy()) for i in range(len(self))]

  def clip(self, i: int) -> Clip:
    """Record ``i`` as a Clip."""
    s, f = self.label_splits[i:i + 2].tolist(), self.frame_splits[i:i + 2].tolist()
    return Clip(self.video_ids[i], self.start_times[i].item(), self.end_times[i].item(),
                tuple(self.labels[s[0]:s[1]].tolist()), self.frames[f[0]:f[1]].copy())

  @classmethod
  def from_clips(cls, raw: Sequence[bytes], clips: Sequence[Clip]) -> 'RecordBatch':
    """A batch of records already decoded one by one; their end times count as not given."""
    splits = lambda sizes: np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
    return cls(
        raw=list(raw), video_ids=[c.video_id for c in clips],
        start_times=np.array([c.start_time_seconds for c in clips], np.float32),
        end_times=np.array([c.end_time_seconds for c in clips], np.float64),
        end_given=np.zeros(len(clips), bool),
        labels=np.array([l for c in clips for l in c.labels], np.int64),
        label_splits=splits([len(c.labels) for c in clips]),
        frames=np.concatenate([c.embedding for c in clips]) if clips else
        np.zeros((0, 128), np.uint8),
        frame_splits=splits([c.num_frames for c in clips]))
