import faulthandler
import signal
import sys

from envsound.cli import main

if hasattr(signal, 'SIGUSR1'):  # `kill -USR1 <pid>` prints every thread's stack to stderr
  faulthandler.register(signal.SIGUSR1, all_threads=True)
sys.exit(main())
