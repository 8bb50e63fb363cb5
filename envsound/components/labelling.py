"""The labelled records of a read: environments, capping sort keys, the records to write.

Which clips are kept depends on the target (``core.targets``): those in an environment, or,
where the target keeps unassigned clips, every clip with at least one label (written without
``environment`` when it has none, and capped as one more group beside the environments).
Works a reader batch at a time: the environments come from the taxonomy's vectorised
``environments_of``; each kept record is written as it was read plus its ``environment``
(``records.with_environment``), so no clip is decoded and encoded again.
"""

import collections
import dataclasses
import hashlib
import logging
from typing import Iterator, List, Sequence

import numpy as np

from envsound.audioset import decode, reader
from envsound.core import records

UNASSIGNED = 'unassigned'


def sort_key(video_id: bytes, start_time: float, priority: int) -> float:
  """Returns a deterministic pseudo-random key in [priority, priority + 1) for capping."""
  digest = hashlib.sha256(video_id + b'@%.3f' % start_time).digest()
  return priority + int.from_bytes(digest[:7], 'big') / 2.0**56


@dataclasses.dataclass(frozen=True)
class Labelled:
  """The labelled records of one ``reader.RecordBatch``: which, their environments (-1:
  none), cap groups, sort keys and video ids."""
  batch: object       # reader.RecordBatch
  rows: np.ndarray    # int [m]: indices into the batch
  envs: np.ndarray    # int64 [m]
  keys: np.ndarray    # float64 [m]
  video_ids: List[bytes]
  groups: np.ndarray  # int64 [m]: the cap's group: the environment, or len(taxonomy) for none

  @property
  def positions(self) -> np.ndarray:
    """int64 [m]: each labelled record's position in its file."""
    return self.batch.positions[self.rows]

  @property
  def end_given(self) -> np.ndarray:
    """bool [m]: false where the record has no end time (it is encoded again when kept)."""
    return self.batch.end_given[self.rows]

  def serialized(self, i: int) -> bytes:
    """Labelled record ``i`` with its environment: as read, or encoded again where its
    end time was not given (ingested records always hold one)."""
    row, batch = self.rows[i], self.batch
    return _written(batch.raw[row], int(self.envs[i]), bool(batch.end_given[row]),
                    lambda: batch.clip(row))


def labelled_record(raw: bytes, environment: int, end_given: bool, num_classes: int) -> bytes:
  """A checked record ``raw`` as :meth:`Labelled.serialized` writes it, from its bytes
  (``environment`` -1: none)."""
  return _written(raw, environment, end_given, lambda: decode.decode_record(raw, num_classes))


def _written(raw: bytes, environment: int, end_given: bool, clip) -> bytes:
  """``raw`` with ``environment`` added (-1: none, written as read), or encoded again from
  ``clip()`` where its end time was not given."""
  env = environment if environment >= 0 else None
  if end_given:
    return raw if env is None else records.with_environment(raw, env)
  c = clip()
  return records.encode_clip(c.video_id, c.start_time_seconds, c.end_time_seconds, c.labels,
                             c.embedding, env)


def labelled_batches(paths: Sequence[str], priority: int, taxonomy, counts: collections.Counter,
                     keep_unassigned: bool = False) -> Iterator[Labelled]:
  """Yields the labelled records of some files, a batch at a time.

  Every dropped clip (a reader problem kind, or UNASSIGNED: no environment, or with
  ``keep_unassigned`` no label at all) is added to ``counts``.
  """
  summary = reader.ReadSummary()
  for batch in reader.read_batches(paths, len(taxonomy.class_labels), skip_invalid=True,
                                   summary=summary):
    envs = taxonomy.environments_of(batch.padded_labels())
    rows = np.flatnonzero(np.diff(batch.label_splits) > 0 if keep_unassigned else envs >= 0)
    counts[UNASSIGNED] += len(batch) - len(rows)
    starts = batch.start_times.tolist()
    ids = [batch.video_ids[i].encode() for i in rows]
    keys = np.array([sort_key(v, starts[i], priority) for v, i in zip(ids, rows)], np.float64)
    yield Labelled(batch, rows, envs[rows], keys, ids,
                   np.where(envs[rows] >= 0, envs[rows], len(taxonomy)))
  for problem in summary.problems:
    if problem.kind not in decode.RECORD_KINDS:  # the rest of the file is lost: say where
      logging.warning('ingestion skipped %s', problem)
    counts[problem.kind] += 1
