"""Stage ``selection``: the 000 Sec. 5 study: does the selected ensemble beat the single-model baselines?

Per target (with the first probe seed's scores and pixel sample), choosing out of the whole pool (every
scored ensemble, not only the kept candidates of the correlation study; models not fine-tuned yet are
fine-tuned now, into ``finetune/``, by :func:`.finetunes.finetune_one`):

- **selected**: the top ensemble by ``selection.metric`` (SoftIoU-EEP); its ensemble head (per member and
  class a weight and a bias, :func:`transel_jax.transfer.train_ensemble_head`) is trained on the target
  training pixels with the members frozen, then evaluated on the test set from the members' stored
  test logits (:func:`transel_jax.transfer.predictions.head_miou`). With ``selection.head_folds = k > 1``
  the head is kept only if it beats the plain average in k-fold cross-validation on the training images
  (never on the test set); otherwise the selected ensemble is the plain average of its members;
- **B1**: the single candidate with the highest LEEP, fine-tuned (its test mIoU);
- **average**: the same members averaged without a head (their actual ensemble mIoU);
- **best / worst member**: the members' own fine-tuned test mIoU;
- **oracle**: the best kept candidate and the best evaluated ensemble by actual mIoU (upper bounds over
  what the ``actual`` stage evaluated, not baselines).

- **B1L** (when ``selection.larger_model`` names an architecture): B1's source dataset and init with the
  larger architecture, trained like the pool (with its own generic model when B1 is generic-initialised)
  into ``pool/larger/`` and fine-tuned like the candidates into ``finetune/larger/`` (000 Sec. 5.2's
  capacity-matched single model; on the papers' pool HRNetV2-W48 next to W28 candidates). They live with
  the models they are trained like, not in this stage's folder, so a selection stage that is recomputed
  (``--rerun selection``, another ``selection.metric`` or head setting) finds them trained; they go when
  the pool or fine-tune stage is recomputed, whose inputs (recipe, targets) they share.

Relative gain of the selected ensemble over baseline b: ``100 * (mIoU_selected / mIoU_b - 1)``.
``selection/results.json``: {target: {"members": [...], "miou": {name: value}, "gain": {name: value},
"head": {"kept", "cv_miou", "test_miou"}, "diagnostics": {...}}} (:func:`diagnostics`: member disagreement,
the trained head's test gain over the plain average, whether or not it was kept, the best member's margin).
Each target's result is first written to ``selection/targets/<target>.json`` by the host that computed it
(the targets are divided among the hosts, and an interrupted stage resumes with the targets it finished).
"""
from __future__ import annotations

import os

import numpy as np
from tqdm.auto import tqdm

from transel_jax.data import pipeline
from transel_jax.run import actual, datasets, finetunes, hosts, plan, pool, probe, scoring
from transel_jax.run.stage import Context, read_json, write_json

BASELINES = ("b1", "average", "best_member", "worst_member")
B1L_POOL = ("pool", "larger")          # B1L source models (and their generic model), beside the pool's
B1L_FINETUNES = ("finetune", "larger")  # their fine-tunes: finetune/larger/<target>/<id>


def _b1l_spec(config, b1: dict) -> plan.SourceSpec:
    return plan.SourceSpec(b1["dataset"], config.selection.larger_model, b1["init"])


def _train_b1l(ctx: Context, spec: plan.SourceSpec) -> dict:
    """Pool record of a B1L model (trained like the pool, from its architecture's generic model when
    generic-initialised), under ``pool/larger/``."""
    init_from = ""
    if spec.init == "generic":
        generic = plan.SourceSpec(ctx.config.pool.generic_dataset, spec.architecture, plan.PRETRAIN)
        init_from = ctx.path(pool.train_one(ctx, generic, root=B1L_POOL)["checkpoint"])
    return pool.train_one(ctx, spec, init_from, root=B1L_POOL)


def larger_baseline(ctx: Context, target: str, b1: dict) -> dict:
    """Fine-tuned record of B1L: B1's dataset and init with architecture ``selection.larger_model``."""
    record = _train_b1l(ctx, _b1l_spec(ctx.config, b1))
    return finetunes.finetune_one(ctx, target, record, root=B1L_FINETUNES)


def chosen(ctx: Context, target: str) -> tuple[list[int], int]:
    """(members of the top ``selection.metric`` ensemble, B1 = the top-LEEP source), pool indices, from the
    first probe seed's scores."""
    scores = scoring.load(ctx, target, int(ctx.config.probe.seeds[0]))
    row = int(np.argsort(-scores[f"ens_{ctx.config.selection.metric}"], kind="stable")[0])
    return [int(i) for i in scores["ensembles"][row]], int(np.nanargmax(scores["single_leep"]))  # NaN: left out


def prepare(ctx: Context, sources: list[dict], targets: list[str]) -> None:
    """Fine-tune every model the study needs (the selected members and B1 of every target) and train and
    fine-tune every B1L, each exactly once, divided among the hosts (:func:`transel_jax.run.hosts.each`;
    with one host, in order). Distinct work items write distinct folders, so hosts never share one."""
    picks = {t: chosen(ctx, t) for t in targets}
    jobs = sorted({(t, i) for t, (members, b1) in picks.items() for i in (*members, b1)})
    hosts.each(lambda job: finetunes.finetune_one(ctx, job[0], sources[job[1]]), jobs, "selection fine-tunes")
    if not ctx.config.selection.larger_model:
        return
    specs = list(dict.fromkeys(_b1l_spec(ctx.config, sources[picks[t][1]]) for t in targets))
    generics = list(dict.fromkeys(plan.SourceSpec(ctx.config.pool.generic_dataset, s.architecture, plan.PRETRAIN)
                                  for s in specs if s.init == "generic"))
    hosts.each(lambda g: pool.train_one(ctx, g, root=B1L_POOL), generics, "B1L generic models")
    hosts.each(lambda spec: _train_b1l(ctx, spec), specs, "B1L models")
    hosts.each(lambda t: larger_baseline(ctx, t, sources[picks[t][1]]), targets, "B1L fine-tunes")


