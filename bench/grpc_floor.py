"""A gRPC server that answers every Predict with one fixed response: the cost floor.

It runs the same Python gRPC server as ``envsound serve`` (grpcio, a pool of 32 threads,
the same message options) but no model, no checks and no batching, so its throughput is
what any server written on Python gRPC can reach on this machine with the same clients.
``bench/serving_latency.py`` starts it beside ``envsound serve`` to show how much of the
gap between batching off and on the server's fixed cost per call leaves.

  .venv/bin/python bench/grpc_floor.py PORT RESPONSE_FILE   (a serialized PredictResponse)
"""

import contextlib
import subprocess
import sys
import tempfile
import time
from concurrent import futures
from pathlib import Path
from typing import Iterator

import grpc
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

HOST = '127.0.0.1'


class _FixedAnswer(prediction_service_pb2_grpc.PredictionServiceServicer):

  def __init__(self, response: predict_pb2.PredictResponse):
    self._response = response

  def Predict(self, request, context):  # pylint: disable=invalid-name
    return self._response


def serve(port: int, response_file: str, threads: int = 32) -> None:
  response = predict_pb2.PredictResponse.FromString(Path(response_file).read_bytes())
  server = grpc.server(futures.ThreadPoolExecutor(threads),
                       options=[('grpc.max_receive_message_length', 64 << 20)],
                       maximum_concurrent_rpcs=threads * 4)
  prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
      _FixedAnswer(response), server)
  server.add_insecure_port(f'{HOST}:{port}')
  server.start()
  server.wait_for_termination()


@contextlib.contextmanager
def running(response, probe, timeout_s: float = 60) -> Iterator[str]:
  """Runs the floor server on a free port answering ``response`` (a PredictResponse); yields
  its target once it answers ``probe`` (a PredictRequest of benchlib.requests)."""
  from benchlib import requests  # pylint: disable=import-outside-toplevel
  from tests.support.server import pick_unused_port  # pylint: disable=import-outside-toplevel
  with tempfile.NamedTemporaryFile(suffix='.pb') as f:
    f.write(response.SerializeToString())
    f.flush()
    port = pick_unused_port()
    process = subprocess.Popen([sys.executable, __file__, str(port), f.name])
    target = f'{HOST}:{port}'
    try:
      channel, stub = requests.predict_stub(target)
      with channel:
        deadline = time.monotonic() + timeout_s
        while True:
          try:
            stub.Predict(probe, timeout=2)
            break
          except grpc.RpcError:
            if process.poll() is not None or time.monotonic() > deadline:
              raise RuntimeError(f'the floor server on {target} did not answer') from None
            time.sleep(0.2)
      yield target
    finally:
      process.terminate()
      process.wait(10)


if __name__ == '__main__':
  serve(int(sys.argv[1]), sys.argv[2])
