"""Reads AudioSet clips from TFRecord files, checking every record.

Speed: one ``tf.data`` pipeline over all the files yields batches of raw records (each batch
from one file), which a batched ``tf.io.parse_sequence_example`` parses and numpy checks.
A batch that fails any check is parsed again record by record with protobuf, which names
the problem. A read error (bad checksum, truncated record, not a TFRecord file) is located by
reading the file again from the last good record. TensorFlow silently stops at a partial
record header, so every file's bytes are accounted for as well: its records plus 16 bytes of
framing each must add up to its size.
"""

import collections
import dataclasses
import os
import re
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np

from envsound.audioset import decode
from envsound.audioset.batch import RecordBatch
from envsound.core.records import Clip
from envsound.core.errors import InvalidInputError

# Kinds of file-level problem (the record-level ones are decode.RECORD_KINDS).
EMPTY_FILE = 'empty_file'
NOT_TFRECORD = 'not_tfrecord'
TRUNCATED = 'truncated'
BAD_CHECKSUM = 'bad_checksum'
UNREADABLE = 'unreadable'
PROBLEM_KINDS = (EMPTY_FILE, NOT_TFRECORD, TRUNCATED, BAD_CHECKSUM, UNREADABLE,
                 *decode.RECORD_KINDS)
FRAMING_BYTES = 16  # per record: length (8 bytes), its CRC (4), the data's CRC (4)
BATCH_SIZE = 512


@dataclasses.dataclass(frozen=True)
class Problem:
  """One bad file or record: where (record index within the file), what kind, why."""
  path: str
  record: Optional[int]
  kind: str
  reason: str
  field: Optional[str] = None

  def error(self) -> InvalidInputError:
    return InvalidInputError(self.path, self.reason, record=self.record, field=self.field)

  def __str__(self) -> str:
    return str(self.error())


@dataclasses.dataclass
class ReadSummary:
  """What a read saw; with ``skip_invalid`` the problems it skipped."""
  files: int = 0
  bytes: int = 0
  records: int = 0  # records read, valid or not
  clips: int = 0    # valid clips yielded
  problems: List[Problem] = dataclasses.field(default_factory=list)

  def counts(self) -> Dict[str, int]:
    """Problems per kind, in PROBLEM_KINDS order (kinds seen only)."""
    seen = collections.Counter(p.kind for p in self.problems)
    return {k: seen[k] for k in PROBLEM_KINDS if seen[k]}


def _size(path: str) -> int:
  """Bytes in ``path``, a local path or a URI TensorFlow's file systems read (gs://)."""
  if '://' not in path:
    return os.path.getsize(path)
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  try:
    return tf.io.gfile.stat(path).length
  except tf.errors.OpError as e:
    raise OSError(e.message) from None


