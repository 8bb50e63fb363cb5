"""Ctrl-C stops ``envsound serve`` even when the kernel hands SIGINT to a thread other than
the main one (with gRPC's and TensorFlow's threads about, it usually does)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

_SCRIPT = '''
import argparse, signal, sys, threading, time
from envsound.serving import local_server, options, signals
parser = argparse.ArgumentParser()
options.add_server_flags(parser)
args = parser.parse_args(['--port=0', '--rest_api_port=0', '--model_config_file=' + sys.argv[1]])
server = local_server.ModelServer(options.ServerOptions.from_args(args))

def interrupt_from_another_thread():
  time.sleep(1)
  signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # delivered to this thread only

with signals.stopped_on_interrupt(server):
  server.start()
  threading.Thread(target=interrupt_from_another_thread, daemon=True).start()
  server.wait()
print('stopped', flush=True)
'''


def test_sigint_delivered_to_another_thread_stops_the_server(tmp_path):
  config = tmp_path / 'models.config'
  config.write_text('model_config_list {\n}\n')
  done = subprocess.run([sys.executable, '-c', _SCRIPT, str(config)], capture_output=True,
                        text=True, timeout=240, check=False)  # deadline: TF's import, loaded
  assert done.returncode == 0, done.stderr[-2000:]
  assert done.stdout.splitlines()[-1] == 'stopped'
