"""Unused TCP ports on 127.0.0.1 for test servers."""

import portpicker

HOST = '127.0.0.1'


def free_port() -> int:
  """A port no process holds right now (portpicker, as TF Serving's own tests use).

  Another process can take it before the caller binds it: servers started on it should
  retry on a bind failure (tests/support/server.py does).
  """
  return portpicker.pick_unused_port()


class LocalEndpoints:
  """``grpc_target`` and ``rest_url`` of a server on HOST; the class sets ``grpc_port`` and
  ``rest_port``."""
  grpc_port: int
  rest_port: int

  @property
  def grpc_target(self) -> str:
    return f'{HOST}:{self.grpc_port}'

  @property
  def rest_url(self) -> str:
    return f'http://{HOST}:{self.rest_port}'
