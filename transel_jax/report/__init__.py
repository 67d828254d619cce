"""The run report: markdown tables and PNG figures from a run's results (plain data in, files out).

``write_report(data, out_dir)`` renders ``report.md`` and the figures; ``data`` is the dict a run's
``report`` stage gathers (:func:`transel_jax.run.report_stage.gather`), documented in :mod:`.markdown`.
Nothing here imports jax or reads the run directory itself.
"""
from transel_jax.report.markdown import render, write_report

__all__ = ["render", "write_report"]
