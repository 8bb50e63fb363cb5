"""Unused TCP ports on 127.0.0.1 for test servers."""

import socket

HOST = '127.0.0.1'


def free_port() -> int:
  """A port no socket on ``HOST`` holds right now (the OS picks it).

  Another process can take it before the caller binds it: servers started on it should
  retry on a bind failure (tests/support/server.py does).
  """
  with socket.socket() as s:
    s.bind((HOST, 0))
    return s.getsockname()[1]
