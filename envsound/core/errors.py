"""User-facing errors: the CLI prints them on one line, without a traceback."""

from typing import Optional


class EnvsoundError(Exception):
  """An error caused by the user's input or environment, not by a bug."""


class InvalidInputError(EnvsoundError):
  """Bad input data; names the file and, where known, the record and field."""

  def __init__(self, path, reason: str, record: Optional[int] = None,
               field: Optional[str] = None):
    self.path = str(path)
    self.reason = reason
    self.record = record
    self.field = field
    where = self.path
    if record is not None:
      where += f', record {record}'
    if field is not None:
      where += f', field {field!r}'
    super().__init__(f'{where}: {reason}')
