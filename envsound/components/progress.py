"""Progress events that components send through Python logging, for a console to draw.

A component announces countable work with :func:`planned` and reports each finished unit
with :func:`advanced`; both are INFO records of the ``envsound.progress`` logger that carry
a :class:`Event` in the record attribute ``EVENT_ATTRIBUTE`` (and read as plain log lines in
a log file). A process other than the one that draws (a Beam worker of the DirectRunner's
multi_processing mode) cannot reach its logging handlers: where the environment variable
``CHANNEL_ENV`` names a folder and the drawing process (``<folder>:<pid>``), such a process
also appends its events, one JSON line each, to ``<folder>/<its pid>.events``, which the
drawing process follows (``pipeline.progress_channel``). Elsewhere (Dataflow workers) they
stay in the workers' logs.
"""

import dataclasses
import json
import logging
import os
from typing import Optional

LOGGER_NAME = 'envsound.progress'
CHANNEL_ENV = 'ENVSOUND_PROGRESS_CHANNEL'
EVENTS_SUFFIX = '.events'
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
  event = Event(what, unit, total=total)
  _LOGGER.info('%s: %d %s(s) to go', what, total, unit, extra={EVENT_ATTRIBUTE: event})
  _to_channel(event)


def advanced(what: str, unit: str, done: int = 1, note: str = '') -> None:
  """Reports ``done`` more units of ``what`` finished; ``note`` is a short status."""
  event = Event(what, unit, done=done, note=note)
  _LOGGER.info('%s: %d more %s(s) done %s', what, done, unit, note,
               extra={EVENT_ATTRIBUTE: event})
  _to_channel(event)


def _to_channel(event: Event) -> None:
  """Appends ``event`` to this process's events file, if another process draws."""
  folder, _, pid = os.environ.get(CHANNEL_ENV, '').rpartition(':')
  if not folder or pid == str(os.getpid()):
    return
  try:
    with open(os.path.join(folder, f'{os.getpid()}{EVENTS_SUFFIX}'), 'a',
              encoding='utf-8') as f:
      f.write(json.dumps(dataclasses.asdict(event)) + '\n')
  except OSError:  # the drawing process has finished: nobody is watching
    pass
