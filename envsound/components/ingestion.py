"""Beam transforms of envsound's ingestion: AudioSet clips -> labelled, capped training sets.

Each clip is read and checked by the data layer's reader, given its environment
(``features.ENVIRONMENT_KEY``, by the taxonomy in ``envsound/schemas/``) and written as it
was read with that feature added (``labelling``), a reader batch at a time. Clips are dropped,
and counted by reason, when they are malformed (one of the reader's problem kinds), have no
environment (under a target that keeps those: no label), come from a video of the validation
split, or exceed their cap group's cap (the environment's; clips without one form a group).

Files are read whole, ``FILES_PER_READ`` per DoFn call, after a Reshuffle of their names
that spreads them over workers. Nothing downstream groups the clips: a capped split is read
twice (once for the sort keys, whose per-environment smallest ``max_clips`` a combiner keeps,
once for the clips that stay), so memory stays flat in the number of clips read.
"""

import collections
import os
import tempfile
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np
import tensorflow as tf

from envsound.audioset import reader
from envsound.components import labelling, progress
from envsound.core import features, targets
from envsound.core.caps import fair_caps

UNASSIGNED = labelling.UNASSIGNED
VIDEO_IN_EVAL = 'video_in_eval'
OVER_CAP = 'over_cap'
KEPT = 'kept'
DROP_REASONS = (*reader.PROBLEM_KINDS, UNASSIGNED, VIDEO_IN_EVAL, OVER_CAP)
_METRICS_NAMESPACE = 'envsound_ingestion'
_COUNTS = 'counts'
_VIDEOS = 'videos'
PROGRESS = 'ingestion'  # progress events: one per group of files read
# Files read by one reader call: each call builds and traces a tf.data pipeline (~0.1-0.5 s),
# so one call per file would cost more than the parsing of a 1,000-clip file.
FILES_PER_READ = 16


def load_taxonomy(class_csv: str):
  """Loads the bundled taxonomy against a release's class list (local path or gs:// URI)."""
  # pylint: disable=import-outside-toplevel
  from envsound.core.labels import load_class_labels
  from envsound.core.taxonomy import load_taxonomy as load
  if '://' not in class_csv:
    return load(class_labels=load_class_labels(class_csv))
  with tempfile.TemporaryDirectory() as tmp:
    local = os.path.join(tmp, features.CLASS_CSV)
    tf.io.gfile.copy(class_csv, local)
    return load(class_labels=load_class_labels(local))


def thresholds(keys: Iterable[float], cap: int) -> float:
  """Returns the largest sort key kept when at most ``cap`` of ``keys`` survive."""
  kept = sorted(keys)[:cap]
  return kept[-1] if kept else -1.0


def file_groups(source: Tuple[str, int], size: int = FILES_PER_READ
                ) -> Iterator[Tuple[Tuple[str, ...], int]]:
  """(files, priority): the files a (glob, priority) source matches, ``size`` at a time."""
  pattern, priority = source
  paths = sorted(m.path for m in beam.io.filesystems.FileSystems.match([pattern])[0].metadata_list)
  for start in range(0, len(paths), size):
    yield tuple(paths[start:start + size]), priority


class _FileDoFn(beam.DoFn):
  """Base of the per-file DoFns: the taxonomy, Beam counters, a progress event per file."""

  def __init__(self, class_csv: str, split: str, target: str = targets.DEFAULT):
    self._class_csv = class_csv
    self._split = split
    self._keep_unassigned = targets.by_name(target).keep_unassigned
    self._taxonomy = None

  def setup(self):
    self._taxonomy = load_taxonomy(self._class_csv)

  def _labelled(self, source, counts: collections.Counter):
    return labelling.labelled_batches(*source, self._taxonomy, counts, self._keep_unassigned)

  def _done(self, paths: Sequence[str], counts: collections.Counter) -> None:
    for reason, n in counts.items():
      beam.metrics.Metrics.counter(_METRICS_NAMESPACE, f'{self._split}_{reason}').inc(n)
    progress.advanced(PROGRESS, 'file', done=len(paths), note=os.path.basename(paths[-1]))


class _FileKeys(_FileDoFn):
  """Some files -> {cap group: sort keys} of their labelled clips outside ``exclude``."""

  def process(self, source: Tuple[Sequence[str], int], exclude=frozenset()):
    keys: Dict[int, List[np.ndarray]] = collections.defaultdict(list)
    for part in self._labelled(source, collections.Counter()):
      stay = _outside(part.video_ids, exclude)
      for group in np.unique(part.groups[stay]):
        keys[int(group)].append(part.keys[stay & (part.groups == group)])
    yield {env: np.concatenate(k) for env, k in keys.items()}
    self._done(source[0], collections.Counter())  # drops are counted by the clip pass


