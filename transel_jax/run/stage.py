"""Cached stages of a run directory: skip what is done, redo what a config or code change invalidated.

A :class:`Stage` reads the config groups it names in ``config_keys`` and the outputs of the stages in
``after``, and writes its own outputs under ``<run_dir>/<stage name>/``. When it returns, a done-marker
``<run_dir>/<stage name>/done.json`` records

    {"stage", "fingerprint", "inputs", "digest", "seed", "wall_s", "summary", "line",
     "provenance": {time, command, versions, git_commit, ...}}

where ``inputs = {stage name, version (if not 1), the JSON of config[k] for k in config_keys, the key of
every stage in after}`` and ``fingerprint = sha256(json(inputs))``. A stage's *key* (what the stages after it fold in) is
its fingerprint, or, for a content-addressed stage (``digest`` set), ``"digest:" + sha256(json(
digest(summary)))``: a digest of what it computed instead of what it was asked.

The rules (one function, :func:`decide`, applies them for a run and for a dry run alike):

- a stage whose marker has the same fingerprint is skipped (``cached``);
- a stage whose fingerprint changed is ``stale``: its directory is cleared and it is recomputed; so are
  the stages after it, since their fingerprints contain its key;
- a stage without a marker runs, resuming what an interrupted attempt with the same fingerprint left in
  its directory (``started.json`` records the attempt's fingerprint; another fingerprint, or a stage
  before it that runs again, makes those leftovers stale); a stage named in ``rerun`` is cleared and
  recomputed;
- a stage that runs, for whatever reason, makes the stages after it run too (their inputs were rewritten),
  unless it is content-addressed: then they rerun only if its digest changed. So when a probe change
  recomputes the per-target candidate lists but they come out the same, the fine-tunes after them stay
  cached.

**Bump ``version`` when a change of code changes a stage's results**: the fingerprint covers the config
and the upstream stages, not the code, so without a bump a run directory keeps results the new code would
not produce. A bump recomputes that stage and everything downstream. A cached stage whose marker was
written by another transel_jax version or git commit says so on its line (``--rerun NAME`` recomputes it).

A stage interrupted before its marker was written is resumed: its directory is kept, so the work items it
finished (each written atomically, see :func:`write_json` / :func:`write_npz`) are found again and not
recomputed, as long as its inputs are those it was started with.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence


from transel_jax.files import read_json, read_npz, write_json, write_npz  # noqa: F401 (the stages' writers)
from transel_jax.provenance import code_identity, provenance
from transel_jax.run import hosts
from transel_jax.train import memo

MARKER = "done.json"
STARTED = "started.json"  # {"fingerprint", "inputs"} of the attempt that is filling the stage's directory
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
      version: part of the fingerprint; bump it when a change of code changes the stage's results.
      digest: ``summary -> JSON-able``, set for a content-addressed stage: everything the stages after it
        read of its outputs must be a function of ``digest(summary)`` (module docstring), and a stage
        after it that also reads its upstream stages must name them in its own ``after``.
      divided: in a multi-host run (:mod:`.hosts`), every host calls ``fn``, which divides its work items
        among them (:func:`transel_jax.run.hosts.each`) and returns the same summary on every host;
        otherwise ``fn`` runs on the main host only and the others read its marker. Not part of the
        fingerprint: how the work was divided does not change the results.
    """

    name: str
    fn: Callable[["Context"], dict]
    config_keys: tuple[str, ...]
    after: tuple[str, ...] = ()
    line: Callable[[dict], str] = lambda summary: ""
    version: int = 1
    digest: Callable[[dict], object] | None = None
    divided: bool = False

    def __post_init__(self):
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError(f"version: expected an int >= 1 for stage {self.name!r}, got {self.version!r}")


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


# ------------------------------------------------------------------------ fingerprints and decisions


def inputs(stage: Stage, config, upstream: Mapping[str, str]) -> dict:
    """What a stage's fingerprint covers: ``{stage, version, config: {k: config[k]}, after: {u: key of u}}``.

    ``version`` is left out while it is 1, so the run directories written before stages had versions keep
    their fingerprints (and their cached results).
    """
    missing = [k for k in stage.config_keys if k not in config]
    if missing:
        raise ValueError(f"config: stage {stage.name!r} needs the groups {list(stage.config_keys)}, missing {missing}")
    payload = {
        "stage": stage.name,
        "config": {k: _jsonable(config[k]) for k in stage.config_keys},
        "after": {name: upstream[name] for name in stage.after},
    }
    if stage.version != 1:
        payload["version"] = stage.version
    return payload


