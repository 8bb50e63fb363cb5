"""TF Serving's REST API (``/v1/models/...``) on aiohttp, in a background thread.

Supported: model status (``GET /v1/models/{name}[/versions/{v}|/labels/{l}]``), metadata
(``.../metadata``) and ``POST ...:predict`` in the row (``instances``) and columnar
(``inputs``) formats, with ``{"b64": ...}`` for binary strings. ``:classify`` and
``:regress`` answer 501.
"""

import asyncio
import json
import logging
import threading
import time
from concurrent import futures
from typing import Dict, Optional, Tuple

import grpc
from aiohttp import web
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from envsound.serving import grpc_services, metrics, rest_json, server_errors
from envsound.serving.model_manager import ModelManager

log = logging.getLogger(__name__)
_PATH = r'/v1/models/{name:[^/:]+}{spec:(/versions/[0-9]+|/labels/[^/:]+)?}'


class RestServer:
  """Serves the REST API for ``manager`` on ``host:port``.

  With ``metrics_path``, ``GET metrics_path`` answers ``server_metrics`` in Prometheus' text
  format (TF Serving's ``prometheus_config``).
  """

  def __init__(self, manager: ModelManager, host: str, port: int, max_body_bytes: int,
               timeout_s: float, workers: int = 16,
               server_metrics: metrics.Metrics = metrics.NO_METRICS,
               metrics_path: Optional[str] = None):
    self._manager = manager
    self._metrics = server_metrics
    self._metrics_path = metrics_path
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
    if self._metrics_path:
      app.router.add_get(self._metrics_path, self._scrape)
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

  async def _run(self, api: str, request: web.Request, fn, *args):
    """Runs blocking ``fn`` (returning its JSON and the version it served) in the pool;
    ServingErrors become TF Serving's JSON errors. Counts and times the request."""
    start, name, version = time.perf_counter(), request.match_info['name'], ''
    try:
      result, version = await asyncio.wait_for(
          self._loop.run_in_executor(self._pool, fn, *args), self._timeout_s)
      code, response = grpc.StatusCode.OK, web.json_response(text=json.dumps(result))
    except server_errors.ServingError as e:
      code, response = e.code, _error(e.http_status, e.message)
    except asyncio.TimeoutError:
      code = grpc.StatusCode.DEADLINE_EXCEEDED
      response = _error(504, f'Request timed out after {self._timeout_s:.0f} s')
    self._metrics.request(name, str(version), api, 'REST', code.name,
                          time.perf_counter() - start)
    return response

  async def _scrape(self, request: web.Request) -> web.Response:  # pylint: disable=unused-argument
    body = await self._loop.run_in_executor(self._pool, self._metrics.exposition)
    return web.Response(body=body, headers={'Content-Type': metrics.CONTENT_TYPE})

  async def _status(self, request: web.Request) -> web.Response:
    name, version, label = _spec(request)
    def run():
      response = grpc_services.model_status_response(self._manager, name, version, label)
      return json_format.MessageToDict(response, preserving_proto_field_name=True,
                                       including_default_value_fields=True), version or ''
    return await self._run('GetModelStatus', request, run)

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
                  signatures, preserving_proto_field_name=True)}}, servable.version
    return await self._run('GetModelMetadata', request, run)

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
    return await self._run('Predict', request, self._predict, name, version, label, body)

  def _predict(self, name, version, label, body) -> Tuple[Dict, int]:
    """The JSON answer to a :predict body and the version that served it."""
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
    inputs = rest_json.row_inputs(body['instances'], dtypes) if row else \
        rest_json.columnar_inputs(body['inputs'], dtypes)
    outputs = {k: rest_json.to_json(k, v)
               for k, v in servable.predict(signature, inputs).items()}
    if not row:
      return {'outputs': outputs if len(outputs) > 1 else next(iter(outputs.values()))}, \
          servable.version
    if len(outputs) == 1:
      return {'predictions': next(iter(outputs.values()))}, servable.version
    rows = len(next(iter(outputs.values())))
    return {'predictions': [{k: v[i] for k, v in outputs.items()} for i in range(rows)]}, \
        servable.version


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
