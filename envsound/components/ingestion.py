"""Beam transforms of envsound's ingestion: AudioSet clips -> labelled, capped training sets.

Each clip is read and checked by the data layer's reader, given its environment
(``features.ENVIRONMENT_KEY``, by the taxonomy in ``envsound/schemas/``) and written as it
was read with that feature added (``labelling``), a reader batch at a time. Clips are dropped,
and counted by reason, when they are malformed (one of the reader's problem kinds), have no
environment (under a target that keeps those: no label), come from a video of the validation
split, or exceed their cap group's cap (the environment's; clips without one form a group).

Files are read whole, ``FILES_PER_READ`` per DoFn call, after a Reshuffle of their names
that spreads them over workers. Nothing downstream groups the clips. A capped split is read
twice: the first read checks and labels every record and notes each candidate clip (labelled,
not from a validation video) by file, position, environment and sort key, while a combiner
keeps each environment's smallest keys (``cap_keys``); the second takes the records that stay
from their files by position (``audioset.pick``), without parsing them again. Memory stays
flat in the number of clips read: a candidate is a few numbers, not a clip.
"""

import collections
import dataclasses
import os
import tempfile
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import apache_beam as beam
import numpy as np
import tensorflow as tf

from envsound.audioset import pick, reader
from envsound.components import labelling, progress
from envsound.components.cap_keys import SmallestKeys
from envsound.core import features, targets

UNASSIGNED = labelling.UNASSIGNED
VIDEO_IN_EVAL = 'video_in_eval'
OVER_CAP = 'over_cap'
KEPT = 'kept'
DROP_REASONS = (*reader.PROBLEM_KINDS, UNASSIGNED, VIDEO_IN_EVAL, OVER_CAP)
_METRICS_NAMESPACE = 'envsound_ingestion'
_COUNTS = 'counts'
_VIDEOS = 'videos'
_KEYS = 'keys'
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


def file_groups(source: Tuple[str, int], size: int = FILES_PER_READ
                ) -> Iterator[Tuple[Tuple[str, ...], int]]:
  """(files, priority): the files a (glob, priority) source matches, ``size`` at a time."""
  pattern, priority = source
  paths = sorted(m.path for m in beam.io.filesystems.FileSystems.match([pattern])[0].metadata_list)
  for start in range(0, len(paths), size):
    yield tuple(paths[start:start + size]), priority


class _FileDoFn(beam.DoFn):
  """Base of the per-file DoFns: the taxonomy, Beam counters, a progress event per file;
  ``emit_videos`` asks for the kept video ids."""

  def __init__(self, class_csv: str, split: str, emit_videos: bool,
               target: str = targets.DEFAULT):
    self._class_csv = class_csv
    self._split = split
    self._emit_videos = emit_videos
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


@dataclasses.dataclass(frozen=True)
class Candidates:
  """Some files' candidate clips (labelled, not from a validation video): where each lies
  (``paths[files[i]]``, record ``positions[i]``), its environment (-1: none), cap group, sort
  key, whether its end time was given, and (when asked for) its video id."""
  paths: Tuple[str, ...]
  files: np.ndarray      # int32 [m]
  positions: np.ndarray  # int64 [m]
  envs: np.ndarray       # int64 [m]
  groups: np.ndarray     # int64 [m]
  keys: np.ndarray       # float64 [m]
  end_given: np.ndarray  # bool [m]
  video_ids: List[bytes]


