"""Cached stages of a run directory: skip what is done, redo what a config change invalidated.

A :class:`Stage` reads the config groups it names in ``config_keys`` and the outputs of the stages in
``after``, and writes its own outputs under ``<run_dir>/<stage name>/``. When it returns, a done-marker
``<run_dir>/<stage name>/done.json`` records

    {"stage", "fingerprint", "seed", "wall_s", "summary", "line", "provenance": {time, command, versions, ...}}

where ``fingerprint = sha256(stage name, the JSON of config[k] for k in config_keys, the fingerprints of
the stages in after)``. A later run skips a stage whose marker has the same fingerprint; a stage whose
inputs changed (its config groups, or any upstream stage) is cleared and recomputed, and so is everything
downstream of it, since their fingerprints contain its. A stage that runs for any other reason (its
marker is missing) makes the stages after it run again too, since their inputs were rewritten.

A stage interrupted before its marker was written is resumed: its directory is kept, so the work items it
finished (each written atomically, see :func:`write_json` / :func:`write_npz`) are found again and not
recomputed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from typing import Callable, Mapping, Sequence

import numpy as np

from transel_jax.provenance import provenance

MARKER = "done.json"
RUN_MARKER = "transel_run.json"  # marks a directory as a run directory (so --fresh may clear it)


@dataclasses.dataclass(frozen=True)
class Stage:
    """One step of the pipeline.

    Attributes:
      name: directory name under the run directory, e.g. ``"pool"``.
      fn: ``fn(ctx: Context) -> dict``: does the work, writes under ``ctx.dir(name)``, returns a small
        JSON-able summary (recorded in the marker; downstream stages may read it with ``ctx.summary``).
      config_keys: the top-level config groups the stage depends on.
      after: stages whose outputs it reads.
      line: ``summary -> str``, the one-line summary printed when the stage finishes or is skipped.
    """

    name: str
    fn: Callable[["Context"], dict]
    config_keys: tuple[str, ...]
    after: tuple[str, ...] = ()
    line: Callable[[dict], str] = lambda summary: ""


@dataclasses.dataclass
class Context:
    """What a stage sees: the config, the run directory and the markers of finished stages."""

    config: object                      # ml_collections.ConfigDict
    run_dir: str
    markers: dict = dataclasses.field(default_factory=dict)  # stage name -> marker dict
    print_fn: Callable[[str], None] = print

    def dir(self, *parts: str) -> str:
        """``<run_dir>/<parts...>``, created if missing."""
        path = os.path.join(self.run_dir, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def path(self, *parts: str) -> str:
        return os.path.join(self.run_dir, *parts)

    def summary(self, stage: str) -> dict:
        if stage not in self.markers:
            raise ValueError(f"stage: expected a finished stage among {sorted(self.markers)}, got {stage!r}")
        return self.markers[stage]["summary"]


def fingerprint(stage: Stage, config, upstream: Mapping[str, str]) -> str:
    """sha256 of the stage name, its config groups and its upstream fingerprints (module docstring)."""
    missing = [k for k in stage.config_keys if k not in config]
    if missing:
        raise ValueError(f"config: stage {stage.name!r} needs the groups {list(stage.config_keys)}, missing {missing}")
    payload = {
        "stage": stage.name,
        "config": {k: _jsonable(config[k]) for k in stage.config_keys},
        "after": {name: upstream[name] for name in stage.after},
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _jsonable(value):
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def check_order(stages: Sequence[Stage]) -> None:
    """ValueError unless names are unique and every ``after`` names an earlier stage."""
    seen = set()
    for stage in stages:
        if stage.name in seen:
            raise ValueError(f"stages: expected unique names, got {stage.name!r} twice")
        unknown = [a for a in stage.after if a not in seen]
        if unknown:
            raise ValueError(f"stages: {stage.name!r} runs after {unknown}, which are not earlier stages")
        seen.add(stage.name)


def prepare_run_dir(run_dir: str, fresh: bool) -> None:
    """Create ``run_dir``; with ``fresh``, clear it first (only if it is empty or a run directory)."""
    if fresh and os.path.isdir(run_dir) and os.listdir(run_dir):
        if not os.path.isfile(os.path.join(run_dir, RUN_MARKER)):
            raise ValueError(f"run_dir: --fresh clears only run directories (with {RUN_MARKER}); "
                             f"{run_dir!r} is a non-empty directory without one")
        shutil.rmtree(run_dir)
    os.makedirs(run_dir, exist_ok=True)
    marker = os.path.join(run_dir, RUN_MARKER)
    if not os.path.isfile(marker):
        write_json(marker, provenance(what="a transel run directory"))


def run_stages(stages: Sequence[Stage], ctx: Context, *, seed: int = 0, until: str | None = None) -> dict:
    """Run (or skip) ``stages`` in order; returns ``{name: marker}`` of every stage that is done.

    ``until``: stop after this stage (it and its predecessors are run).
    """
    check_order(stages)
    if until is not None and until not in [s.name for s in stages]:
        raise ValueError(f"until: expected one of {[s.name for s in stages]}, got {until!r}")
    prints: dict[str, str] = {}
    recomputed: set[str] = set()
    for i, stage in enumerate(stages, start=1):
        fp = fingerprint(stage, ctx.config, prints)
        prints[stage.name] = fp
        marker_path = ctx.path(stage.name, MARKER)
        marker = read_json(marker_path) if os.path.isfile(marker_path) else None
        tag = f"[{i}/{len(stages)}] {stage.name}"
        stale_inputs = recomputed.intersection(stage.after)
        if marker is not None and marker.get("fingerprint") == fp and not stale_inputs:
            ctx.markers[stage.name] = marker
            ctx.print_fn(f"{tag}: cached ({marker['wall_s']:.1f} s when run) {stage.line(marker['summary'])}")
        else:
            if marker is not None:  # inputs changed: the old outputs are stale
                why = f"{sorted(stale_inputs)} were recomputed" if stale_inputs else "its config changed"
                ctx.print_fn(f"{tag}: {why}; recomputing")
                shutil.rmtree(ctx.path(stage.name))
            recomputed.add(stage.name)
            ctx.dir(stage.name)
            start = time.perf_counter()
            summary = stage.fn(ctx) or {}
            wall = time.perf_counter() - start
            summary = _jsonable(summary)
            marker = {"stage": stage.name, "fingerprint": fp, "seed": seed, "wall_s": wall, "summary": summary,
                      "line": stage.line(summary), "provenance": provenance()}
            write_json(marker_path, marker)
            ctx.markers[stage.name] = marker
            ctx.print_fn(f"{tag}: done in {wall:.1f} s {marker['line']}")
        if stage.name == until:
            break
    return dict(ctx.markers)


# ------------------------------------------------------------------------ atomic result files


def write_json(path: str, obj) -> None:
    """Write ``obj`` as JSON atomically (temporary file + rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=False, default=_default)
    os.replace(tmp, path)


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_npz(path: str, **arrays) -> None:
    """``np.savez`` atomically (temporary file + rename); ``path`` ends in ``.npz``."""
    tmp = f"{path[:-4]}.tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def read_npz(path: str) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
