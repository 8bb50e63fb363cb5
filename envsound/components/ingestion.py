"""Beam transforms of envsound's ingestion: AudioSet clips -> labelled, capped training sets.

Each clip is read and checked by the data layer's reader, given its environment
(``features.ENVIRONMENT_KEY``, by the taxonomy in ``envsound/schemas/``) and re-serialised
in AudioSet's SequenceExample layout. Clips are dropped, and counted by reason, when they
are malformed (one of the reader's problem kinds), have no environment, come from a video
of the validation split, or exceed their environment's cap.
"""

import hashlib
import logging
import os
import tempfile
from typing import Dict, Iterable, List, Optional, Tuple

import apache_beam as beam
import tensorflow as tf

from envsound.audioset import decode, reader
from envsound.core import features, records
from envsound.core.caps import fair_caps

UNASSIGNED = 'unassigned'
VIDEO_IN_EVAL = 'video_in_eval'
OVER_CAP = 'over_cap'
KEPT = 'kept'
DROP_REASONS = (*reader.PROBLEM_KINDS, UNASSIGNED, VIDEO_IN_EVAL, OVER_CAP)
_METRICS_NAMESPACE = 'envsound_ingestion'
_DROPPED = 'dropped'


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


def sort_key(video_id: bytes, start_time: float, priority: int) -> float:
  """Returns a deterministic pseudo-random key in [priority, priority + 1) for capping."""
  digest = hashlib.sha256(video_id + b'@%.3f' % start_time).digest()
  return priority + int.from_bytes(digest[:7], 'big') / 2.0**56


def thresholds(keys: Iterable[float], cap: int) -> float:
  """Returns the largest sort key kept when at most ``cap`` of ``keys`` survive."""
  kept = sorted(keys)[:cap]
  return kept[-1] if kept else -1.0


def _matching_files(source: Tuple[str, int]):
  """(file, priority) for each file that a (glob, priority) source matches."""
  pattern, priority = source
  for match in beam.io.filesystems.FileSystems.match([pattern])[0].metadata_list:
    yield match.path, priority


class _ReadFile(beam.DoFn):
  """Reads one file with the data layer's checked reader (the record rules of
  ``envsound.audioset.decode``); emits (environment, key, video_id, record) per labelled clip
  and a drop reason (a reader problem kind, or UNASSIGNED) per dropped one."""

  def __init__(self, class_csv: str, split: str):
    self._class_csv = class_csv
    self._split = split
    self._taxonomy = None

  def setup(self):
    self._taxonomy = load_taxonomy(self._class_csv)

  def _count(self, what: str):
    beam.metrics.Metrics.counter(_METRICS_NAMESPACE, f'{self._split}_{what}').inc()

  def process(self, file_and_priority: Tuple[str, int]):
    path, priority = file_and_priority
    summary = reader.ReadSummary()
    for clip in reader.read_clips([path], len(self._taxonomy.class_labels),
                                  skip_invalid=True, summary=summary):
      env = self._taxonomy.environment_of(clip.labels)
      if env is None:
        self._count(UNASSIGNED)
        yield beam.pvalue.TaggedOutput(_DROPPED, UNASSIGNED)
        continue
      video_id = clip.video_id.encode()
      yield (env, sort_key(video_id, clip.start_time_seconds, priority), video_id,
             records.encode_clip(clip.video_id, clip.start_time_seconds,
                                 clip.end_time_seconds, clip.labels, clip.embedding, env))
    for problem in summary.problems:
      if problem.kind not in decode.RECORD_KINDS:  # the rest of the file is lost: say where
        logging.warning('ingestion skipped %s', problem)
      self._count(problem.kind)
      yield beam.pvalue.TaggedOutput(_DROPPED, problem.kind)


@beam.ptransform_fn
def ReadLabelledClips(pipeline, sources: List[Tuple[str, int]], class_csv: str,  # pylint: disable=invalid-name
                      split: str):
  """Reads TFRecord globs, each with a capping priority; returns (clips, drop reasons).

  Files are read whole, one per DoFn call, after a Reshuffle that spreads them over
  workers; every file's problems are counted by kind (see ``reader.PROBLEM_KINDS``).
  """
  labelled = (pipeline
              | 'Globs' >> beam.Create(list(sources))
              | 'MatchFiles' >> beam.FlatMap(_matching_files)
              | 'SpreadFiles' >> beam.Reshuffle()
              | 'ReadAndLabel' >> beam.ParDo(_ReadFile(class_csv, split)).with_outputs(
                  _DROPPED, main='clips'))
  return labelled.clips, labelled[_DROPPED]


