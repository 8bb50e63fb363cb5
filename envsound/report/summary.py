"""The part of a results report that ``envsound pipeline run`` prints on the console."""

import re
from typing import Sequence

CONSOLE_SECTIONS = ('Results', 'Ranking')


def console_summary(markdown: str, sections: Sequence[str] = CONSOLE_SECTIONS) -> str:
  """The report's title block and its ``## <name>`` sections named in ``sections``, in order.

  The rest (per-class tables, plots, separation, TensorBoard) stays in the file.
  """
  parts = re.split(r'^(?=## )', markdown, flags=re.MULTILINE)
  kept = [parts[0].rstrip()]
  for part in parts[1:]:
    title = part.splitlines()[0][3:].strip()
    if title in sections:
      kept.append(part.rstrip())
  return '\n\n'.join(kept)
