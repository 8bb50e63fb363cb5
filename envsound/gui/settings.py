"""What the desktop client remembers between runs: last server, folders, model.

Stored as JSON in ``$XDG_CONFIG_HOME/envsound/gui.json`` (default ``~/.config``), so tests
can redirect it. A missing or unreadable file means "nothing remembered".
"""

import json
import os
from pathlib import Path
from typing import Any, Dict

from envsound.core.atomic import atomic_file

DEFAULT_SERVER = 'localhost:8500'


def config_path() -> Path:
  """Returns the settings file's path (respects ``XDG_CONFIG_HOME``)."""
  base = os.environ.get('XDG_CONFIG_HOME') or Path.home() / '.config'
  return Path(base) / 'envsound' / 'gui.json'


def load() -> Dict[str, Any]:
  """Returns the remembered settings, or {} when there are none or the file is damaged."""
  try:
    data = json.loads(config_path().read_text(encoding='utf-8'))
  except (OSError, ValueError):
    return {}
  return data if isinstance(data, dict) else {}


def update(**values: Any) -> Dict[str, Any]:
  """Merges ``values`` into the remembered settings and writes them; returns the result.

  Failing to write (read-only home) is not an error for a GUI: the values are returned.
  """
  data = load()
  data.update({k: v for k, v in values.items() if v is not None})
  try:
    with atomic_file(config_path(), 'w') as f:
      json.dump(data, f, indent=2, sort_keys=True)
  except OSError:
    pass
  return data
