"""Audio files in the desktop client (a mixin of ``app.App``): decoded and resampled here
(``core.audio``), embedded by the server's VGGish model in the background, then added as
clips like any ``.npy`` (``serving.client_audio``); a file that cannot be decoded goes to the
Skipped tab. Audio added before the window is connected waits for the connection.
"""

from pathlib import Path
from typing import List

from envsound.core import features
from envsound.gui import loader
from envsound.serving import client_audio


class AudioFiles:
  """Embeds audio files on the connected server and adds them as clips."""

  vggish_model: str = features.VGGISH_MODEL_NAME

  def embed_audio_files(self, paths: List[Path]) -> None:
    """Embeds ``paths`` with the server's VGGish (in the background), then adds them."""
    if self.session is None:  # (re)connect to the server in the entry, then embed
      self.connect(then=lambda: self.embed_audio_files(paths))
      return
    client, model, server = self.session.client, self.vggish_model, self.session.server
    self.status_var.set(f'Embedding {len(paths)} audio file(s) with {model} on {server}…')

    def work(job, progress):
      result = loader.LoadResult([], [])
      for i, path in enumerate(paths):
        progress(i / len(paths), f'Embedding {path.name} with {model} ({i + 1}/{len(paths)})…')
        item = client_audio.embed_files(
            client, [path], model, check=job.check,
            on_error=lambda e: result.rejected.append((Path(e.path), e.reason)))[0]
        if item is not None:
          result.clips.append(loader.LoadedClip(path, item.frames))
      return result

    def failed(error) -> None:
      self.status_var.set('Embedding audio files failed.')
      self.show_error(f'Embedding audio files failed: {error}',
                      lambda: self.embed_audio_files(paths))

    self.worker.submit('embed', work, on_done=self.add_loaded, on_error=failed,
                       on_progress=lambda _f, text: self.status_var.set(text))
