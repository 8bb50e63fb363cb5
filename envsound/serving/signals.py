"""Running ``envsound serve`` in the foreground: Ctrl-C and SIGTERM stop it cleanly."""

import contextlib
import signal
import threading
from typing import Iterator

from envsound.serving.local_server import ModelServer
from envsound.serving.options import ServerOptions


def _interrupt(signum, frame):  # pylint: disable=unused-argument
  raise KeyboardInterrupt


@contextlib.contextmanager
def stopped_on_interrupt(server: ModelServer) -> Iterator[ModelServer]:
  """Stops ``server`` when the block ends, also on Ctrl-C or SIGTERM (kill, docker stop,
  systemd), which end the block like Ctrl-C: requests finish, models unload."""
  previous = (signal.signal(signal.SIGTERM, _interrupt)
              if threading.current_thread() is threading.main_thread() else None)
  try:
    yield server
  except KeyboardInterrupt:
    pass
  finally:
    server.stop()
    if previous is not None:
      signal.signal(signal.SIGTERM, previous)


def serve(options: ServerOptions) -> int:
  """Runs the server until interrupted (Ctrl-C or SIGTERM); returns the exit status."""
  with stopped_on_interrupt(ModelServer(options)) as server:
    server.start()
    server.wait()
  return 0
