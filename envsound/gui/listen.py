"""The Listen button (a mixin of ``app.App``): the microphone, or a file standing in for it,
classified live on the server (``live.py`` in a background job), with the environment and
its confidence beside the button and the sound's moving position on the map.

Where the microphone cannot be used (no PortAudio, no input device) the button is disabled
and the label beside it says why on one line. When the source fails (the device
disappears, the file ends) the stream is closed, the status bar says why on one line and the
button reads Listen again.
"""

import collections
import time
import tkinter as tk
from pathlib import Path
from tkinter import ttk
from typing import List, Optional

import numpy as np

from envsound.gui import live
from envsound.gui.worker import Cancelled

LISTEN, STOP = 'Listen', 'Stop'
TRAIL = 8            # positions drawn behind the newest
LIVE_COLOUR = '#ff2d55'


class Listen:
  """Starts and stops live listening; draws each update."""

  listen_file: Optional[Path] = None

  def build_listen(self, bar) -> None:
    """Adds the Listen button and the live label to ``bar`` (call from ``build``)."""
    self.live_var = tk.StringVar()
    self.live_job = None
    self.live_stream = None  # the source of the last Listen
    self.live_updates: List[live.LiveUpdate] = []
    self.live_latencies: List[float] = []   # seconds from a window's last sample to display
    self._live_generation = 0
    self._trail: collections.deque = collections.deque(maxlen=TRAIL + 1)
    self._live_artists: List = []
    self._live_map = None  # the map the live positions belong to
    self.listen_button = ttk.Button(bar, text=LISTEN, command=self.toggle_listen)
    self.listen_button.pack(side=tk.LEFT, padx=(12, 4))
    self.listen_button.bind('<Enter>', lambda _e: self._explain_listen())
    ttk.Label(bar, textvariable=self.live_var, font=('TkDefaultFont', 11, 'bold')).pack(
        side=tk.LEFT, padx=4)
    self.set_listen_source(None)

  def set_listen_source(self, path: Optional[Path]) -> None:
    """Listens to ``path`` played in real time instead of the microphone (None: microphone)."""
    self.listen_file = Path(path) if path else None
    problem = None if self.listen_file else live.microphone_problem()
    self.listen_button.configure(state=tk.DISABLED if problem else tk.NORMAL)
    self.live_var.set(f'Listen unavailable: {problem}' if problem else
                      f'Listen plays {self.listen_file.name}' if self.listen_file else '')

  def _explain_listen(self) -> None:
    """Hovering the disabled button puts the whole reason in the status bar."""
    if str(self.listen_button.cget('state')) == tk.DISABLED:
      self.status_var.set(f'{self.live_var.get()}; `envsound gui --listen-file FILE` plays a '
                          'file instead of the microphone.')

  def toggle_listen(self) -> None:
    if self.live_job is not None:
      self.stop_listening('Stopped listening.')
    else:
      self.start_listening()

  def start_listening(self) -> None:
    """Opens the source and classifies it live with the selected model."""
    choice = self.selected()
    if self.session is None or choice is None:
      self.show_error('Not connected to a server with a model.', self.connect)
      return
    try:
      stream = (live.FileInputStream(self.listen_file) if self.listen_file
                else live.open_microphone())
    except live.SourceGone as e:
      self.status_var.set(f'Listening failed: {e}')
      return
    self.live_stream = stream
    fitted = self._live_map = self.ws.maps[0] if self.ws.maps else None
    client, vggish = self.session.client, self.vggish_model
    self._live_generation += 1
    generation = self._live_generation
    self._trail.clear()
    self.live_updates, self.live_latencies = [], []

    def current(fn):
      return lambda *a: fn(*a) if generation == self._live_generation else None

    self.live_job = self.worker.submit(
        'listen', lambda job, progress: live.listen(
            stream, client, choice, fitted.place if fitted else None, job,
            lambda update: progress(0.0, update), vggish),  # progress carries the updates
        on_done=current(lambda seconds: self.stop_listening(
            f'Stopped listening after {seconds:.1f} s.')),
        on_error=current(self._listen_failed), on_progress=current(self._live_update))
    self.listen_button.configure(text=STOP)
    self.live_var.set('Listening…')
    self.status_var.set(f'Listening with {choice} ({stream.samplerate:.0f} Hz, '
                        f'{stream.channels} channel(s)); a result every 0.96 s.')

  def stop_listening(self, text: str = '') -> None:
    """Stops the live job (its stream closes in its thread) and resets the button."""
    self._live_generation += 1
    if self.live_job is not None:
      self.live_job.cancel()
    self.live_job = None
    self.listen_button.configure(text=LISTEN)
    if text:
      self.status_var.set(text)

  def _listen_failed(self, error: BaseException) -> None:
    if isinstance(error, Cancelled):
      self.stop_listening()
      return
    heard = self.live_updates[-1].seconds if self.live_updates else 0.0
    self.stop_listening(f'Listening stopped after {heard:.1f} s: {error}')
    self.live_var.set('')

  def _live_update(self, _fraction, update: live.LiveUpdate) -> None:
    self.live_updates.append(update)
    note = f', {update.dropped} s skipped to keep up' if update.dropped else ''
    self.live_var.set(f'Hearing: {update.top_class} {update.top_score:.2f} '
                      f'({update.seconds:.0f} s{note})')
    if update.xy is not None and self.ws.maps and self.ws.maps[0] is self._live_map:
      self._trail.append(update.xy)  # (not on another model's map, chosen since)
      self._draw_trail()
    self.root.update_idletasks()  # the label and the map's idle redraw show now
    self.live_latencies.append(time.monotonic() - update.heard_at)

  def _draw_trail(self) -> None:
    for artist in self._live_artists:
      try:
        artist.remove()
      except (ValueError, NotImplementedError, AttributeError):
        pass  # the map was redrawn since: its artists are gone already
    ax, xy = self.map_view.axes[0], np.array(self._trail).reshape(-1, 2)
    self._live_artists = [
        ax.plot(xy[:, 0], xy[:, 1], '-', color=LIVE_COLOUR, alpha=0.5, lw=1.5, zorder=6)[0],
        ax.scatter(xy[-1:, 0], xy[-1:, 1], s=260, marker='o', c=LIVE_COLOUR,
                   edgecolors='white', linewidths=2, zorder=7)]
    self.map_view.canvas.draw_idle()

  @property
  def live_point(self) -> Optional[np.ndarray]:
    """The newest live position drawn on the map, or None."""
    return np.asarray(self._trail[-1]) if self._trail else None
