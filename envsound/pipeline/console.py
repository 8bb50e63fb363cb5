"""The console of ``envsound pipeline run``: one line per component, progress bars, a log file.

While a :class:`Console` is open, file descriptors 1 and 2 point at a log file under the
pipeline root, so library warnings, absl and TensorFlow C++ logs, Keras epoch lines and
``print`` output land there; the console writes to a duplicate of the original stdout.
A logging handler follows LocalDagRunner's 'Component <id> is running/finished' records
and envsound's progress events (``components.progress``; those of Beam's worker processes
through ``progress_channel``) and, when a component ends, reads
its status and key counts from ML Metadata (``pipeline.outcomes``). With ``verbose`` the
descriptors stay as they are (logs show live) and Python logging is copied to the log file.
"""

import datetime
import logging
import os
import pathlib
import sys
import textwrap
import time
from typing import Dict, Optional, Sequence

from envsound.components import progress
from envsound.pipeline import outcomes, progress_channel

_RUNNING = 'Component %s is running.'
_FINISHED = 'Component %s is finished.'
_WIDTH = 100


def log_path(pipeline_root: str) -> pathlib.Path:
  """A new log file name under ``<pipeline_root>/logs`` (``runs/logs`` for a remote root)."""
  folder = (pathlib.Path('runs') if '://' in pipeline_root else pathlib.Path(pipeline_root))
  stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
  return (folder / 'logs' / f'run-{stamp}-{os.getpid()}.log').resolve()


def error_paragraph(error: BaseException, limit: int = 600) -> str:
  """The error as one paragraph: type, message with whitespace folded, cut at ``limit``."""
  text = ' '.join(f'{type(error).__name__}: {error}'.split())
  return text if len(text) <= limit else text[:limit - 3] + '...'


