"""Picks records out of a TFRecord file by position, as serialized, without parsing them.

A second pass over files whose records were already checked (``reader.read_batches`` gives
each record's position) needs only their bytes: TensorFlow's C++ record reader hands them
out one by one (no tf.data pipeline to build per file), checksums checked, and nothing past
the last position wanted is read.
"""

from typing import List, Sequence

import numpy as np

from envsound.core.errors import InvalidInputError


def records_at(path: str, positions: Sequence[int]) -> List[bytes]:
  """The records at ``positions`` (indices among all the file's records), in that order.

  Raises:
    InvalidInputError: the file cannot be read up to the last position (it changed since
      the positions were taken).
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  positions = np.asarray(positions, np.int64)
  if not len(positions):
    return []
  order = np.argsort(positions, kind='stable')
  wanted = positions[order]
  found: List[bytes] = [b''] * len(wanted)
  done, position = 0, 0
  try:
    for position, record in enumerate(tf.compat.v1.io.tf_record_iterator(path)):
      while done < len(wanted) and wanted[done] == position:
        found[done] = record
        done += 1
      if done == len(wanted):
        break
  except tf.errors.OpError as e:
    raise InvalidInputError(path, f'cannot be read again ({e.message.splitlines()[0]})',
                            record=int(wanted[done])) from None
  if done < len(wanted):
    raise InvalidInputError(path, f'the file holds only {position + 1} records now (it '
                                  'changed since it was checked)', record=int(wanted[done]))
  out: List[bytes] = [b''] * len(wanted)
  for i, j in enumerate(order):
    out[j] = found[i]
  return out