class _FileCandidates(_FileDoFn):
  """Some files -> their Candidates; {cap group: sort keys}; (reason, count) pairs."""

  def process(self, source: Tuple[Sequence[str], int], exclude=frozenset()):
    counts = collections.Counter()
    paths = tuple(source[0])
    index = {path: i for i, path in enumerate(paths)}
    columns = collections.defaultdict(list)
    video_ids: List[bytes] = []
    for part in self._labelled(source, counts):
      stay = _outside(part.video_ids, exclude)
      counts[VIDEO_IN_EVAL] += int((~stay).sum())
      columns['files'].append(np.full(int(stay.sum()), index[part.batch.path], np.int32))
      for name in ('positions', 'envs', 'groups', 'keys', 'end_given'):
        columns[name].append(getattr(part, name)[stay])
      if self._emit_videos:
        video_ids.extend(v for v, s in zip(part.video_ids, stay) if s)
    empty = {'files': np.int32, 'positions': np.int64, 'envs': np.int64, 'groups': np.int64,
             'keys': np.float64, 'end_given': bool}
    found = Candidates(paths=paths, video_ids=video_ids, **{
        name: np.concatenate(columns[name]) if columns[name] else np.zeros(0, dtype)
        for name, dtype in empty.items()})
    yield found
    yield beam.pvalue.TaggedOutput(_KEYS, {int(group): found.keys[found.groups == group]
                                           for group in np.unique(found.groups)})
    yield from _tagged_counts(counts)
    self._done(paths, counts)


class _PickClips(_FileDoFn):
  """Candidates -> the records of those kept by ``limits``; (reason, count) pairs; kept
  video ids if asked."""

  def process(self, found: Candidates, limits):
    kept = found.keys <= _limits_of(limits, found.groups)
    num_classes = len(self._taxonomy.class_labels)
    for f in np.unique(found.files[kept]):
      rows = np.flatnonzero(kept & (found.files == f))
      raws = pick.records_at(found.paths[f], found.positions[rows])
      for row, raw in zip(rows.tolist(), raws):
        if self._emit_videos:
          yield beam.pvalue.TaggedOutput(_VIDEOS, found.video_ids[row])
        yield labelling.labelled_record(raw, int(found.envs[row]), bool(found.end_given[row]),
                                        num_classes)
    counts = collections.Counter({OVER_CAP: int((~kept).sum()), KEPT: int(kept.sum())})
    yield from _tagged_counts(counts)
    self._done(found.paths, counts)


def _tagged_counts(counts: collections.Counter):
  for reason_count in counts.items():
    if reason_count[1]:
      yield beam.pvalue.TaggedOutput(_COUNTS, reason_count)


class _FileClips(_FileDoFn):
  """Some files of an uncapped split -> serialized clips kept; (reason, count) pairs; kept
  video ids if asked."""

  def process(self, source: Tuple[Sequence[str], int], exclude=frozenset()):
    counts = collections.Counter()
    for part in self._labelled(source, counts):
      kept = _outside(part.video_ids, exclude)
      counts[VIDEO_IN_EVAL] += int((~kept).sum())
      counts[KEPT] += int(kept.sum())
      for i in np.flatnonzero(kept):
        if self._emit_videos:
          yield beam.pvalue.TaggedOutput(_VIDEOS, part.video_ids[i])
        yield part.serialized(i)
    yield from _tagged_counts(counts)
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
  if max_clips is None:
    out = files | 'ReadClips' >> beam.ParDo(
        _FileClips(class_csv, split, emit_videos, target), **side).with_outputs(
            _COUNTS, _VIDEOS, main='clips')
    counts = out[_COUNTS]
  else:
    found = files | 'ReadCandidates' >> beam.ParDo(
        _FileCandidates(class_csv, split, emit_videos, target), **side).with_outputs(
            _COUNTS, _KEYS, main='candidates')
    limits = found[_KEYS] | 'Limits' >> beam.CombineGlobally(SmallestKeys(max_clips))
    out = found.candidates | 'PickClips' >> beam.ParDo(
        _PickClips(class_csv, split, emit_videos, target),
        limits=beam.pvalue.AsSingleton(limits)).with_outputs(_COUNTS, _VIDEOS, main='clips')
    counts = (found[_COUNTS], out[_COUNTS]) | 'AllReasons' >> beam.Flatten()
  counts = counts | 'CountReasons' >> beam.CombinePerKey(sum)
  videos = out[_VIDEOS] | 'VideoSet' >> beam.combiners.ToSet()
  return out.clips, counts, videos
