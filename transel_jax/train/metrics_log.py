"""Per-run metric logs: ``metrics.jsonl`` (one JSON object per line), TensorBoard when installed.

Only process 0 writes; on other processes the writer is a no-op. Every record carries ``step`` and the
wall-clock ``time``; the first line of a fresh file records how the run was produced (``"run"`` record
with the config, package version and device list). A run starting at ``start_step`` (a resume) first
drops the rows of steps after it, which it is about to redo, so no step is logged twice.
"""
from __future__ import annotations

import json
import os
import time

import numpy as np

import transel_jax
from transel_jax.train import distributed


class MetricsWriter:
    def __init__(self, workdir: str, *, config: dict | None = None, start_step: int = 0):
        self.enabled = distributed.is_logging_process()
        self.path = os.path.join(workdir, "metrics.jsonl")
        self._tb = None
        if not self.enabled:
            return
        os.makedirs(workdir, exist_ok=True)
        fresh = not os.path.exists(self.path)
        if not fresh:
            _drop_rows_after(self.path, start_step)
        self._file = open(self.path, "a", encoding="utf-8")
        if fresh:
            self._write({"run": {"version": transel_jax.__version__, "config": config or {},
                                 "devices": [str(d) for d in distributed.devices()],
                                 "process_count": distributed.process_count(),
                                 "job": {"process_index": distributed.job_process_index(),
                                         "process_count": distributed.job_process_count()}}})
        self._tb = _tensorboard_writer(workdir)

    def write(self, step: int, metrics: dict) -> None:
        if not self.enabled:
            return
        values = {k: _to_python(v) for k, v in metrics.items()}
        self._write({"step": int(step), "time": time.time(), **values})
        if self._tb is not None:
            for k, v in values.items():
                if isinstance(v, (int, float)):
                    self._tb.add_scalar(k, v, int(step))

    def _write(self, record: dict) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self.enabled:
            self._file.close()
            if self._tb is not None:
                self._tb.close()


def _drop_rows_after(path: str, step: int) -> None:
    """Rewrite ``path`` (atomically) without the rows of steps > ``step``; other records are kept."""
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f if line.strip()]
    kept = []
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by a kill: the step is redone
            continue
        if not (isinstance(record, dict) and isinstance(record.get("step"), int) and record["step"] > step):
            kept.append(line if line.endswith("\n") else line + "\n")
    if len(kept) == len(lines):
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(kept)
    os.replace(tmp, path)


def read_metrics(workdir: str) -> list[dict]:
    """All records of ``<workdir>/metrics.jsonl`` in order."""
    with open(os.path.join(workdir, "metrics.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _to_python(v):
    arr = np.asarray(v)
    if arr.ndim == 0:
        return arr.item()
    return arr.tolist()


def _tensorboard_writer(workdir: str):
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401 -- optional
    except ImportError:
        try:
            from tensorboardX import SummaryWriter  # optional
        except ImportError:
            return None
    return SummaryWriter(os.path.join(workdir, "tensorboard"))
