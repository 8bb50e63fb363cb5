"""A model's 2-D map of reference clips: from the model itself, or fitted live. No Tk here.

A model exported with a ``reference_map`` signature carries its own map: the reference
points (clip id, true environment, position, penultimate vector) come from the server, and
each new clip's position is the model's ``map_xy`` output. Otherwise (an older export, or a
reference folder the user chose) the reference clips are sent through the model and UMAP is
fitted on their penultimate vectors in this process; new clips are then placed with
``UMAP.transform``.
"""

import dataclasses
from typing import List, Optional

import numpy as np

from envsound.gui import projection as proj
from envsound.gui.reference import ReferenceSet
from envsound.gui.results import ModelChoice, Results, predict
from envsound.serving.client_errors import InvalidRequestError, ModelNotFoundError

FROM_MODEL = 'the model\'s own map'
FITTED = 'fitted here with UMAP'


class NoModelMap(Exception):
  """The model has no ``reference_map`` signature (the message says what to do)."""


@dataclasses.dataclass
class Map:
  """Reference points of one model's map and how new clips are placed on it."""
  model: ModelChoice
  version: Optional[int]  # the version that answered, when known
  source: str  # FROM_MODEL or FITTED
  xy: np.ndarray  # float32 [r, 2]
  environments: List[str]  # true environment per reference point
  ids: List[str]  # clip id or file per reference point
  embedding: np.ndarray  # float32 [r, d]: penultimate vectors
  predicted: Optional[List[str]] = None  # the model's class per reference point, if known
  projection: Optional[proj.Projection] = None  # FITTED maps only
  separation: Optional[dict] = None  # figures.of_map's, filled in after the map is drawn

  def __len__(self) -> int:
    return len(self.xy)

  def place(self, results: Results) -> np.ndarray:
    """Positions of ``results``' clips on this map, float32 ``[n, 2]``."""
    if self.projection is not None:
      return self.projection.transform(results.embedding)
    if results.map_xy is None:
      raise InvalidRequestError(f'model {results.model} gave no map_xy output for the clips')
    return np.asarray(results.map_xy, np.float32)


def from_model(client, model: ModelChoice) -> Map:
  """Fetches the map the model carries (``Client.reference_map``).

  Raises:
    NoModelMap: the model (or this client) has no reference_map signature.
  """
  fetch = getattr(client, 'reference_map', None)
  if fetch is None:
    raise NoModelMap(f'model {model}: this client cannot read reference maps')
  try:
    ref = fetch(model.name, version=model.version, label=model.label)
  except (ModelNotFoundError, InvalidRequestError) as e:
    if 'reference_map' not in str(e):
      raise
    raise NoModelMap(str(e)) from None
  return Map(model, getattr(ref, 'model_version', None), FROM_MODEL,
             np.asarray(ref.xy, np.float32), [str(e) for e in ref.environments],
             [str(c) for c in ref.clip_ids], np.asarray(ref.penultimate, np.float32))


def fit_live(client, model: ModelChoice, reference: ReferenceSet, job=None,
             progress=None) -> Map:
  """Sends the reference clips through the model and fits UMAP on their penultimate vectors."""
  ref = predict(client, model, reference.clips, job, progress, what='reference clips')
  if job is not None:
    job.check()
  if progress is not None:
    progress(1.0, f'{model}: fitting the map on {len(reference)} reference clips')
  projection = proj.fit(ref.embedding, reference.environments)
  projection.transform(ref.embedding[:2])  # compiles UMAP's transform path now
  return Map(model, ref.model_version, FITTED, projection.points, list(reference.environments),
             list(reference.files), ref.embedding, ref.top_class, projection)


def fit_on_clips(results: Results) -> Map:
  """No reference at all: a map fitted on the clips themselves, labelled by prediction."""
  projection = proj.fit(results.embedding, results.top_class)
  return Map(results.model, results.model_version, FITTED, projection.points[:0], [], [],
             results.embedding[:0], [], _OwnPoints(projection.points))


class _OwnPoints(proj.Projection):
  """Places the clips a map was fitted on at their fitted positions."""

  def __init__(self, points: np.ndarray):
    super().__init__(None, points, np.asarray([]))

  def transform(self, embeddings: np.ndarray) -> np.ndarray:
    return self.points
