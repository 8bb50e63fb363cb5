"""The standard gRPC health service (``grpc.health.v1.Health``) for envsound serve.

Service ``''`` (the server) is SERVING while every configured model has an AVAILABLE
version; each model name is SERVING while one of its versions is AVAILABLE and NOT_SERVING
otherwise, also after it was removed from the config. A name never configured answers
NOT_FOUND, as the health protocol specifies. Stopping the server turns everything NOT_SERVING.
"""

import threading
from typing import Dict

from grpc_health.v1 import health, health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class ModelHealth:
  """Keeps a HealthServicer in step with which models can serve."""

  def __init__(self):
    self.servicer = health.HealthServicer(experimental_non_blocking=True)
    self.servicer.set('', NOT_SERVING)
    self._lock = threading.Lock()
    self._known = set()

  def add_to(self, server) -> None:
    health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)

  def update(self, availability: Dict[str, bool]) -> None:
    """Sets each model's status and the server's from model name -> has an AVAILABLE version."""
    with self._lock:
      for name in self._known - set(availability):
        self.servicer.set(name, NOT_SERVING)
      for name, available in availability.items():
        self.servicer.set(name, SERVING if available else NOT_SERVING)
      self._known |= set(availability)
      everything = bool(availability) and all(availability.values())
      self.servicer.set('', SERVING if everything else NOT_SERVING)

  def shutdown(self) -> None:
    """Everything NOT_SERVING from now on (the server is stopping)."""
    self.servicer.enter_graceful_shutdown()
