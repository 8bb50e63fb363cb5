"""How well a map separates the environments: the figures in each map's title. No Tk here."""

from typing import Optional

from envsound.gui import projection as proj


def of_map(fitted) -> Optional[object]:
  """The separation figures of a map's reference points, or None without two classes."""
  if len(set(fitted.environments)) < 2:
    return None
  return proj.separation(fitted.xy, fitted.environments)


def title(fitted, version: Optional[int] = None) -> str:
  """A map's title: model, version that answered, where the map comes from, figures."""
  answered = version if version is not None else fitted.version
  head = f'{fitted.model}' + (f' (version {answered})' if answered is not None else '')
  lines = [f'{head} · {fitted.source}']
  if fitted.separation is not None:
    lines.append(str(fitted.separation))
  return '\n'.join(lines)
