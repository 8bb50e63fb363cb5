"""Printing the serving bench's figures: the server/in-process table and the paired ratios."""

from typing import Dict

import numpy as np

from benchlib.serving_runs import CLIENTS, FLOOR


def table(results: Dict[str, Dict[str, object]]) -> str:
  """Latency and throughput of each way of calling, with ratios to in-process calls."""
  cols = [k for k in ('in-process', 'serve off', 'serve on') if k in results]
  head = f'{"":34}' + ''.join(f'{c:>14}' for c in cols)
  head += ''.join(f'{"ratio " + c.split()[-1]:>12}' for c in cols[1:])
  lines = [head, '-' * len(head)]
  base = results['in-process']

  def row(title, key, attr, fmt):
    vals = [getattr(results[c][key], attr) for c in cols]
    line = f'{title:34}' + ''.join(f'{v:>14{fmt}}' for v in vals)
    line += ''.join(f'{v / getattr(base[key], attr):>11.2f}x' for v in vals[1:])
    lines.append(line)

  for n in (1, 64):
    row(f'Predict {n:>2} clip(s)   p50 latency ms', f'lat{n}', 'p50_ms', '.2f')
    row(f'Predict {n:>2} clip(s)   p99 latency ms', f'lat{n}', 'p99_ms', '.2f')
  for c in CLIENTS:
    row(f'{c:>2} client(s), 1 clip  clips/s', f'tp{c}', 'clips_per_s', '.0f')
  for c in CLIENTS:
    row(f'{c:>2} client(s), 1 clip  p50 ms', f'tp{c}', 'p50_ms', '.2f')
  errors = {c: sum(results[c][f'tp{n}'].errors for n in CLIENTS) for c in cols}
  lines.append(f'{"failed calls":34}' + ''.join(f'{errors[c]:>14}' for c in cols))
  return '\n'.join(lines)


def print_paired(paired, rounds: int, seconds: float) -> None:
  """The alternating 32-client rounds: each server's runs and the median ratios."""
  def median(name, over='serve off'):
    return float(np.median([a.clips_per_s / b.clips_per_s
                            for a, b in zip(paired[name], paired[over])]))

  def runs(name):
    return '/'.join(f'{t.clips_per_s:.0f}' for t in paired[name])
  print(f'32 clients, {rounds} alternating rounds of {seconds:g} s, clips/s: '
        f'batching on {runs("serve on")}, off {runs("serve off")}, gRPC floor {runs(FLOOR)}')
  print(f'  batching on / off: median {median("serve on"):.2f}x (goal >= 3x)')
  print(f'  gRPC floor / batching off: median {median(FLOOR):.2f}x: the most any batching '
        f'could give with these clients and this gRPC server, at zero model cost')
  print(f'  batching on / gRPC floor: median {median("serve on", FLOOR):.2f}x')
