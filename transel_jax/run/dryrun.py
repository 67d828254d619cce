"""``transel run --dry-run``: what a run would do, without training anything or writing a file.

Three parts, printed in this order:

- the stages: ``cached``, ``will run`` or ``stale (why): will run``, decided by
  :func:`transel_jax.run.stage.decide`, the function the run itself uses; a stage after a content-addressed
  stage that is yet to run, and whose own marker exists, is ``pending``: it runs unless that stage
  reproduces its digest;
- the work (:func:`work`): pool models to train, targets, fine-tunes per target, ensembles scored
  (C(N, S) of the whole pool) and evaluated (C(K, S) of the K candidates kept per target), probe seeds;
- the data (:func:`check_data`): every dataset the config names must be loadable the way the run loads
  it (:func:`transel_jax.run.datasets.split`): synthetic ones are generated from the catalog, real ones
  need their prepared TFDS files under ``config.data.data_dir`` (or, with no ``data_dir``, their
  original files under ``$TRANSEL_REAL_DATA/<name>``). Nothing is downloaded or prepared.

:func:`main` first lists every config problem (:func:`transel_jax.run.validate.problems`) and returns 2 if
there is any; otherwise it prints the plan and returns 2 when a dataset is missing (the plan is printed
all the same), else 0.
"""
from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence

from transel_jax.provenance import code_identity
from transel_jax.run import datasets, plan, validate
from transel_jax.run.stage import Step, cached_line, walk

MISSING_DATA = 2  # exit status when a dataset the config names cannot be loaded


def stage_plan(config, run_dir: str, *, until: str | None = None, rerun: Sequence[str] = ()) -> list[Step]:
    """One :class:`~transel_jax.run.stage.Step` per stage of the pipeline (up to ``until``), nothing run."""
    from transel_jax.run.pipeline import STAGES

    return list(walk(STAGES, config, run_dir, lambda step: None, until=until, rerun=rerun))


def stage_line(step: Step) -> str:
    """The plan line of one stage."""
    action, why = step.decision.action, step.decision.why
    if action == "cached":
        return cached_line(step.tag, step.stage, step.marker, code_identity())
    if action == "run":
        return f"{step.tag}: will run" + (f" ({why})" if why != "not run yet" else "")
    if action == "pending":
        return f"{step.tag}: pending ({why})"
    return f"{step.tag}: stale ({why}): will run"


# ------------------------------------------------------------------------ work


@dataclasses.dataclass(frozen=True)
class Work:
    """How much a run trains and scores.

    Attributes:
      generic, candidates: pool models (generic pre-training models, candidate source models N).
      per_target: candidates of each target (N, or with ``targets.leave_target_out`` N minus the models
        trained on the target; the smallest over targets).
      targets: target dataset names.
      kept: candidates fine-tuned per target by the finetune stage (K = ``probe.candidates``, 0 = all N).
      ensemble_size: S.
      probe_seeds: the pixel-sampling seeds.
      influence_generic: 1 when the influence study fine-tunes its generic baseline on every target.
      extra_at_most: fine-tunes per target the selection and influence stages may add outside the kept
        candidates (its sources, the selected members and B1; 0 when every candidate is kept).
      b1l: 1 when the selection study trains and fine-tunes a larger B1L model per target.
    """

    generic: int
    candidates: int
    per_target: int
    targets: tuple[str, ...]
    kept: int
    ensemble_size: int
    probe_seeds: tuple[int, ...]
    influence_generic: int
    extra_at_most: int
    b1l: int

    @property
    def scored(self) -> int:
        """Ensembles scored per target: C(N_T, S) of the target's candidates."""
        return math.comb(self.per_target, self.ensemble_size)

    @property
    def evaluated(self) -> int:
        """Ensembles with an actual mIoU per target: C(K, S)."""
        return math.comb(self.kept, self.ensemble_size)


def work(config) -> Work:
    """The counts of :class:`Work` for ``config`` (validated as the stages validate it)."""
    specs = plan.candidate_specs(config.pool)
    n = len(specs)
    targets = tuple(plan.check_targets(config))
    per_target = min(len(plan.candidates_for(config, t, specs)) for t in targets)
    keep = int(config.probe.candidates)
    kept = per_target if keep == 0 or keep >= per_target else keep
    size = int(config.probe.ensemble_size)
    generic_init = "generic" in config.pool.inits
    return Work(generic=len(plan.pretrain_specs(config.pool)), candidates=n, per_target=per_target,
                targets=targets, kept=kept, ensemble_size=size,
                probe_seeds=tuple(int(s) for s in config.probe.seeds), influence_generic=int(generic_init),
                extra_at_most=0 if kept == per_target else len(config.pool.datasets) + size + 1,
                b1l=int(bool(config.selection.larger_model)))


def work_lines(w: Work) -> list[str]:
    """The work part of the plan, one line per quantity."""
    pool = f"pool models to train: {w.generic + w.candidates} ({w.generic} generic + {w.candidates} candidates)"
    if w.b1l:
        pool += f", + {len(w.targets)} B1L (selection.larger_model; 1 per target) and its architecture's generic model"
    parts = [f"{w.kept} kept candidates"]
    parts += ["1 generic model (influence baseline)"] if w.influence_generic else []
    parts += ["1 B1L"] if w.b1l else []
    per_target = w.kept + w.influence_generic + w.b1l
    finetunes = f"fine-tunes per target: {per_target} ({' + '.join(parts)})"
    if w.extra_at_most:
        finetunes += f", + at most {w.extra_at_most} outside the kept ones (influence sources, selected members, B1)"
    s = w.ensemble_size
    return [
        pool,
        f"targets: {len(w.targets)} ({', '.join(w.targets)})",
        f"{finetunes}; {per_target * len(w.targets)} over all targets"
        + (" before those extra ones" if w.extra_at_most else ""),
        (f"ensembles per target (S={s}): {w.scored:,} scored (C({w.per_target}, {s})), "
         f"{w.evaluated:,} evaluated (C({w.kept}, {s}))"),
        f"probe seeds: {len(w.probe_seeds)} ({', '.join(map(str, w.probe_seeds))})",
    ]


