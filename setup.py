"""envsound's build: setuptools (configured in pyproject.toml) plus one generated package.

``build_py`` first generates ``envsound_wire`` (TF Serving's message modules, without
TensorFlow, by scripts/wire_codegen.py), then builds as usual. A wheel gets it from a
temporary folder under build/; an editable install from ``envsound_wire/`` in the source tree
(generated, ignored by git).
"""

import os
import shutil
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
    relative = Path('.') if self.editable_mode else Path('build', f'wire-{os.getpid()}')
    out = ROOT / relative
    try:
      generated = wire_codegen.generate(out)
      if not self.editable_mode:  # setuptools takes package dirs relative to setup.py
        self.package_dir = {**(self.package_dir or {}),
                            wire_codegen.PACKAGE: (relative / wire_codegen.PACKAGE).as_posix()}
      self.packages = sorted(set(self.packages or ()) | set(generated))
      self.distribution.packages = sorted(set(self.distribution.packages or ()) | set(generated))
      super().run()
    finally:
      if out != ROOT:
        shutil.rmtree(out, ignore_errors=True)


setup(cmdclass={'build_py': BuildPyWithWire})
