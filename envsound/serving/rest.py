"""TF Serving's REST API (``/v1/models/...``) on aiohttp, in a background thread.

Supported: model status (``GET /v1/models/{name}[/versions/{v}|/labels/{l}]``), metadata
(``.../metadata``) and ``POST ...:predict`` in the row (``instances``) and columnar
(``inputs``) formats, with ``{"b64": ...}`` for binary strings. ``:classify`` and
``:regress`` answer 501.
"""

import asyncio
import base64
import json
import logging
import threading
from concurrent import futures
from typing import Dict, Optional

import numpy as np
from aiohttp import web
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from envsound.serving import grpc_services, server_errors
from envsound.serving.model_manager import ModelManager

log = logging.getLogger(__name__)
_PATH = r'/v1/models/{name:[^/:]+}{spec:(/versions/[0-9]+|/labels/[^/:]+)?}'


class RestServer:
  """Serves the REST API for ``manager`` on ``host:port``."""

  def __init__(self, manager: ModelManager, host: str, port: int, max_body_bytes: int,
               timeout_s: float, workers: int = 16):
    self._manager = manager
    self._host, self._port = host, port
    self._max_body = max_body_bytes
    self._timeout_s = timeout_s
    self._pool = futures.ThreadPoolExecutor(workers, thread_name_prefix='rest')
    self._loop = asyncio.new_event_loop()
    self._runner: Optional[web.AppRunner] = None
    self._thread = threading.Thread(target=self._loop.run_forever, name='rest', daemon=True)

  def start(self) -> int:
    """Binds and serves; returns the port."""
    app = web.Application(client_max_size=self._max_body, middlewares=[_json_errors])
    app.router.add_get(_PATH, self._status)
    app.router.add_get(_PATH + '/metadata', self._metadata)
    app.router.add_post(_PATH + r'{verb::[a-z]+}', self._post)
    self._runner = web.AppRunner(app, access_log=None)
    self._thread.start()
    asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()
    return self._port

  async def _start(self) -> None:
    await self._runner.setup()
    await web.TCPSite(self._runner, self._host, self._port).start()

  def stop(self) -> None:
    if self._runner:
      asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
    self._loop.call_soon_threadsafe(self._loop.stop)
    self._thread.join(10)
    self._pool.shutdown(wait=False)

  async def _run(self, fn, *args):
    """Runs blocking ``fn`` in the pool; ServingErrors become TF Serving's JSON errors."""
    try:
      result = await asyncio.wait_for(
          self._loop.run_in_executor(self._pool, fn, *args), self._timeout_s)
      return web.json_response(text=json.dumps(result))
    except server_errors.ServingError as e:
      return _error(e.http_status, e.message)
    except asyncio.TimeoutError:
      return _error(504, f'Request timed out after {self._timeout_s:.0f} s')

  async def _status(self, request: web.Request) -> web.Response:
    name, version, label = _spec(request)
    def run():
      response = grpc_services.model_status_response(self._manager, name, version, label)
      return json_format.MessageToDict(response, preserving_proto_field_name=True,
                                       including_default_value_fields=True)
    return await self._run(run)

  async def _metadata(self, request: web.Request) -> web.Response:
    name, version, label = _spec(request)
    def run():
      servable = self._manager.servable(name, version, label)
      signatures = get_model_metadata_pb2.SignatureDefMap()
      for key, signature in servable.signature_defs.items():
        signatures.signature_def[key].CopyFrom(signature)
      return {'model_spec': {'name': name, 'signature_name': '',
                             'version': str(servable.version)},
              'metadata': {'signature_def': json_format.MessageToDict(
                  signatures, preserving_proto_field_name=True)}}
    return await self._run(run)

  async def _post(self, request: web.Request) -> web.Response:
    verb = request.match_info['verb'].lstrip(':')
    if verb != 'predict':
      return _error(501 if verb in ('classify', 'regress') else 404,
                    f'{verb} is not supported by envsound serve; use :predict')
    try:
      body = await request.json()
    except web.HTTPRequestEntityTooLarge as e:
      return _error(413, f'Request body larger than {self._max_body} bytes: {e.text}')
    except (ValueError, RecursionError) as e:  # RecursionError: nested too deeply
      return _error(400, f'JSON Parse error: {e}')
    name, version, label = _spec(request)
    return await self._run(self._predict, name, version, label, body)

  def _predict(self, name, version, label, body) -> Dict:
    if not isinstance(body, dict):
      raise server_errors.invalid_argument('JSON Value: must be an object')
    servable = self._manager.servable(name, version, label)
    signature = body.get('signature_name', '')
    if not isinstance(signature, str):
      raise server_errors.invalid_argument("'signature_name' attribute must be a string value")
    dtypes = servable.input_dtypes(signature)
    if ('instances' in body) == ('inputs' in body):
      raise server_errors.invalid_argument(
          "Missing 'inputs' or 'instances' key" if 'instances' not in body
          else "Only one of 'instances' or 'inputs' allowed")
    row = 'instances' in body
    inputs = _row_inputs(body['instances'], dtypes) if row else \
        _columnar_inputs(body['inputs'], dtypes)
    outputs = {k: _to_json(k, v) for k, v in servable.predict(signature, inputs).items()}
    if not row:
      return {'outputs': outputs if len(outputs) > 1 else next(iter(outputs.values()))}
    if len(outputs) == 1:
      return {'predictions': next(iter(outputs.values()))}
    rows = len(next(iter(outputs.values())))
    return {'predictions': [{k: v[i] for k, v in outputs.items()} for i in range(rows)]}