class _FileClips(_FileDoFn):
  """Some files -> serialized clips kept; (reason, count) pairs; kept video ids if asked."""

  def __init__(self, class_csv: str, split: str, emit_videos: bool,
               target: str = targets.DEFAULT):
    super().__init__(class_csv, split, target)
    self._emit_videos = emit_videos

  def process(self, source: Tuple[Sequence[str], int], limits=None, exclude=frozenset()):
    counts = collections.Counter()
    for part in self._labelled(source, counts):
      outside = _outside(part.video_ids, exclude)
      kept = outside.copy()
      if limits is not None:
        kept &= part.keys <= _limits_of(limits, part.groups)
      counts[VIDEO_IN_EVAL] += int((~outside).sum())
      counts[OVER_CAP] += int((outside & ~kept).sum())
      counts[KEPT] += int(kept.sum())
      for i in np.flatnonzero(kept):
        if self._emit_videos:
          yield beam.pvalue.TaggedOutput(_VIDEOS, part.video_ids[i])
        yield part.serialized(i)
    for reason_count in counts.items():
      if reason_count[1]:
        yield beam.pvalue.TaggedOutput(_COUNTS, reason_count)
    self._done(source[0], counts)


def _outside(video_ids: List[bytes], exclude) -> np.ndarray:
  """bool [len(video_ids)]: true where the video is not in ``exclude``."""
  return np.array([v not in exclude for v in video_ids], bool) if exclude else \
      np.ones(len(video_ids), bool)


def _limits_of(limits: Dict[int, float], groups: np.ndarray) -> np.ndarray:
  """Each cap group's largest sort key kept (-1: none kept)."""
  table = np.full(int(groups.max(initial=-1)) + 1, -1.0)
  for group, limit in limits.items():
    if group < len(table):
      table[group] = limit
  return table[groups]


class _SmallestKeys(beam.CombineFn):
  """Per environment: how many keys, and the ``cap`` smallest (the only ones a cap keeps).

  The accumulator maps an environment to [count, arrays of keys, keys held]; the arrays are
  cut back to the ``cap`` smallest whenever they hold more than twice that.
  """

  def __init__(self, cap: int):
    self._cap = cap

  def create_accumulator(self):
    return {}

  def _add(self, accumulator, env: int, count: int, arrays: List[np.ndarray]):
    entry = accumulator.setdefault(env, [0, [], 0])
    entry[0] += count
    entry[1].extend(arrays)
    entry[2] += sum(len(a) for a in arrays)
    if entry[2] > 2 * self._cap:
      keys = np.concatenate(entry[1])
      entry[1] = [np.partition(keys, self._cap - 1)[:self._cap]]
      entry[2] = self._cap
    return accumulator

  def add_input(self, accumulator, keys: Dict[int, np.ndarray]):
    for env, k in keys.items():
      self._add(accumulator, env, len(k), [k])
    return accumulator

  def merge_accumulators(self, accumulators):
    accumulators = iter(accumulators)
    merged = next(accumulators, {})
    for accumulator in accumulators:
      for env, (count, arrays, _) in accumulator.items():
        self._add(merged, env, count, arrays)
    return merged

  def extract_output(self, accumulator) -> Dict[int, float]:
    caps = fair_caps({env: entry[0] for env, entry in accumulator.items()}, self._cap)
    return {env: thresholds(np.concatenate(arrays), caps[env])
            for env, (_, arrays, _) in accumulator.items()}


def count_file_reads(sources: List[Tuple[str, int]], capped: bool) -> int:
  """How many file reads ingesting ``sources`` takes (two per file when capped)."""
  files = sum(len(tf.io.gfile.glob(pattern)) for pattern, _ in sources)
  return files * (2 if capped else 1)


@beam.ptransform_fn
def IngestSplit(pipeline, sources: List[Tuple[str, int]], class_csv: str, split: str,  # pylint: disable=invalid-name
                max_clips: Optional[int] = None, exclude_videos=None, emit_videos=True,
                target: str = targets.DEFAULT):
  """Builds one output split: serialized clips, (reason, count) pairs, kept video ids.

  Args:
    pipeline: the Beam pipeline.
    sources: (TFRecord glob, priority) pairs; lower priorities are kept first when capping.
    class_csv: the release's class list (for the taxonomy).
    split: output split name (metric names, labels).
    max_clips: keep at most this many clips, fairly per environment; None keeps all.
    exclude_videos: optional singleton PCollection of a set of video ids to drop.
    emit_videos: return the kept video ids (else an empty set).
    target: the run's target (``core.targets``): which clips are kept.

  Returns:
    (PCollection of serialized SequenceExamples, PCollection of (reason, count),
    singleton PCollection of the set of kept video ids).
  """
  files = (pipeline
           | 'Globs' >> beam.Create(list(sources))
           | 'MatchFiles' >> beam.FlatMap(file_groups)
           | 'SpreadFiles' >> beam.Reshuffle())
  side = {}
  if exclude_videos is not None:
    side['exclude'] = beam.pvalue.AsSingleton(exclude_videos)
  if max_clips is not None:
    limits = (files
              | 'ReadKeys' >> beam.ParDo(_FileKeys(class_csv, split, target), **side)
              | 'Limits' >> beam.CombineGlobally(_SmallestKeys(max_clips)))
    side['limits'] = beam.pvalue.AsSingleton(limits)
  out = files | 'ReadClips' >> beam.ParDo(
      _FileClips(class_csv, split, emit_videos, target), **side).with_outputs(
          _COUNTS, _VIDEOS, main='clips')
  counts = out[_COUNTS] | 'CountReasons' >> beam.CombinePerKey(sum)
  videos = out[_VIDEOS] | 'VideoSet' >> beam.combiners.ToSet()
  return out.clips, counts, videos