def select_target(ctx: Context, target: str, sources: list[dict]) -> dict:
    from transel_jax.transfer import train_ensemble_head
    from transel_jax.transfer.predictions import disagreement, ensemble_mious, head_miou

    config, sel = ctx.config, ctx.config.selection
    seed = int(config.probe.seeds[0])
    ids = [s["id"] for s in sources]
    members, b1 = chosen(ctx, target)
    tuned = {i: finetunes.finetune_one(ctx, target, sources[i]) for i in sorted({*members, b1})}
    info = datasets.info(config, target)
    train = pipeline.target_subset(datasets.split(config, target, "train"), info)
    sample, _ = probe.load_sample(ctx, target, seed)
    head = train_ensemble_head([ctx.path("finetune", target, ids[i], "checkpoints") for i in members], train,
                               info, sample, batch_size=config.data.eval_batch_size, steps=sel.head_steps,
                               learning_rate=sel.head_learning_rate, seed=seed, folds=int(sel.head_folds))
    logits = [finetunes.load_logits(ctx, target, ids[i]) for i in members]
    labels = finetunes.load_labels(ctx, target)
    trained = head_miou(head.trained["params"], logits, labels)
    average = float(ensemble_mious(logits, labels, np.arange(len(members))[None], progress=False)[0])
    selected = trained if head.kept == "head" else average
    member_miou = [tuned[i]["test_miou"] for i in members]
    act = actual.load(ctx, target)
    miou = {"selected": selected, "b1": float(tuned[b1]["test_miou"]), "average": average,
            "best_member": float(max(member_miou)), "worst_member": float(min(member_miou)),
            "oracle_single": float(act["single"].max()), "oracle_ensemble": float(act["miou"].max())}
    result = {"members": [ids[i] for i in members], "b1": ids[b1]}
    if sel.larger_model:
        larger = larger_baseline(ctx, target, sources[b1])
        miou["b1l"], result["b1l"] = larger["test_miou"], larger["source"]
    result["gain"] = {b: 100.0 * (selected / miou[b] - 1.0) for b in baselines(config)}
    return {**result, "miou": miou, "head_nll": [head.initial_nll, head.final_nll],
            "head": {"kept": head.kept, "cv_miou": head.cv_miou, "test_miou": trained},
            "diagnostics": {**diagnostics(selected, trained, average, member_miou, disagreement(logits, labels)),
                            "head_kept": head.kept}}


def diagnostics(selected: float, trained: float, average: float, member_miou, pairwise) -> dict:
    """Why an ensemble wins or loses against its best member (member similarity, weak members, or the
    head): mean pairwise disagreement of the members on the test set, the trained head's relative test gain
    over the plain average (kept or not), the best member's margin over the mean of the others (mIoU
    points), and the selected ensemble's gain over its best member."""
    m = np.sort(np.asarray(member_miou, np.float64))[::-1]
    s = len(m)
    return {"disagreement": float(np.asarray(pairwise)[np.triu_indices(s, 1)].mean()) if s > 1 else 0.0,
            "head_gain_over_average": 100.0 * (trained / average - 1.0),
            "best_member_margin": float(m[0] - m[1:].mean()) if s > 1 else 0.0,
            "gain_over_best_member": 100.0 * (selected / m[0] - 1.0)}


def baselines(config) -> tuple[str, ...]:
    """The baselines of the study: BASELINES, plus "b1l" when ``selection.larger_model`` is set."""
    return BASELINES + (("b1l",) if config.selection.larger_model else ())


def select_one(ctx: Context, target: str, sources: list[dict]) -> dict:
    """:func:`select_target`, written to ``selection/targets/<target>.json``; read back if that exists."""
    path = ctx.path(ctx.dir("selection", "targets"), f"{target}.json")
    if os.path.isfile(path):
        return read_json(path)
    result = select_target(ctx, target, sources)
    write_json(path, result)
    return result


def run_selection(ctx: Context) -> dict:
    sources, targets = pool.sources(ctx), plan.check_targets(ctx.config)
    prepare(ctx, sources, targets)  # the fine-tunes, divided among hosts
    with tqdm(total=len(hosts.share(targets)), desc="selection", unit="target") as bar:  # heads divided too
        results = dict(zip(targets, hosts.each(lambda t: select_one(ctx, t, sources), targets, "selection heads",
                                               bar=bar)))
    if hosts.is_main():
        write_json(ctx.path("selection", "results.json"), results)
    hosts.barrier("selection results")
    results = load(ctx)
    mean_gain = {b: float(np.mean([r["gain"][b] for r in results.values()])) for b in baselines(ctx.config)}
    return {"targets": len(results), "mean_gain": mean_gain}


def line(summary: dict) -> str:
    g = summary["mean_gain"]
    return "selected ensemble vs " + ", ".join(f"{b} {v:+.1f}%" for b, v in g.items()) + " (mean relative mIoU gain)"


def load(ctx: Context) -> dict:
    return read_json(ctx.path("selection", "results.json"))
