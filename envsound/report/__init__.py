"""The results report of a pipeline run: the research project's Results table on this run's data.

One module per idea: ``runs`` reads ML Metadata, ``tfma_results`` the Evaluator's output,
``scores`` computes metrics, ``reference`` fits the logistic-regression reference,
``ranking`` and ``markdown`` write the text, ``plots`` the PNGs, ``write`` puts it together.
"""

from envsound.report.write import REPORT_FILE, write_report

__all__ = ['REPORT_FILE', 'write_report']
