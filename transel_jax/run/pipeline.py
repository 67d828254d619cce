"""The stages of ``transel run`` in order, and :func:`run` that executes them in a run directory.

=========  ==================================================  ========================================
stage      does                                                 config groups
=========  ==================================================  ========================================
pool       train generic models and every candidate source      seed, model_dtype, data, pool
probe      class-balanced pixel samples, source outputs there   probe, targets (+ pool)
scoring    ensemble and single-model transferability scores     probe
           of every C(N, S) ensemble of the whole pool
candidates per target, the candidates the correlation study     seed, probe (content-addressed: only
           fine-tunes (000 Sec. 4.1: 5 good + 10 random)        the kept lists reach later stages)
finetune   fine-tune the kept candidates, predict the tests     targets (+ pool, kept lists)
actual     actual test mIoU of every kept-candidate ensemble    probe
evaluate   weighted tau / Kendall / Pearson over probe seeds    probe
selection  top ensemble of the whole pool + ensemble head vs    selection
           baselines (fine-tunes what it needs)
influence  transfer gains, domain distances, their tau          influence
report     report.md and figures                                name
=========  ==================================================  ========================================
"""
from __future__ import annotations

import os
from typing import Sequence

from transel_jax.run import (actual, candidates, evaluate, finetunes, hosts, influence, pool, probe,
                             report_stage, scoring, selection, validate)
from transel_jax.run.stage import COMPILE_CACHE, Context, Stage, check_names, prepare_run_dir, run_stages

_BASE = ("seed", "model_dtype", "data")
STAGES: tuple[Stage, ...] = (
    Stage("pool", pool.run_pool, _BASE + ("pool",), (), pool.line, version=2,
          divided=True),  # 2: syn_drive_adverse renders each image as it does alone (no batch dependence)
    Stage("probe", probe.run_probe, _BASE + ("probe", "targets"), ("pool",), probe.line, divided=True),
    Stage("scoring", scoring.run_scoring, ("probe",), ("probe",), scoring.line,
          version=2, divided=True),  # 2: shrinkage H-Score, TransRate, N-LEEP among the single-model metrics
    Stage("candidates", candidates.run_candidates, ("seed", "probe"), ("scoring",), candidates.line,
          digest=candidates.digest),
    Stage("finetune", finetunes.run_finetunes, _BASE + ("targets",), ("pool", "candidates"), finetunes.line,
          version=2, divided=True),  # 2: test logits stored at the output stride
    Stage("actual", actual.run_actual, ("probe",), ("finetune",), actual.line),
    Stage("evaluate", evaluate.run_evaluate, ("probe",), ("actual", "scoring"), evaluate.line),
    Stage("selection", selection.run_selection, ("selection",), ("actual", "scoring", "finetune"), selection.line,
          version=3, divided=True),  # 2: diagnostics (member disagreement, head gain over the average, best-member
    # margin); 3: the head kept only where it beats the plain average in cross-validation (selection.head_folds)
    Stage("influence", influence.run_influence, ("influence",), ("finetune",), influence.line, divided=True),
    Stage("report", report_stage.run_report, ("name",), ("evaluate", "selection", "influence"),
          report_stage.line),
)


def enable_compilation_cache(run_dir: str) -> None:
    """Persist compiled XLA programs under ``<run_dir>/.jax_cache``: the many fine-tunes of one architecture
    and class count compile the same programs, and a resumed run compiles nothing it compiled before."""
    import jax

    jax.config.update("jax_compilation_cache_dir", os.path.join(os.path.abspath(run_dir), COMPILE_CACHE))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def _quiet(line: str) -> None:
    pass


def run(config, run_dir: str, *, fresh: bool = False, until: str | None = None, rerun: Sequence[str] = (),
        print_fn=print) -> dict:
    """Run every stage of :data:`STAGES` (or up to ``until``) in ``run_dir``; returns {stage: marker}.

    Finished stages with unchanged inputs are skipped; ``fresh`` clears the run directory first; the stages
    named in ``rerun`` are cleared and recomputed, and so are the stages after them (those after a
    content-addressed stage only if its digest changes). :mod:`transel_jax.run.stage` has the rules.

    Multi-host (``jax.distributed`` initialised, several processes: ``transel run --distributed``): every
    host calls this with the same arguments; the stages marked ``divided`` split their models among the
    hosts, the others run on the main host (:mod:`transel_jax.run.hosts`). ``run_dir`` must be one
    directory every host sees.

    On a CPU with several XLA devices (``XLA_FLAGS=--xla_force_host_platform_device_count=K``), models train
    and predict on the first one and the scoring engine uses them all
    (:func:`transel_jax.train.distributed.one_cpu_device_per_model`).
    """
    check_names(STAGES, until, rerun)  # before anything is created
    validate.check(config)
    if hosts.is_main():
        prepare_run_dir(run_dir, fresh)
    hosts.barrier("run directory ready")
    enable_compilation_cache(run_dir)
    if hosts.count() > 1 and not hosts.is_main():
        print_fn = _quiet  # the main host prints the stage lines
    ctx = Context(config=config, run_dir=os.path.abspath(run_dir), print_fn=print_fn)
    from transel_jax.train.distributed import one_cpu_device_per_model

    with one_cpu_device_per_model():  # on CPU: models on one device, the scoring engine on every one
        return run_stages(STAGES, ctx, seed=int(config.seed), until=until, rerun=rerun)
