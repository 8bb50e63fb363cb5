"""Real X input for the Tk tests: xdotool moves the pointer, clicks, drags and types.

Events go through the X server to Tk exactly as a user's would. Each helper returns once
xdotool has sent its events; the test then pumps Tk's loop until the effect shows.
"""

import shutil
import subprocess
import time
from typing import Iterable, Tuple

import pytest

TIMEOUT_S = 60


def xdotool(*args: str) -> None:
  binary = shutil.which('xdotool')
  if binary is None:
    pytest.fail('xdotool is not installed (apt-get install xdotool): the GUI tests need it')
  subprocess.run([binary, *args], check=True, timeout=TIMEOUT_S)


def pump(app, until, timeout_s: float = 120.0):
  """Runs Tk's event loop until ``until()`` is true; fails after ``timeout_s``."""
  deadline = time.monotonic() + timeout_s
  while not until():
    if time.monotonic() > deadline:
      pytest.fail(f'timed out; status: {app.status_var.get()!r}, '
                  f'banner: {app.banner_var.get()!r}')
    app.root.update()
    time.sleep(0.01)


def settle(app, rounds: int = 5) -> None:
  """Lets Tk handle what is queued (events, idle redraws)."""
  for _ in range(rounds):
    app.root.update()
    time.sleep(0.02)


def centre(widget) -> Tuple[int, int]:
  """Screen coordinates of a widget's centre."""
  widget.update_idletasks()
  return (widget.winfo_rootx() + widget.winfo_width() // 2,
          widget.winfo_rooty() + widget.winfo_height() // 2)


def click_at(x: int, y: int) -> None:
  xdotool('mousemove', '--sync', str(x), str(y), 'click', '1')


def click(widget) -> None:
  click_at(*centre(widget))


def drag(points: Iterable[Tuple[int, int]]) -> None:
  """Presses button 1 at the first point, moves through the others, releases at the last."""
  points = [(int(x), int(y)) for x, y in points]
  args = ['mousemove', '--sync', *map(str, points[0]), 'mousedown', '1']
  for x, y in points[1:]:
    args += ['mousemove', '--sync', str(x), str(y)]
  xdotool(*args, 'mouseup', '1')


def key(*keys: str) -> None:
  xdotool('key', '--clearmodifiers', *keys)


def type_text(text: str) -> None:
  xdotool('type', '--delay', '15', text)


def answer_dialog(title: str, text: str) -> subprocess.Popen:
  """In the background: waits for a window titled ``title``, types ``text`` and Return.

  A Tk file dialog runs its own event loop inside the callback that opened it, so the
  answer has to come from another process while the test pumps Tk.
  """
  script = (f'xdotool search --sync --onlyvisible --name "{title}" windowfocus --sync '
            f'&& xdotool key --clearmodifiers ctrl+slash BackSpace && xdotool type --delay 15 "{text}" '
            f'&& xdotool key Return')
  return subprocess.Popen(['timeout', str(TIMEOUT_S), 'sh', '-c', script])
