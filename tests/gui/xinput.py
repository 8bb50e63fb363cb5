"""Real X input for the Tk tests: xdotool moves the pointer, clicks, drags and types.

Events go through the X server to Tk exactly as a user's would. Each helper returns once
xdotool has sent its events; the test then pumps Tk's loop until the effect shows.
"""

import re
import shutil
import subprocess
import contextlib
import time
import tkinter as tk
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


def drag(app, points: Iterable[Tuple[int, int]]) -> None:
  """Presses button 1 at the first point, moves through the others, releases at the last.

  Tk collapses motion events that queue up unhandled into the last one, so Tk's loop runs
  after each move: otherwise a lasso would see only its first and last points.
  """
  points = [(int(x), int(y)) for x, y in points]
  xdotool('mousemove', '--sync', *map(str, points[0]), 'mousedown', '1')
  settle(app, 2)
  for x, y in points[1:]:
    xdotool('mousemove', '--sync', str(x), str(y))
    settle(app, 2)
  xdotool('mouseup', '1')


def key(*keys: str) -> None:
  xdotool('key', '--clearmodifiers', *keys)


def type_text(text: str) -> None:
  xdotool('type', '--delay', '15', text)


def title_pattern(title: str) -> str:
  """``title`` as a POSIX regular expression matching exactly it (``xdotool search --name``
  takes a regular expression: unescaped, the parentheses of "Export (CSV)" are a group and
  the pattern never matches the title)."""
  return '^' + re.sub(r'([][(){}.*+?^$|\\])', r'\\\1', title) + '$'


def answer_dialog(title: str, text: str) -> subprocess.Popen:
  """In the background: waits for a window titled ``title``, focuses it, replaces its
  selected entry text with ``text`` and presses Return.

  A Tk file dialog runs its own event loop inside the callback that opened it, so the
  answer has to come from another process while the test pumps Tk. There is no window
  manager under Xvfb, so the dialog gets the keyboard with ``windowfocus`` (not
  ``windowactivate``, which needs one).
  """
  script = ('xdotool search --sync --onlyvisible --limit 1 --name "$1" windowfocus --sync '
            '&& xdotool key --clearmodifiers ctrl+slash BackSpace '
            '&& xdotool type --delay 15 "$2" && xdotool key --clearmodifiers Return')
  return subprocess.Popen(['timeout', str(TIMEOUT_S), 'sh', '-c', script, 'answer',
                           title_pattern(title), text])


@contextlib.contextmanager
def dialog_deadline(app, timeout_s: float = TIMEOUT_S):
  """Closes any dialog still open after ``timeout_s``, so a test that pumps Tk while a
  modal dialog runs its own event loop cannot hang when the answer never comes."""
  def close_dialogs():
    for child in app.root.winfo_children():
      if isinstance(child, tk.Toplevel) or child.winfo_class() == 'Toplevel':
        child.destroy()
  after = app.root.after(int(timeout_s * 1000), close_dialogs)
  try:
    yield
  finally:
    app.root.after_cancel(after)
