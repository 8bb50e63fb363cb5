"""The report's PNG plots: confusion matrices and training curves (matplotlib, no pyplot)."""

from typing import Dict, Sequence

import numpy as np


def _figure(width: float, height: float):
  """A matplotlib Figure drawn by the Agg backend, without pyplot's global state."""
  # pylint: disable=import-outside-toplevel
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure
  fig = Figure(figsize=(width, height))
  FigureCanvasAgg(fig)
  return fig


def plot_confusion(matrix: np.ndarray, class_names: Sequence[str], path, title: str) -> None:
  """Writes a confusion matrix (rows: true environment, columns: predicted) as a PNG."""
  from sklearn.metrics import ConfusionMatrixDisplay  # pylint: disable=import-outside-toplevel
  fig = _figure(1.0 + 0.6 * len(class_names), 1.2 + 0.55 * len(class_names))
  ax = fig.subplots()
  ConfusionMatrixDisplay(np.asarray(matrix), display_labels=list(class_names)).plot(
      ax=ax, cmap='Blues', values_format='d', xticks_rotation=45, colorbar=False)
  for label in ax.get_xticklabels():
    label.set(ha='right', rotation_mode='anchor')
  ax.set_title(title)
  ax.set_xlabel('predicted environment')
  ax.set_ylabel('true environment')
  fig.tight_layout()
  fig.savefig(path, dpi=100)


def plot_history(history: Dict[str, Sequence[float]], path, title: str,
                 metrics: Sequence[str] = ('loss', 'accuracy')) -> None:
  """Writes each metric per epoch (default loss and accuracy), training vs validation, as a
  PNG."""
  fig = _figure(5 * len(metrics), 4)
  for ax, metric in zip(fig.subplots(1, len(metrics)), metrics):
    for key, label in ((metric, 'training'), (f'val_{metric}', 'validation')):
      values = history.get(key)
      if values:
        ax.plot(range(1, len(values) + 1), values, marker='o', label=label)
    ax.set_xlabel('epoch')
    ax.set_ylabel(metric)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    if ax.lines:
      ax.legend()
  fig.suptitle(title)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
