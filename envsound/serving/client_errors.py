"""Errors the serving client raises: one line each, naming the server and model."""

import grpc

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


class NoReferenceMapError(InvalidRequestError):
  """The model was exported without the ``reference_map`` signature."""


def from_rpc_error(error: grpc.RpcError, target: str, model: str,
                   attempts: int) -> ServingClientError:
  """The typed, one-line error for a failed call to ``model`` at ``target``.

  Args:
    error: what gRPC raised.
    target: the server's ``host:port``.
    model: the model the call named.
    attempts: the most attempts the channel's retry policy makes.
  """
  code, lines = error.code(), (error.details() or '').strip().splitlines()
  detail = lines[0] if lines else code.name
  where = f'{target}, model {model}'
  if code == grpc.StatusCode.UNAVAILABLE:
    return ServerUnavailableError(f'{where}: unavailable after up to {attempts} attempts: '
                                  f'{detail}', code.name)
  if code == grpc.StatusCode.NOT_FOUND or 'version label' in detail:
    return ModelNotFoundError(f'{where}: {detail}', code.name)
  if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
    return MessageTooLargeError(f'{where}: {detail}', code.name)
  if code == grpc.StatusCode.DEADLINE_EXCEEDED:
    return RequestTimeoutError(f'{where}: no answer within the timeout ({detail})', code.name)
  if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
    return InvalidRequestError(f'{where}: {detail}', code.name)
  return ServingClientError(f'{where}: {code.name}: {detail}', code.name)
