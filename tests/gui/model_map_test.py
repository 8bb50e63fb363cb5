"""The window against served models that carry their own map (``reference_map``, ``map_xy``)."""

import pytest

from tests.gui import model_map

pytestmark = [pytest.mark.gui, pytest.mark.integration]


def test_the_window_draws_the_models_own_map_and_places_clips_by_map_xy(
    make_app, server, clip_data):
  app = make_app(server=server.grpc_target, models=['tiny_b'], model='tiny_b')
  model_map.check(app, server.grpc_target, 'tiny_b', sorted(clip_data['new'].glob('*.npy')))
