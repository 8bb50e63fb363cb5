"""``envsound embed``: audio files -> one AudioSet-style ``.npy`` per file plus a manifest.

Each file becomes ``OUT/<name>.npy`` (uint8 ``[frames, 128]``, one frame per 0.96 s, as
AudioSet ships them) and a row of ``OUT/manifest.csv`` in ``envsound data export``'s columns,
so the desktop client and ``envsound predict`` take ``OUT`` as they take an export. A file
that cannot be embedded is reported on one line and left out; OUT appears only when complete.
"""

import csv
import dataclasses
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from envsound.audioset.export import COLUMNS, MANIFEST
from envsound.core import features
from envsound.core.atomic import atomic_dir
from envsound.core.errors import EnvsoundError, InvalidInputError
from envsound.core import audio
from envsound.vggish import frontend, params

EXAMPLES_PER_CALL = 64  # about a minute of audio per model call bounds memory on long files
PENDING_EXAMPLES = 4 * EXAMPLES_PER_CALL  # files read ahead, so equal-length ones share calls
_UNSAFE = re.compile(r'[^A-Za-z0-9_.-]')


def model_version_dir(model_dir) -> Path:
  """``model_dir`` itself when it holds ``saved_model.pb``, else its newest version folder.

  Raises:
    EnvsoundError: neither holds a SavedModel.
  """
  model_dir = Path(model_dir)
  if (model_dir / 'saved_model.pb').is_file():
    return model_dir
  versions = sorted((p for p in model_dir.glob('*') if p.name.isdigit()
                     and (p / 'saved_model.pb').is_file()), key=lambda p: int(p.name))
  if not versions:
    raise EnvsoundError(f'{model_dir}: no VGGish SavedModel (neither saved_model.pb nor '
                        '<version>/saved_model.pb); write one with `envsound vggish export`')
  return versions[-1]


class Embedder:
  """Runs a VGGish SavedModel's waveform signature in this process."""

  def __init__(self, model_dir):
    import tensorflow as tf  # pylint: disable=import-outside-toplevel
    self.path = model_version_dir(model_dir)
    self._loaded = tf.saved_model.load(str(self.path))
    if features.WAVEFORM_SIGNATURE not in self._loaded.signatures:
      raise EnvsoundError(f'{self.path}: not a VGGish SavedModel (no signature '
                          f'{features.WAVEFORM_SIGNATURE!r}); export one with '
                          '`envsound vggish export`')
    self._fn = self._loaded.signatures[features.WAVEFORM_SIGNATURE]
    self._batch_fn = self._loaded.signatures[features.VGGISH_SIGNATURE]

  def embed(self, waveform: np.ndarray) -> np.ndarray:
    """16 kHz float32 samples -> uint8 ``[frames, 128]`` (frames may be 0)."""
    parts = [np.zeros((0, features.EMBEDDING_DIM), np.uint8)]
    for start, stop in frontend.chunk_bounds(len(waveform), EXAMPLES_PER_CALL):
      outputs = self._fn(**{features.WAVEFORM_INPUT: waveform[start:stop]})
      parts.append(outputs[features.VGGISH_EMBEDDING].numpy())
    return np.concatenate(parts)

  def embed_many(self, waveforms: Sequence[np.ndarray]) -> List[np.ndarray]:
    """Like ``embed`` for each waveform; those with equal example counts share model calls
    (the batch signature, up to ``EXAMPLES_PER_CALL`` examples a call)."""
    results: List[Optional[np.ndarray]] = [None] * len(waveforms)
    by_count: Dict[int, List[int]] = {}
    for i, waveform in enumerate(waveforms):
      by_count.setdefault(frontend.num_examples(len(waveform)), []).append(i)
    for count, members in by_count.items():
      if not 0 < count <= EXAMPLES_PER_CALL // 2 or len(members) == 1:
        for i in members:
          results[i] = self.embed(waveforms[i])
        continue
      span = (count - 1) * params.EXAMPLE_SAMPLES + params.EXAMPLE_SPAN
      step = EXAMPLES_PER_CALL // count
      for first in range(0, len(members), step):
        group = members[first:first + step]
        batch = np.stack([waveforms[i][:span] for i in group])
        outputs = self._batch_fn(**{features.WAVEFORM_INPUT: batch})
        for i, frames in zip(group, outputs[features.VGGISH_EMBEDDING].numpy()):
          results[i] = frames
    return results


@dataclasses.dataclass
class EmbedSummary:
  """What ``embed_files`` wrote and what it could not embed."""
  out: Path
  written: List[str] = dataclasses.field(default_factory=list)      # .npy names
  seconds: float = 0.0                                              # of audio embedded
  errors: List[InvalidInputError] = dataclasses.field(default_factory=list)


def _npy_name(rel: Path, used: set) -> str:
  base = _UNSAFE.sub('_', str(rel.with_suffix('')).replace('/', '__'))
  name, n = f'{base}.npy', 1
  while name in used:
    n += 1
    name = f'{base}-{n}.npy'
  used.add(name)
  return name


def embed_files(model_dir, inputs: Sequence, out, overwrite: bool = False,
                on_error: Optional[Callable[[InvalidInputError], None]] = None,
                progress: bool = False) -> EmbedSummary:
  """Embeds audio files (folders: every audio file below them) into ``out``.

  Args:
    model_dir: a VGGish SavedModel folder or its base path (newest version).
    inputs: audio files and folders.
    out: the output folder, written whole under a temporary name.
    overwrite: replace an existing ``out`` once the new one is complete.
    on_error: called with each file's error as it happens (the others go on).
    progress: show a progress bar on stderr.

  Raises:
    EnvsoundError: ``out`` exists without ``overwrite``, an input does not exist, the model
      is not a VGGish SavedModel, or no file could be embedded (then nothing is written).
  """
  from tqdm import tqdm  # pylint: disable=import-outside-toplevel
  out = Path(out)
  if out.exists() and not overwrite:
    raise EnvsoundError(f'{out} already exists (pass --overwrite to replace it)')
  files = audio.expand_inputs(inputs)
  embedder = Embedder(model_dir)
  summary, rows, used = EmbedSummary(out), [], set()
  pending: List[Tuple[Path, np.ndarray]] = []

  def flush(folder: Path) -> None:
    for (rel, waveform), frames in zip(pending, embedder.embed_many([w for _, w in pending])):
      name = _npy_name(rel, used)
      np.save(folder / name, frames, allow_pickle=False)
      seconds = len(waveform) / params.SAMPLE_RATE
      rows.append([name, str(rel), 0.0, round(seconds, 3), len(frames), '', '', ''])
      summary.written.append(name)
      summary.seconds += seconds
    pending.clear()

  with atomic_dir(out, overwrite=overwrite) as tmp:
    for path, rel in tqdm(files, desc='embed', unit='file', leave=False, disable=not progress):
      try:
        pending.append((rel, audio.read_audio(path)))
      except InvalidInputError as e:
        summary.errors.append(e)
        if on_error:
          on_error(e)
        continue
      if sum(frontend.num_examples(len(w)) for _, w in pending) >= PENDING_EXAMPLES:
        flush(tmp)
    flush(tmp)
    if not rows:
      raise EnvsoundError(f'none of the {len(files)} input file(s) could be embedded; '
                          f'{out} not written')
    with open(tmp / MANIFEST, 'w', newline='', encoding='utf-8') as f:
      writer = csv.writer(f)
      writer.writerow(COLUMNS)
      writer.writerows(rows)
  return summary
