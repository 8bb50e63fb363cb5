"""The import contracts of docs/architecture.md (pyproject.toml's [tool.importlinter])."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_imports_follow_the_layers():
  lint = Path(sys.executable).with_name('lint-imports')
  done = subprocess.run([str(lint), '--no-cache'], cwd=ROOT, capture_output=True, text=True,
                        timeout=120, check=False)
  assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
  assert 'broken' in done.stdout and ' 0 broken' in done.stdout, done.stdout[-2000:]