def _read_failure(error, offset: int):
  """(kind, reason) for a TFRecord read error at byte ``offset``."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  message = re.sub(r'\{\{[^}]*\}\}\s*|\s*\[Op:.*$', '', error.message.splitlines()[0]).strip()
  if not isinstance(error, tf.errors.DataLossError):
    return UNREADABLE, f'cannot read: {message}'
  if 'Is this even a TFRecord' in message:
    return NOT_TFRECORD, 'not a TFRecord file (bad length checksum at byte 0)'
  if 'truncated record' in message:
    return TRUNCATED, f'truncated: the record at byte {offset} is incomplete'
  return BAD_CHECKSUM, (f'corrupted: the record at byte {offset} fails its checksum; the '
                        'rest of the file cannot be read')


class _Reader:
  """One read over a list of files (see :func:`read_clips`)."""

  def __init__(self, files, num_classes, skip_invalid, summary, progress, batch_size):
    self.files = [str(f) for f in files]
    self.num_classes = num_classes
    self.skip_invalid = skip_invalid
    self.summary = summary
    self.progress = progress or (lambda n: None)
    self.batch_size = batch_size

  def problem(self, path: str, record: Optional[int], kind: str, reason: str,
              field: Optional[str] = None) -> None:
    found = Problem(path, record, kind, reason, field)
    if not self.skip_invalid:
      raise found.error()
    self.summary.problems.append(found)

  def consumed(self, nbytes: int) -> None:
    self.summary.bytes += nbytes
    self.progress(nbytes)

  def records(self, k: int, first: int, raws) -> Iterator[RecordBatch]:
    """Decodes records one by one (the exact path), reporting each bad one."""
    valid, clips, positions = [], [], []
    for i, raw in enumerate(raws):
      self.summary.records += 1
      try:
        clips.append(decode.decode_record(raw, self.num_classes))
      except decode.RecordError as bad:
        self.problem(self.files[k], first + i, bad.kind, bad.reason, bad.field)
        continue
      valid.append(raw)
      positions.append(first + i)
    self.summary.clips += len(clips)
    if clips:
      yield dataclasses.replace(RecordBatch.from_clips(valid, clips), path=self.files[k],
                                positions=np.array(positions, np.int64))

  def batch(self, k: int, first: int, records) -> Iterator[RecordBatch]:
    checked = decode.check_batch(records, self.num_classes)
    if checked is None:
      yield from self.records(k, first, records.numpy())
      return
    self.summary.records += len(checked)
    self.summary.clips += len(checked)
    yield dataclasses.replace(checked, path=self.files[k],
                              positions=np.arange(first, first + len(checked), dtype=np.int64))

  def finish(self, k: int, records: int, nbytes: int) -> None:
    """Closes file ``k`` after a clean read: its bytes must all belong to records."""
    self.summary.files += 1
    path = self.files[k]
    try:
      size = _size(path)
    except OSError as e:
      self.problem(path, None, UNREADABLE, f'cannot read ({e.strerror or e})')
      return
    self.consumed(max(0, size - nbytes))
    if size == 0:
      self.problem(path, None, EMPTY_FILE, 'empty file (0 bytes, no records)')
    elif nbytes < size and records == 0:
      self.problem(path, 0, NOT_TFRECORD, f'not a TFRecord file ({size} bytes, no complete '
                                          'record)')
    elif nbytes < size:
      self.problem(path, records, TRUNCATED, f'truncated: the last {size - nbytes} bytes '
                                             f'(from byte {nbytes}) are not a whole record')

  def dataset(self, start: int):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    index = tf.range(start, len(self.files), dtype=tf.int64)
    batch = self.batch_size
    return tf.data.Dataset.from_tensor_slices((index, self.files[start:])).flat_map(
        lambda i, path: tf.data.TFRecordDataset(path).batch(batch).map(
            lambda b: (i, b, tf.reduce_sum(tf.strings.length(b))))).prefetch(2)

  def fast(self, start: int):
    """Reads files[start:] in one pipeline; returns where to go on after a read error."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    iterator = iter(self.dataset(start))
    k, records, nbytes = start, 0, 0
    while True:
      try:
        i, batch, size = next(iterator)
      except StopIteration:
        break
      except tf.errors.OpError:  # found again, with its file and record, by re-reading
        return (yield from self.locate(k, records, nbytes))
      for j in range(k, int(i)):  # files done (or that yielded no batch at all)
        self.finish(j, records if j == k else 0, nbytes if j == k else 0)
        records, nbytes = 0, 0
      k = int(i)
      yield from self.batch(k, records, batch)
      n = int(batch.shape[0])
      records += n
      nbytes += int(size) + FRAMING_BYTES * n
      self.consumed(int(size) + FRAMING_BYTES * n)
    for j in range(k, len(self.files)):
      self.finish(j, records if j == k else 0, nbytes if j == k else 0)
    return len(self.files)

  def locate(self, k: int, records: int, nbytes: int) -> int:
    """After a read error: re-reads file ``k`` from record ``records`` on, one at a time.

    Yields the records up to the error and reports it (a clean re-read means the error lay
    in a later file, which the restarted pipeline meets again); returns the next file.
    """
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    raws, failure = [], None
    try:
      for raw in tf.data.TFRecordDataset(self.files[k]).skip(records):
        raws.append(raw.numpy())
    except tf.errors.OpError as e:
      failure = e
    yield from self.records(k, records, raws)
    read = sum(len(r) for r in raws) + FRAMING_BYTES * len(raws)
    self.consumed(read)
    if failure is None:
      self.finish(k, records + len(raws), nbytes + read)
      return k + 1
    self.summary.files += 1
    kind, reason = _read_failure(failure, nbytes + read)
    try:
      self.consumed(max(0, _size(self.files[k]) - nbytes - read))
    except OSError:
      pass
    self.problem(self.files[k], records + len(raws), kind, reason)
    return k + 1

  def batches(self) -> Iterator[RecordBatch]:
    start = 0
    while start < len(self.files):
      start = yield from self.fast(start)


def read_clips(files: Sequence, num_classes: int, *, skip_invalid: bool = False,
               summary: Optional[ReadSummary] = None,
               progress: Optional[Callable[[int], None]] = None,
               batch_size: int = BATCH_SIZE) -> Iterator[Clip]:
  """Yields the clips of AudioSet TFRecord files, in file order, checking every record.

  Args:
    files: TFRecord files of SequenceExamples (AudioSet's layout, see ``records``).
    num_classes: rows of the class list; label indices must lie in 0..num_classes-1.
    skip_invalid: skip bad records (and the unreadable rest of a corrupt file) and note
      them in ``summary`` instead of raising.
    summary: a ReadSummary to fill in (files, bytes, records, clips, problems).
    progress: called with the number of bytes each step consumed (for progress bars).
    batch_size: records parsed together.

  Yields:
    records.Clip, one per valid record.

  Raises:
    InvalidInputError: (without ``skip_invalid``) at the first bad file or record, naming
      the file, the record index within it and, where it applies, the field.
  """
  for batch in read_batches(files, num_classes, skip_invalid=skip_invalid, summary=summary,
                           progress=progress, batch_size=batch_size):
    yield from batch.clips()


def read_batches(files: Sequence, num_classes: int, *, skip_invalid: bool = False,
                 summary: Optional[ReadSummary] = None,
                 progress: Optional[Callable[[int], None]] = None,
                 batch_size: int = BATCH_SIZE) -> Iterator[RecordBatch]:
  """:func:`read_clips` by batches: the valid records of up to ``batch_size`` read records
  of one file, each as serialized in the file beside its checked fields, its file and its
  position in that file.
  """
  summary = summary if summary is not None else ReadSummary()
  return _Reader(files, num_classes, skip_invalid, summary, progress, batch_size).batches()
