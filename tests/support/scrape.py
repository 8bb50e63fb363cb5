"""Reading a Prometheus text exposition in tests: sample values by name and labels."""

import urllib.request
from typing import Dict, FrozenSet, Tuple

from prometheus_client.parser import text_string_to_metric_families

Samples = Dict[Tuple[str, FrozenSet[Tuple[str, str]]], float]


def parse(text: str) -> Samples:
  """Every sample of an exposition, keyed by (sample name, frozenset of label pairs)."""
  return {(s.name, frozenset(s.labels.items())): s.value
          for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(url: str, timeout_s: float = 30) -> Samples:
  with urllib.request.urlopen(url, timeout=timeout_s) as response:
    return parse(response.read().decode())


def value(samples: Samples, name: str, **labels) -> float:
  """The sample ``name`` with exactly ``labels``; 0 when there is none (not yet counted)."""
  return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels) -> float:
  """The sum of the samples ``name`` whose labels include ``labels``."""
  want = set(labels.items())
  return sum(v for (n, l), v in samples.items() if n == name and want <= l)