class Console(logging.Handler):
  """Draws a pipeline run; use as a context manager around the run."""

  def __init__(self, pipeline_root: str, *, verbose: bool = False, stream=None):
    super().__init__(logging.INFO)
    self.path = log_path(pipeline_root)
    self._verbose = verbose
    self._stream = stream
    self._saved_fds = None
    self._log = None
    self._ids: Sequence[str] = ()
    self._store = None
    self._metadata = ''
    self._file_handler = None
    self._absl_verbosity = 0
    self._pipeline_name = ''
    self._current: Optional[str] = None
    self._started: Dict[str, int] = {}
    self._began = 0.0
    self._bar = None
    self._bars = False
    self._channel = progress_channel.Channel(self.path.with_suffix('.events'), self._relayed)

  # Setting up and tearing down -------------------------------------------------------
  def __enter__(self) -> 'Console':
    self.path.parent.mkdir(parents=True, exist_ok=True)
    self._log = open(self.path, 'a', buffering=1, encoding='utf-8')  # pylint: disable=consider-using-with
    sys.stdout.flush()
    sys.stderr.flush()
    if self._stream is None:
      self._stream = os.fdopen(os.dup(1), 'w', buffering=1, encoding='utf-8')
    self._bars = self._stream.isatty()
    if self._verbose:
      self._file_handler = logging.StreamHandler(self._log)
      self._file_handler.setFormatter(logging.Formatter(
          '%(asctime)s %(levelname)s %(name)s: %(message)s'))
      logging.getLogger().addHandler(self._file_handler)
    else:
      self._saved_fds = (os.dup(1), os.dup(2))
      os.dup2(self._log.fileno(), 1)
      os.dup2(self._log.fileno(), 2)
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '1')
    from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
    self._absl_verbosity = absl_logging.get_verbosity()
    absl_logging.set_verbosity(absl_logging.INFO)
    logging.getLogger().addHandler(self)
    self._channel.__enter__()
    self.say(f'envsound pipeline run: full log in {self.path}'
             f'{" (also shown live)" if self._verbose else ""}')
    return self

  def __exit__(self, exc_type, exc, tb) -> None:
    self._channel.__exit__(None, None, None)
    if exc is not None and self._current is not None:
      self._end(self._current, failed=exc)
    elif exc is not None:
      self.say(f'failed: {error_paragraph(exc)}')
      self.say(f'  full log: {self.path}')
    logging.getLogger().removeHandler(self)
    if self._verbose:
      logging.getLogger().removeHandler(self._file_handler)
    else:  # what follows the run (summary, report) logs as quietly as before it
      from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
      absl_logging.set_verbosity(self._absl_verbosity)
    sys.stdout.flush()
    sys.stderr.flush()
    if self._saved_fds:
      for fd, saved in zip((1, 2), self._saved_fds):
        os.dup2(saved, fd)
        os.close(saved)
    if exc is not None:  # the traceback goes to the log, not the console
      import traceback  # pylint: disable=import-outside-toplevel
      self._log.write(''.join(traceback.format_exception(exc_type, exc, tb)))
    self._log.close()

  def plan(self, pipeline_name: str, component_ids: Sequence[str], metadata: str) -> None:
    """Names the components about to run (in order) and the run's ML Metadata file."""
    self._pipeline_name, self._ids, self._metadata = pipeline_name, list(component_ids), metadata

  def _outcome(self, node_id: str) -> Optional[outcomes.Outcome]:
    if self._store is None and self._metadata and os.path.exists(self._metadata):
      from ml_metadata import metadata_store  # pylint: disable=import-outside-toplevel
      from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel
      config = metadata_store_pb2.ConnectionConfig()
      config.sqlite.filename_uri = self._metadata
      config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
      self._store = metadata_store.MetadataStore(config)
    return outcomes.latest(self._store, self._pipeline_name, node_id) if self._store else None

  def say(self, line: str) -> None:
    """Writes one line to the console (above a progress bar, if one is drawn)."""
    if self._bar is not None:
      self._bar.write(line, file=self._stream)
    else:
      self._stream.write(line + '\n')
      self._stream.flush()

  # The logging handler ---------------------------------------------------------------
  def emit(self, record: logging.LogRecord) -> None:
    try:
      event = getattr(record, progress.EVENT_ATTRIBUTE, None)
      if event is not None:
        self._progress(event)
      elif record.msg == _RUNNING and record.args:
        self._start(str(record.args[0]))
      elif record.msg == _FINISHED and record.args:
        self._end(str(record.args[0]))
    except Exception:  # pylint: disable=broad-except  (drawing must never stop a run)
      self.handleError(record)

  def _label(self, node_id: str) -> str:
    width = len(str(len(self._ids)))
    return f'[{self._started.get(node_id, 0):>{width}}/{len(self._ids)}] {node_id:<28}'

  def _start(self, node_id: str) -> None:
    self._close_bar()
    self._started[node_id] = len(self._started) + 1
    self._current, self._began = node_id, time.perf_counter()
    self.say(f'{self._label(node_id)} ...')

  def _end(self, node_id: str, failed: Optional[BaseException] = None) -> None:
    self._close_bar()
    seconds = time.perf_counter() - self._began
    outcome = self._outcome(node_id) if failed is None else None
    if outcome and outcome.status == outcomes.FAILED and not outcome.details:
      # The run went on: a Resolver that found nothing (e.g. no tuning result yet) is
      # recorded as a failed execution with no outputs.
      outcome = outcomes.Outcome(outcomes.RAN, ['resolved nothing'])
    status = outcomes.FAILED if failed is not None else (outcome.status if outcome else
                                                         outcomes.RAN)
    head = f'{self._label(node_id)} {status:<7}{seconds:7.1f} s'
    details = '; '.join(outcome.details) if outcome else ''
    lines = textwrap.wrap(details, _WIDTH - len(head) - 2) or ['']
    self.say(f'{head}  {lines[0]}'.rstrip())
    for line in lines[1:]:
      self.say(' ' * (len(head) + 2) + line)
    if failed is not None:
      for line in textwrap.wrap(error_paragraph(failed), _WIDTH - 4):
        self.say(f'    {line}')
      self.say(f'    full log: {self.path}')
    self._current = None

  def _relayed(self, event: progress.Event) -> None:
    """An event from another process (the channel's thread): drawn as a logged one."""
    with self.lock:  # the lock logging holds around emit
      self._progress(event)

  def _progress(self, event: progress.Event) -> None:
    if not self._bars:
      return
    if event.total is not None:
      self._close_bar()
      from tqdm import tqdm  # pylint: disable=import-outside-toplevel
      self._bar = tqdm(total=event.total, unit=event.unit, desc=f'  {event.what}',
                       file=self._stream, leave=False, dynamic_ncols=True)
    elif self._bar is not None:
      self._bar.update(event.done)
      if event.note:
        self._bar.set_postfix_str(event.note, refresh=False)

  def _close_bar(self) -> None:
    if self._bar is not None:
      self._bar.close()
      self._bar = None