@beam.ptransform_fn
def IngestSplit(pipeline, sources: List[Tuple[str, int]], class_csv: str, split: str,  # pylint: disable=invalid-name
                max_clips: Optional[int] = None, exclude_videos=None):
  """Builds one output split: serialized clips and (reason, count) pairs.

  The files are read twice when capping (once for the keys, once for the clips that stay)
  so that reading streams the clips (TFX's own ExampleGen then reshuffles what this
  returns before writing, which the DirectRunner holds in memory: about 9 KiB a kept clip).

  Args:
    pipeline: the Beam pipeline.
    sources: (TFRecord glob, priority) pairs; lower priorities are kept first when capping.
    class_csv: the release's class list (for the taxonomy).
    split: output split name (metric names, labels).
    max_clips: keep at most this many clips, fairly per environment; None keeps all.
    exclude_videos: optional singleton PCollection of a set of video ids to drop.

  Returns:
    (PCollection of serialized SequenceExamples, PCollection of (reason, count),
    singleton PCollection of the set of kept video ids).
  """
  clips, dropped = pipeline | 'Read' >> ReadLabelledClips(sources, class_csv, split)
  reasons = [dropped]
  if exclude_videos is not None:
    split_clips = clips | 'DropEvalVideos' >> beam.ParDo(
        _DropVideos(split), beam.pvalue.AsSingleton(exclude_videos)).with_outputs(
            _DROPPED, main='clips')
    clips = split_clips.clips
    reasons.append(split_clips[_DROPPED])
  if max_clips is not None:
    keys, _ = pipeline | 'ReadKeys' >> ReadLabelledClips(sources, class_csv, split)
    if exclude_videos is not None:
      keys = keys | 'DropEvalVideoKeys' >> beam.ParDo(
          _DropVideos(split), beam.pvalue.AsSingleton(exclude_videos))
    env_keys = keys | 'EnvKey' >> beam.Map(lambda c: (c[0], c[1]))
    limits = env_keys | 'Limits' >> _KeyLimits(max_clips)
    capped = clips | 'Cap' >> beam.ParDo(_Cap(split), beam.pvalue.AsSingleton(limits)).with_outputs(
        _DROPPED, main='clips')
    clips = capped.clips
    reasons.append(capped[_DROPPED])
  counts = ([clips | 'Kept' >> beam.Map(lambda _: KEPT), *reasons]
            | 'FlattenReasons' >> beam.Flatten()
            | 'CountReasons' >> beam.combiners.Count.PerElement())
  videos = clips | 'VideoIds' >> beam.Map(lambda c: c[2]) | 'VideoSet' >> beam.combiners.ToSet()
  return clips | 'Serialized' >> beam.Map(lambda c: c[3]), counts, videos


@beam.ptransform_fn
def _KeyLimits(env_keys, max_clips: int):  # pylint: disable=invalid-name
  """(env, key) pairs -> singleton {env: largest key kept} under fair caps."""
  grouped = env_keys | 'GroupKeys' >> beam.GroupByKey()
  return (grouped
          | 'Counts' >> beam.Map(lambda kv: (kv[0], list(kv[1])))
          | 'ToList' >> beam.combiners.ToList()
          | 'Thresholds' >> beam.Map(_limits_from_keys, max_clips))


def _limits_from_keys(env_keys: List[Tuple[int, List[float]]], max_clips: int
                      ) -> Dict[int, float]:
  caps = fair_caps({env: len(keys) for env, keys in env_keys}, max_clips)
  return {env: thresholds(keys, caps[env]) for env, keys in env_keys}


class _DropVideos(beam.DoFn):
  """Drops clips whose video id is in the side-input set (the validation split's videos)."""

  def __init__(self, split: str):
    self._split = split

  def process(self, clip, videos):
    if clip[2] in videos:
      beam.metrics.Metrics.counter(_METRICS_NAMESPACE, f'{self._split}_{VIDEO_IN_EVAL}').inc()
      yield beam.pvalue.TaggedOutput(_DROPPED, VIDEO_IN_EVAL)
    else:
      yield clip


class _Cap(beam.DoFn):
  """Keeps clips whose key is within their environment's limit."""

  def __init__(self, split: str):
    self._split = split

  def process(self, clip, limits):
    if clip[1] <= limits.get(clip[0], -1.0):
      yield clip
    else:
      beam.metrics.Metrics.counter(_METRICS_NAMESPACE, f'{self._split}_{OVER_CAP}').inc()
      yield beam.pvalue.TaggedOutput(_DROPPED, OVER_CAP)
