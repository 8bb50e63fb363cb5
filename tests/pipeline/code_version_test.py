"""The code fingerprint in the settings of Transform, the Tuner and the Trainers: an edit to
the code they run changes their settings, so TFX's cache does not reuse the old outputs."""

import json
import shutil

from envsound.core import approaches
from envsound.pipeline import code_version, configs
from envsound.pipeline import pipeline as pipeline_lib


def _package(tmp_path):
  package = tmp_path / 'envsound'
  for folder in code_version.SOURCES:
    shutil.copytree(code_version.PACKAGE / folder, package / folder,
                    ignore=shutil.ignore_patterns('__pycache__'))
  return package


def test_an_edit_to_a_trainer_or_a_schema_changes_the_fingerprint(tmp_path):
  package = _package(tmp_path)
  before = code_version.fingerprint(package)
  assert before == code_version.fingerprint(code_version.PACKAGE) == code_version.current()
  trainer = package / 'components' / 'trainer_cnn2d.py'
  trainer.write_text(trainer.read_text() + '\n# an edit\n')
  edited = code_version.fingerprint(package)
  assert edited != before
  schema = next((package / 'schemas').glob('*.pbtxt'))
  schema.write_text(schema.read_text() + '\n')
  assert code_version.fingerprint(package) not in (before, edited)


def test_files_that_are_not_code_do_not_change_it(tmp_path):
  package = _package(tmp_path)
  before = code_version.fingerprint(package)
  (package / 'components' / 'notes.txt').write_text('scratch')
  assert code_version.fingerprint(package) == before


def test_transform_and_every_trainer_carry_it():
  cfg = configs.PipelineConfig(data_root='d', pipeline_root='r', serving_dir='s')
  components = {c.id: c for c in pipeline_lib.create_pipeline(cfg).components}
  wanted = [f'Transform_{s}' for s in approaches.TRAINING_SETS] + [
      f'Trainer_{a.name}' for a in approaches.APPROACHES]
  for component_id in wanted:
    config = json.loads(components[component_id].exec_properties['custom_config'])
    assert config[code_version.KEY] == code_version.current(), component_id