def _error(http_status: int, message: str) -> web.Response:
  return web.json_response({'error': message}, status=http_status)


@web.middleware
async def _json_errors(request: web.Request, handler) -> web.StreamResponse:
  """aiohttp's own errors (no route: 404, wrong verb: 405) and bugs (500) in TF Serving's
  ``{"error": ...}`` body too."""
  try:
    return await handler(request)
  except web.HTTPException as e:
    if e.status < 400:
      raise
    return _error(e.status, f'Malformed request: {request.method} {request.path}')
  except Exception as e:  # pylint: disable=broad-except
    log.exception('%s %s failed', request.method, request.path)
    return _error(500, f'{type(e).__name__}: {e}')


def _spec(request: web.Request):
  spec = request.match_info.get('spec') or ''
  kind, _, value = spec.lstrip('/').partition('/')
  return (request.match_info['name'], int(value) if kind == 'versions' else None,
          value if kind == 'labels' else None)


def _decode(value):
  """Replaces {"b64": ...} by bytes and str by utf-8 bytes, recursively."""
  if isinstance(value, dict):
    if set(value) != {'b64'}:
      raise server_errors.invalid_argument('JSON object in a tensor must be {"b64": "..."}')
    try:
      return base64.b64decode(value['b64'], validate=True)
    except (ValueError, TypeError) as e:
      raise server_errors.invalid_argument(f'Unable to base64 decode: {e}') from e
  if isinstance(value, list):
    return [_decode(v) for v in value]
  return value.encode() if isinstance(value, str) else value


def _array(alias: str, value, dtype) -> np.ndarray:
  value = _decode(value)
  try:
    if dtype.name == 'string':
      return np.array(value, dtype=object)
    array = np.array(value)
    if array.dtype == object or array.dtype.kind in 'SU':
      raise ValueError('ragged or non-numeric values')
    if dtype.is_integer and array.dtype.kind == 'f':
      raise ValueError('floats for an integer tensor')
    if dtype.is_integer and array.size and (array.min() < dtype.min or array.max() > dtype.max):
      raise ValueError(f'values outside {dtype.name}')
    return array.astype(dtype.as_numpy_dtype)
  except (ValueError, TypeError) as e:
    raise server_errors.invalid_argument(
        f'input {alias!r}: cannot convert to {dtype.name}: {e}') from e


def _row_inputs(instances, dtypes) -> Dict[str, np.ndarray]:
  if not isinstance(instances, list) or not instances:
    raise server_errors.invalid_argument("'instances' must be a non-empty list")
  named = all(isinstance(i, dict) and set(i) != {'b64'} for i in instances)
  if not named:
    if len(dtypes) != 1:
      raise server_errors.invalid_argument(
          f'instances must be objects naming each of the inputs {sorted(dtypes)}')
    ((alias, dtype),) = dtypes.items()
    return {alias: _array(alias, instances, dtype)}
  keys = set(instances[0])
  if any(set(i) != keys for i in instances):
    raise server_errors.invalid_argument('every instance must name the same inputs')
  return {k: _array(k, [i[k] for i in instances], dtypes.get(k, _Unknown(k))) for k in keys}


def _columnar_inputs(inputs, dtypes) -> Dict[str, np.ndarray]:
  if isinstance(inputs, dict) and set(inputs) != {'b64'}:
    return {k: _array(k, v, dtypes.get(k, _Unknown(k))) for k, v in inputs.items()}
  if len(dtypes) != 1:
    raise server_errors.invalid_argument(f"'inputs' must be an object naming {sorted(dtypes)}")
  ((alias, dtype),) = dtypes.items()
  return {alias: _array(alias, inputs, dtype)}


class _Unknown:
  """Stands in for the dtype of an input the signature lacks (the servable rejects it)."""
  name = 'float32'
  is_integer = False
  as_numpy_dtype = np.float32

  def __init__(self, alias):
    self.alias = alias


def _to_json(alias: str, value: np.ndarray):
  """Output tensor -> JSON (strings as text, or {"b64"} for *_bytes aliases and binary)."""
  if value.dtype == object:
    def text(v):
      if not alias.endswith('_bytes'):
        try:
          return v.decode('utf-8')
        except UnicodeDecodeError:
          pass
      return {'b64': base64.b64encode(v).decode()}
    return np.vectorize(text, otypes=[object])(value).tolist() if value.size else \
        value.tolist()
  return value.tolist()
