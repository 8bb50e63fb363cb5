"""Errors the serving client raises: one line each, naming the server and model."""

from envsound.core.errors import EnvsoundError


class ServingClientError(EnvsoundError):
  """A call to a model server failed; ``code`` is the gRPC status name (e.g. NOT_FOUND)."""

  def __init__(self, message: str, code: str = 'UNKNOWN'):
    super().__init__(message)
    self.code = code


class ServerUnavailableError(ServingClientError):
  """The server did not answer (or kept answering UNAVAILABLE) after the retries."""


class ModelNotFoundError(ServingClientError):
  """The server has no such model, version or label."""


class InvalidRequestError(ServingClientError):
  """The server refused the request: wrong inputs, signature or a label it does not know."""


class MessageTooLargeError(InvalidRequestError):
  """A request or response exceeded a gRPC message size limit."""


class RequestTimeoutError(ServingClientError):
  """The call did not finish within the client's timeout."""
