"""Progress events of other processes reach the drawing process through progress_channel."""

import os
import subprocess
import sys

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions

from envsound.components import audioset_example_gen as ingestion_gen
from envsound.components import ingestion, progress
from envsound.pipeline import beam_args, progress_channel


def test_events_of_a_child_process_arrive_in_order_and_the_folder_goes(tmp_path):
  seen = []
  folder = tmp_path / 'run.events'
  with progress_channel.Channel(folder, seen.append, interval_s=0.05):
    code = ('from envsound.components import progress\n'
            'progress.planned("ingestion", 3, "file")\n'
            'for i in range(3): progress.advanced("ingestion", "file", note=f"f{i}")\n')
    subprocess.run([sys.executable, '-c', code], check=True, timeout=120)
    progress.advanced('ingestion', 'file', note='this process: logged, not relayed')
  assert seen == [progress.Event('ingestion', 'file', total=3),
                  *(progress.Event('ingestion', 'file', done=1, note=f'f{i}') for i in range(3))]
  assert not folder.exists() and progress.CHANNEL_ENV not in os.environ


def test_ingestion_under_beam_multi_processing_reports_each_file_read(make_release, tmp_path):
  root = make_release(clips={'bal_train': [0, 1, 2], 'unbal_train': [1, 1, None]})
  sources = ingestion_gen.sources(str(root), '*_train/*.tfrecord')
  seen = []
  options = PipelineOptions(beam_args.direct_args('multi_processing', workers=2))
  with progress_channel.Channel(tmp_path / 'events', seen.append, interval_s=0.05):
    with beam.Pipeline(options=options) as p:
      _ = p | ingestion.IngestSplit(sources, str(root / 'class_labels_indices.csv'), 'train',
                                    max_clips=2)
  # two files, each read twice (the cap's keys, then the clips), reported by the workers
  assert sum(e.done for e in seen) == ingestion.count_file_reads(sources, capped=True) == 4
  assert {(e.what, e.unit) for e in seen} == {(ingestion.PROGRESS, 'file')}
