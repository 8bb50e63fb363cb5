"""A TCP relay on 127.0.0.1 in front of a running server, which a test can cut: the server
then goes away as its clients see it (connections reset, new ones refused), while the real
server behind it keeps running for the other tests.

    with Relay(server.grpc_port) as relay:
      client = Client(relay.target)
      relay.cut()
"""

import socket
import socketserver
import threading
from typing import List

from tests.support.ports import HOST

CHUNK = 65536


class Relay(socketserver.ThreadingTCPServer):
  """Forwards every connection to ``HOST:port`` until :meth:`cut`."""
  daemon_threads = True

  def __init__(self, port: int):
    self._to = (HOST, port)
    self._open: List[socket.socket] = []
    self._lock = threading.Lock()
    super().__init__((HOST, 0), _Pipe)
    self._thread = threading.Thread(target=self.serve_forever, kwargs={'poll_interval': 0.05},
                                    name='relay', daemon=True)
    self._thread.start()

  @property
  def target(self) -> str:
    return f'{HOST}:{self.server_address[1]}'

  def keep(self, *sockets: socket.socket) -> None:
    with self._lock:
      self._open += sockets

  def cut(self) -> None:
    """Stops listening and closes every relayed connection."""
    self.shutdown()
    self.server_close()
    with self._lock:
      for sock in self._open:
        try:
          sock.shutdown(socket.SHUT_RDWR)
        except OSError:
          pass
        sock.close()
      self._open = []

  def __exit__(self, *exc) -> None:
    if self._thread.is_alive():
      self.cut()


class _Pipe(socketserver.BaseRequestHandler):
  """Copies bytes both ways between the client and the server."""

  def handle(self) -> None:
    upstream = socket.create_connection(self.server._to, timeout=10)  # pylint: disable=protected-access
    upstream.settimeout(None)
    self.server.keep(self.request, upstream)
    back = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
    back.start()
    _copy(self.request, upstream)
    back.join()
    upstream.close()


def _copy(source: socket.socket, sink: socket.socket) -> None:
  try:
    while True:
      data = source.recv(CHUNK)
      if not data:
        break
      sink.sendall(data)
  except OSError:
    pass
  finally:
    for sock in (source, sink):
      try:
        sock.shutdown(socket.SHUT_RDWR)
      except OSError:
        pass
