"""The targets: what each says, and the names they go by."""

import os

import pytest

from envsound.core import features, targets
from envsound.core.labels import bundled_class_labels_path, load_class_labels
from envsound.core.taxonomy import load_taxonomy
from envsound.pipeline import configs


def test_the_environment_target_is_the_default_single_label_one():
  target = targets.by_name()
  assert target is targets.ENVIRONMENT
  assert (target.multi_label, target.keep_unassigned) == (False, False)
  assert (target.label_key, target.activation) == (features.LABEL_XF, 'softmax')
  assert target.class_names() == tuple(load_taxonomy().names)


def test_the_audioset_target_tags_the_release_classes():
  target = targets.by_name('audioset')
  assert (target.multi_label, target.keep_unassigned) == (True, True)
  assert (target.label_key, target.activation, target.loss) == (
      features.TAGS_XF, 'sigmoid', 'binary_crossentropy')
  names = target.class_names(str(bundled_class_labels_path()))
  assert names == load_class_labels(bundled_class_labels_path()).names
  assert len(names) == 527


def test_an_unknown_target_names_the_known_ones():
  with pytest.raises(KeyError, match='environment, audioset'):
    targets.by_name('birds')


def test_each_target_has_its_schema_installed():
  for target in targets.TARGETS:
    cfg = configs.PipelineConfig(data_root='d', pipeline_root='r', serving_dir='s',
                                 target=target.name)
    assert os.path.isfile(cfg.raw_schema)
    assert cfg.raw_schema.endswith(target.schema_file)


def test_the_config_carries_the_target_to_ingestion_and_the_trainers():
  cfg = configs.PipelineConfig(data_root='d', pipeline_root='r', serving_dir='s',
                               target='audioset', min_map=0.2)
  assert cfg.ingestion('balanced').target == 'audioset'
  assert cfg.custom_config(cfg.selected_approaches[0], ('a', 'b'))['target'] == 'audioset'


@pytest.mark.parametrize('settings, message', [
    ({'target': 'audioset', 'min_accuracy': 0.5}, '--min-accuracy is for the environment'),
    ({'min_map': 0.2}, '--min-map is for a multi-label target'),
    ({'target': 'audioset', 'tune': configs.TuningBudget()}, '--tune searches on accuracy'),
])
def test_settings_that_do_not_fit_the_target_are_refused(settings, message):
  with pytest.raises(ValueError, match=message):
    configs.PipelineConfig(data_root='d', pipeline_root='r', serving_dir='s', **settings)
