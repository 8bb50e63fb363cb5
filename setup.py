"""envsound's build: setuptools (configured in pyproject.toml) plus one generated package.

``build_py`` first writes ``envsound_wire/`` (TF Serving's message modules, generated without
TensorFlow by scripts/wire_codegen.py) into the source tree, then builds as usual; editable
installs find it there too. The folder is generated, never committed.
"""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / 'scripts'))
import wire_codegen  # pylint: disable=wrong-import-position


class BuildPyWithWire(build_py):
  """build_py that generates the ``envsound_wire`` packages before copying packages."""

  def run(self):
    generated = wire_codegen.generate(ROOT)
    self.packages = sorted(set(self.packages or ()) | set(generated))
    self.distribution.packages = sorted(set(self.distribution.packages or ()) | set(generated))
    super().run()


setup(cmdclass={'build_py': BuildPyWithWire})