def fingerprint(stage: Stage, config, upstream: Mapping[str, str]) -> str:
    """sha256 of :func:`inputs` (``upstream``: the key of every stage in ``stage.after``)."""
    return _sha256(inputs(stage, config, upstream))


def digest_key(stage: Stage, summary: dict) -> str:
    """The key of a content-addressed stage: ``"digest:" + sha256(json(stage.digest(summary)))``."""
    return "digest:" + _sha256(_jsonable(stage.digest(summary)))


@dataclasses.dataclass(frozen=True)
class Link:
    """What a stage hands to the stages after it.

    Attributes:
      key: folded into their fingerprints (its fingerprint or :func:`digest_key`); None while unknown (in a
        dry run, a content-addressed stage that has yet to run, or a stage after one).
      reran: it runs in this invocation and is not content-addressed, so the stages after it must run too.
      waits_on: while ``key`` is unknown, the content-addressed stages yet to run whose digest it awaits.
    """

    key: str | None
    reran: bool
    waits_on: tuple[str, ...] = ()


def link(stage: Stage, fp: str | None, summary: dict | None, ran: bool, links: Mapping[str, Link]) -> Link:
    """The :class:`Link` of a stage with fingerprint ``fp`` (None: not known yet, then ``links`` of the
    stages before it say what it awaits) and ``summary`` (None: not known yet)."""
    if stage.digest is None:
        return Link(fp, ran, waits_on(stage, links) if fp is None else ())
    if summary is None:
        return Link(None, False, (stage.name,))
    return Link(digest_key(stage, summary), False)


def waits_on(stage: Stage, links: Mapping[str, Link]) -> tuple[str, ...]:
    """The content-addressed stages yet to run whose digests ``stage``'s fingerprint awaits."""
    return tuple(sorted({w for u in stage.after if links[u].key is None for w in links[u].waits_on}))


@dataclasses.dataclass(frozen=True)
class Decision:
    """What happens to one stage.

    Attributes:
      action: ``"cached"`` (skipped); ``"run"`` (no marker: run, resuming what an interrupted attempt with
        the same fingerprint left); ``"stale"`` (clear its directory and recompute); ``"pending"`` (dry run
        only: it runs unless a content-addressed stage yet to run reproduces its digest).
      fingerprint: None when an upstream key is unknown.
      why: the reason, for the printed line.
      inputs: what the fingerprint covers (:func:`inputs`), recorded in the marker; None when unknown.
    """

    action: str
    fingerprint: str | None
    why: str
    inputs: dict | None = None


def decide(stage: Stage, config, links: Mapping[str, Link], marker: dict | None, rerun: bool = False,
           started: dict | None = None) -> Decision:
    """Apply the rules of the module docstring to ``stage``, given the links of the stages before it, its
    marker and its ``started.json`` record (None if absent) and whether ``--rerun`` names it."""
    forced = sorted(u for u in stage.after if links[u].reran)
    unknown = sorted(u for u in stage.after if links[u].key is None)
    payload = None if unknown else inputs(stage, config, {u: links[u].key for u in stage.after})
    fp = None if payload is None else _sha256(payload)
    record = marker if marker is not None else started  # the finished, else the interrupted, attempt
    if rerun:
        return Decision("stale", fp, "--rerun", payload)
    if record is None:
        return Decision("run", fp, "not run yet", payload)
    if forced:
        return Decision("stale", fp, f"{forced} recomputed before it", payload)
    if unknown:
        return _undecided(stage, config, links, record)
    if record.get("fingerprint") == fp:
        return Decision("cached", fp, "", payload) if marker is not None else Decision(
            "run", fp, "resuming an interrupted attempt", payload)
    return Decision("stale", fp, _what_changed(record.get("inputs"), payload), payload)


def _undecided(stage: Stage, config, links: Mapping[str, Link], record: dict) -> Decision:
    """Dry run, some upstream key unknown: ``stale`` if the stage is stale even with the unknown keys as they
    were when ``record`` was written, else ``pending``."""
    old = record.get("inputs")
    if isinstance(old, dict):
        assumed = {u: old.get("after", {}).get(u) if links[u].key is None else links[u].key for u in stage.after}
        payload = inputs(stage, config, assumed)
        if _sha256(payload) != record.get("fingerprint"):
            return Decision("stale", None, _what_changed(old, payload))
    waits = waits_on(stage, links)
    what = f"{waits[0]} reproduces its digest" if len(waits) == 1 else f"{', '.join(waits)} reproduce theirs"
    return Decision("pending", None, f"runs unless {what}")


