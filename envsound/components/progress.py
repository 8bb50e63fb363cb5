"""Progress events that components send through Python logging, for a console to draw.

A component announces countable work with :func:`planned` and reports each finished unit
with :func:`advanced`; both are INFO records of the ``envsound.progress`` logger that carry
a :class:`Event` in the record attribute ``EVENT_ATTRIBUTE`` (and read as plain log lines in
a log file). Events from Beam worker processes stay in those processes' logs.
"""

import dataclasses
import logging
from typing import Optional

LOGGER_NAME = 'envsound.progress'
EVENT_ATTRIBUTE = 'envsound_progress'
_LOGGER = logging.getLogger(LOGGER_NAME)
_LOGGER.setLevel(logging.INFO)


@dataclasses.dataclass(frozen=True)
class Event:
  """One progress event: a plan (``total`` units ahead) or a step (``done`` units more)."""
  what: str
  unit: str
  total: Optional[int] = None
  done: int = 0
  note: str = ''


def planned(what: str, total: int, unit: str) -> None:
  """Announces ``total`` units of work called ``what`` (e.g. 'ingestion', 12, 'file')."""
  _LOGGER.info('%s: %d %s(s) to go', what, total, unit,
               extra={EVENT_ATTRIBUTE: Event(what, unit, total=total)})


def advanced(what: str, unit: str, done: int = 1, note: str = '') -> None:
  """Reports ``done`` more units of ``what`` finished; ``note`` is a short status."""
  _LOGGER.info('%s: %d more %s(s) done %s', what, done, unit, note,
               extra={EVENT_ATTRIBUTE: Event(what, unit, done=done, note=note)})
