"""Unused TCP ports on 127.0.0.1 for test servers."""

import portpicker

HOST = '127.0.0.1'


def free_port() -> int:
  """A port no process holds right now (portpicker, as TF Serving's own tests use).

  Another process can take it before the caller binds it: servers started on it should
  retry on a bind failure (tests/support/server.py does).
  """
  return portpicker.pick_unused_port()