def _what_changed(old: dict | None, new: dict) -> str:
    if not isinstance(old, dict):
        return "its inputs changed"
    changes = []
    if old.get("version", 1) != new.get("version", 1):
        changes.append(f"version {old.get('version', 1)} -> {new.get('version', 1)}")
    groups = sorted(k for k in set(new["config"]) | set(old.get("config", {}))
                    if old.get("config", {}).get(k) != new["config"].get(k))
    if groups:
        changes.append(f"config {', '.join(groups)} changed")
    upstream = sorted(u for u in set(new["after"]) | set(old.get("after", {}))
                      if old.get("after", {}).get(u) != new["after"].get(u))
    if upstream:
        changes.append(f"{', '.join(upstream)} changed")
    return "; ".join(changes) or "its inputs changed"


def code_note(marker: dict, now: Mapping[str, str | None]) -> str:
    """``"transel_jax 0.1.0 @ 1a2b3c4, now @ 5d6e7f8"`` when the code that wrote ``marker`` is known to differ
    from ``now`` (:func:`transel_jax.provenance.code_identity`), else ``""``."""
    prov = marker.get("provenance", {})
    then_version, then_commit = prov.get("versions", {}).get("transel_jax"), prov.get("git_commit")
    new_version = then_version != now["transel_jax"]
    new_commit = bool(then_commit and now["git_commit"] and then_commit != now["git_commit"])
    if not (new_version or new_commit):
        return ""
    then = f"transel_jax {then_version}" + (f" @ {then_commit[:7]}" if then_commit else "")
    later = (f"{now['transel_jax']} " if new_version else "") + (f"@ {now['git_commit'][:7]}" if now["git_commit"]
                                                                 else "(no git commit)")
    return f"{then}, now {later.strip()}"


def cached_line(tag: str, stage: Stage, marker: dict, now: Mapping[str, str | None]) -> str:
    """The one line of a skipped stage, with :func:`code_note` when the code changed since it ran."""
    note = code_note(marker, now)
    note = f"; computed by {note}: --rerun {stage.name} to recompute" if note else ""
    return f"{tag}: cached ({marker['wall_s']:.1f} s when run{note}) {stage.line(marker['summary'])}"


# ------------------------------------------------------------------------ walking the stages


@dataclasses.dataclass(frozen=True)
class Step:
    """One stage of a walk: its 1-based ``index`` of ``total``, the decision and its marker afterwards (the
    cached or the new one; in a dry run, None for a stage that would run)."""

    index: int
    total: int
    stage: Stage
    decision: Decision
    marker: dict | None

    @property
    def tag(self) -> str:
        return f"[{self.index}/{self.total}] {self.stage.name}"


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


def check_names(stages: Sequence[Stage], until: str | None, rerun: Sequence[str]) -> None:
    """ValueError unless ``until`` (or None) and every name in ``rerun`` are stage names."""
    names = [s.name for s in stages]
    if until is not None and until not in names:
        raise ValueError(f"until: expected one of {names}, got {until!r}")
    if isinstance(rerun, str) or not all(isinstance(r, str) for r in rerun):
        raise TypeError(f"rerun: expected a sequence of stage names, got {rerun!r}")
    bad = [r for r in rerun if r not in names]
    if bad:
        raise ValueError(f"rerun: expected stage names among {names}, got {bad}")


def walk(stages: Sequence[Stage], config, run_dir: str, execute: Callable[[Step], dict | None], *,
         until: str | None = None, rerun: Sequence[str] = ()) -> Iterator[Step]:
    """Decide every stage in order (up to ``until``) and yield a :class:`Step` each.

    ``execute(step) -> marker`` is called for every stage that is not cached or pending, before the step is
    yielded: :func:`run_stages` runs the stage there, a dry run returns None (outputs unknown). The caller
    sees each step before the next stage is decided.
    """
    check_order(stages)
    check_names(stages, until, rerun)
    links: dict[str, Link] = {}
    for index, stage in enumerate(stages, start=1):
        marker, started = read_marker(run_dir, stage.name), read_marker(run_dir, stage.name, STARTED)
        decision = decide(stage, config, links, marker, stage.name in rerun, started)
        step = Step(index, len(stages), stage, decision, marker)
        if decision.action == "cached":
            links[stage.name] = link(stage, decision.fingerprint, marker["summary"], False, links)
        elif decision.action == "pending":
            links[stage.name] = link(stage, None, None, False, links)
        else:
            step = dataclasses.replace(step, marker=execute(step))
            summary = step.marker["summary"] if step.marker is not None else None
            links[stage.name] = link(stage, decision.fingerprint, summary, True, links)
        yield step
        if stage.name == until:
            break