# ------------------------------------------------------------------------ data


@dataclasses.dataclass(frozen=True)
class DataCheck:
    """Whether one dataset the config names can be loaded.

    Attributes:
      name: catalog name.
      named_by: the config fields that name it, e.g. ``("pool.datasets",)``.
      problem: None when every split the run reads opens; else why not (the error's first line).
      files_missing: the problem is missing files (not, e.g., a name the catalog does not know).
      looked_in: where its files were looked for ("" for a synthetic dataset).
      prepare: what makes it loadable ("" when it is).
    """

    name: str
    named_by: tuple[str, ...]
    problem: str | None
    files_missing: bool = False
    looked_in: str = ""
    prepare: str = ""


def named_datasets(config) -> dict[str, tuple[str, ...]]:
    """{dataset: the config fields naming it}. The selection baseline (B1L) and the influence study read
    only these: B1's source dataset, the generic dataset, the targets and the pool's datasets."""
    named: dict[str, list[str]] = {}
    fields = [("pool.datasets", config.pool.datasets), ("targets.datasets", config.targets.datasets)]
    if "generic" in config.pool.inits:
        fields.insert(1, ("pool.generic_dataset", (config.pool.generic_dataset,)))
    for field, names in fields:
        for name in names:
            named.setdefault(name, []).append(field)
    return {name: tuple(by) for name, by in named.items()}


def check_data(config) -> list[DataCheck]:
    """A :class:`DataCheck` per dataset of :func:`named_datasets`, opening the splits the run reads (train and
    ``data.test_split``) with :func:`transel_jax.run.datasets.split`. Never downloads or prepares."""
    from transel_jax.data import catalog

    checks = []
    for name, named_by in named_datasets(config).items():
        try:
            suite = catalog.info(name).suite
        except ValueError as e:
            checks.append(DataCheck(name, named_by, f"not in the catalog: {e}"))
            continue
        problem, files_missing = None, False
        for split_name in dict.fromkeys(("train", config.data.test_split)):
            try:
                datasets.split(config, name, split_name)
            except (FileNotFoundError, ValueError) as e:  # real.MissingDataError is a FileNotFoundError
                problem, files_missing = f"{split_name}: {str(e).splitlines()[0]}", isinstance(e, FileNotFoundError)
                break
        where, how = ("", "") if suite == "synthetic" else _real_location(config, name)
        checks.append(DataCheck(name, named_by, problem, files_missing, where, how if problem else ""))
    return checks


def _real_location(config, name: str) -> tuple[str, str]:
    """(where the run looks for real dataset ``name``, the command that puts it there)."""
    data_dir = config.data.data_dir
    if data_dir:
        from transel_jax.data.real.tfds_builder import BUILDER_NAME

        where = os.path.join(os.path.expanduser(data_dir), BUILDER_NAME, name)
        return where, f"transel real prepare {name} --root <its original files> --data-dir {data_dir}"
    from transel_jax.data.real import default_root

    where = str(default_root(name))
    return where, (f"put its original files there (see transel real check {name}), or prepare them with "
                   f"transel real prepare {name} and pass --config.data.data_dir")


def data_lines(checks: list[DataCheck]) -> list[str]:
    missing = [c for c in checks if c.problem]
    lines = [f"{len(checks)} datasets named, {len(checks) - len(missing)} loadable, {len(missing)} missing"]
    for c in checks:
        if c.problem:
            detail = f"looked in {c.looked_in}" if c.files_missing and c.looked_in else c.problem
            lines.append(f"MISSING {c.name} ({', '.join(c.named_by)}): {detail}")
            if c.prepare:
                lines.append(f"        {c.prepare}")
        else:
            lines.append(f"ok      {c.name} ({', '.join(c.named_by)})" + (f": {c.looked_in}" if c.looked_in else ""))
    return lines


# ------------------------------------------------------------------------ the command


def main(config, run_dir: str, *, until: str | None = None, rerun: Sequence[str] = (),
         print_fn: Callable[[str], None] = print) -> int:
    """Print the plan of ``transel run`` for ``config`` in ``run_dir``; 2 if the config has a problem or a
    dataset is missing, else 0.

    Reads the run directory's markers (if it exists) and the datasets' files; writes nothing.
    """
    found = validate.problems(config)
    if found:
        print_fn(f"dry run of config {config.name!r}: {len(found)} config problem(s), nothing would run:")
        for line in found:
            print_fn(f"  {line}")
        return MISSING_DATA
    steps = stage_plan(config, run_dir, until=until, rerun=rerun)
    w = work(config)
    checks = check_data(config)
    new = "" if os.path.isdir(run_dir) else " (does not exist yet)"
    print_fn(f"dry run of config {config.name!r} in {run_dir}{new}: nothing is trained or written")
    print_fn("stages:")
    for step in steps:
        print_fn(f"  {stage_line(step)}")
    print_fn("work:")
    for line in work_lines(w):
        print_fn(f"  {line}")
    print_fn("data:")
    for line in data_lines(checks):
        print_fn(f"  {line}")
    return MISSING_DATA if any(c.problem for c in checks) else 0
