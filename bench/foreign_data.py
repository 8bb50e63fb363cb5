"""The issue's goal checked on AudioSet-format data that envsound's sample generator did not write.

Writes a release from benchlib.foreign_model (3,000 bal_train, 6,000 unbal_train, 1,000 eval
clips; a different generative model, same record format and class labels csv), runs
``envsound pipeline run`` on it at default settings (``nice -n 5``; its log beside the
pipeline root), then prints from the run's ML Metadata (what the report shows): each
approach's validation accuracy with its standard error, its margin over the pipeline's
reference with the standard error of that difference, whether it clears the goal (the
reference + 0.03), its mean per-environment average precision, and whether the ranking 3 > 2 > 1 holds, each step with its uncertainty.

  .venv/bin/python bench/foreign_data.py [--work /tmp/envsound-bench/foreign] [--seed 7]
      [--reuse]  (skip generation and the run; read an earlier run's metadata)
"""

import argparse
import math
import os
import subprocess
import sys
from pathlib import Path

import benchlib  # pylint: disable=unused-import  (sys.path, TensorFlow's settings)
from benchlib import foreign_model
from envsound.core import approaches
from envsound.core.taxonomy import load_taxonomy
from envsound.report import precision, runs

GOAL_MARGIN = 0.03


def _se(p: float, n: int) -> float:
  return math.sqrt(p * (1 - p) / n) if n else math.nan


def run_pipeline(data: Path, root: Path) -> None:
  log = root.parent / 'pipeline.log'
  command = ['nice', '-n', '5', sys.executable, '-m', 'envsound', 'pipeline', 'run',
             '--data', str(data), '--pipeline-root', str(root),
             '--serving-dir', str(root.parent / 'serving')]
  print(' '.join(command), f'> {log}', flush=True)
  with open(log, 'w', encoding='utf-8') as out:
    subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=True)


def summarize(root: Path) -> None:
  class_names = list(load_taxonomy().names)
  record = runs.collect(str(root), str(root / 'metadata.sqlite'), len(class_names))
  for problem in precision.add_average_precision(record, class_names):
    print(f'  {problem}')
  reference = record.references.get(approaches.BALANCED)
  if reference is None:
    sys.exit('the run has no balanced-set reference')
  ref_se = _se(reference.accuracy, reference.eval_clips)
  print(f'reference (logistic regression, C {reference.c:g}): accuracy {reference.accuracy:.3f}'
        f' +- {ref_se:.3f} ({reference.train_clips:,} training, {reference.eval_clips:,} '
        'validation clips)')
  accuracy = {}
  for r in record.results:
    if r.scores is None:
      print(f'  {r.approach.title}: missing ({", ".join(r.missing)})')
      continue
    a, se = r.scores.accuracy, _se(r.scores.accuracy, r.eval_clips or 0)
    accuracy[r.approach.name] = (a, se)
    diff, diff_se = a - reference.accuracy, math.hypot(se, ref_se)
    verdict = ('meets the goal' if diff >= GOAL_MARGIN else
               f'misses the goal by {GOAL_MARGIN - diff:.3f}')
    print(f'  {r.approach.title} ({r.approach.name}, {r.train_clips:,} training clips, '
          f'{r.epochs} epochs): accuracy {a:.3f} +- {se:.3f}; vs reference {diff:+.3f} +- '
          f'{diff_se:.3f}: {verdict}; mean AP {r.scores.mean_average_precision:.3f}; '
          f'blessed {r.blessed}, pushed {r.pushed or "no"}')
  order = [a.name for a in approaches.APPROACHES][::-1]  # 3, 2, 1
  if all(name in accuracy for name in order):
    steps = []
    for hi, lo in zip(order, order[1:]):
      d = accuracy[hi][0] - accuracy[lo][0]
      steps.append(f'{hi} - {lo} = {d:+.3f} +- {math.hypot(accuracy[hi][1], accuracy[lo][1]):.3f}')
    holds = all(accuracy[h][0] > accuracy[l][0] for h, l in zip(order, order[1:]))
    print(f'ranking 3 > 2 > 1 {"holds" if holds else "does not hold"}: ' + '; '.join(steps))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
  parser.add_argument('--work', type=Path, default=benchlib.DEFAULT_WORK / 'foreign')
  parser.add_argument('--seed', type=int, default=7)
  parser.add_argument('--reuse', action='store_true')
  args = parser.parse_args()
  data, root = args.work / 'release', args.work / 'pipeline'
  if not args.reuse:
    foreign_model.write_release(data, args.seed)
    print(f'{os.cpu_count()} cores; release {data}: {foreign_model.SIZES}', flush=True)
    run_pipeline(data, root)
  summarize(root)


if __name__ == '__main__':
  main()