def read_marker(run_dir: str, name: str, file: str = MARKER) -> dict | None:
    """The marker (or another record, e.g. :data:`STARTED`) of stage ``name`` in ``run_dir``, or None."""
    path = os.path.join(run_dir, name, file)
    return read_json(path) if os.path.isfile(path) else None


# ------------------------------------------------------------------------ running


COMPILE_CACHE = ".jax_cache"  # jax's persistent compilation cache of a run (pipeline.enable_compilation_cache)


def prepare_run_dir(run_dir: str, fresh: bool) -> None:
    """Create ``run_dir``; with ``fresh``, clear it first (only if it is empty or a run directory).

    ``fresh`` keeps the compilation cache (:data:`COMPILE_CACHE`): it holds compiled programs, not results,
    and changes no number; delete it by hand to time a cold start.
    """
    if fresh and os.path.isdir(run_dir) and os.listdir(run_dir):
        if not os.path.isfile(os.path.join(run_dir, RUN_MARKER)):
            raise ValueError(f"run_dir: --fresh clears only run directories (with {RUN_MARKER}); "
                             f"{run_dir!r} is a non-empty directory without one")
        for entry in os.listdir(run_dir):
            path = os.path.join(run_dir, entry)
            if entry == COMPILE_CACHE:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    os.makedirs(run_dir, exist_ok=True)
    marker = os.path.join(run_dir, RUN_MARKER)
    if not os.path.isfile(marker):
        write_json(marker, provenance(what="a transel run directory"))


def run_stages(stages: Sequence[Stage], ctx: Context, *, seed: int = 0, until: str | None = None,
               rerun: Sequence[str] = ()) -> dict:
    """Run (or skip) ``stages`` in order; returns ``{name: marker}`` of every stage that is done.

    ``until``: stop after this stage (it and its predecessors are run). ``rerun``: stage names to clear and
    recompute (and, by the rules of the module docstring, the stages after them).
    """
    now = code_identity()
    main, several = hosts.is_main(), hosts.count() > 1

    def execute(step: Step) -> dict:
        stage, decision = step.stage, step.decision
        # multi-host: every host has decided (read the markers) before the main host changes anything
        hosts.barrier(f"{stage.name}:decided")
        if main:
            if decision.action == "stale":
                ctx.print_fn(f"{step.tag}: stale ({decision.why}): recomputing")
                if os.path.isdir(ctx.path(stage.name)):
                    shutil.rmtree(ctx.path(stage.name))
            ctx.dir(stage.name)
            write_json(ctx.path(stage.name, STARTED), {"fingerprint": decision.fingerprint,
                                                       "inputs": decision.inputs})
        hosts.barrier(f"{stage.name}:started")
        memo.relieve()  # a long run's compiled programs would exhaust the kernel's memory maps
        start = time.perf_counter()
        summary = None
        if main or stage.divided:
            summary = _jsonable(stage.fn(ctx) or {})
        wall = time.perf_counter() - start
        hosts.barrier(f"{stage.name}:computed")
        if not main:  # the main host's marker is the stage's record
            hosts.barrier(f"{stage.name}:marked")
            return read_marker(ctx.run_dir, stage.name)
        marker = {"stage": stage.name, "fingerprint": decision.fingerprint, "inputs": decision.inputs,
                  "digest": digest_key(stage, summary) if stage.digest else None, "seed": seed, "wall_s": wall,
                  "summary": summary, "line": stage.line(summary), "provenance": provenance()}
        if several:
            marker["hosts"] = hosts.count()
        write_json(ctx.path(stage.name, MARKER), marker)
        hosts.barrier(f"{stage.name}:marked")
        ctx.print_fn(f"{step.tag}: done in {wall:.1f} s {marker['line']}")
        return marker

    for step in walk(stages, ctx.config, ctx.run_dir, execute, until=until, rerun=rerun):
        ctx.markers[step.stage.name] = step.marker
        if step.decision.action == "cached":
            ctx.print_fn(cached_line(step.tag, step.stage, step.marker, now))
    return dict(ctx.markers)


def _sha256(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _jsonable(value):
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    return json.loads(json.dumps(value, sort_keys=True, default=str))


# ------------------------------------------------------------------------ atomic result files
