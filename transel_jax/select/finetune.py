"""``transel select --finetune-top K``: fine-tune the top ensembles' members, train their heads, evaluate, export.

For the top ``k`` ensembles of a :class:`~transel_jax.select.flow.Selection` (by its ``rank_by``) and B1 (the
top single model by LEEP, 000 Sec. 5), every distinct model is fine-tuned once on the target's training
split (:func:`transel_jax.transfer.finetune`: its backbone, a new head for the target classes) into
``<workdir>/<model>/`` (a finished fine-tune is reused: a rerun resumes), and predicts the evaluation split
(``test``, else ``validation``) once (:func:`transel_jax.transfer.predictions.test_logits`). Each ensemble's
head (000 Sec. 5.1) trains on the selection's pixel sample with the members frozen
(:func:`transel_jax.transfer.train_ensemble_head`) and is kept only if it beats the plain average in
``head_folds``-fold cross-validation on the training images (else the ensemble is the plain average: the
identity head; a target with fewer training images than folds gets one fold per image); the kept
ensemble's test mIoU, the plain average's and each member's are reported next to B1's. The best ensemble
(by that test mIoU; rank 1 when there is no evaluation split) is exported with
:func:`transel_jax.transfer.ensemble_export.export_ensemble` to ``<out>/ensemble``.
Only transel checkpoints can be fine-tuned (a callable or ONNX model has no trainable weights here).
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np
from tqdm.auto import tqdm

from transel_jax.files import read_json, write_json, write_npz, read_npz


@dataclasses.dataclass
class FinetuneReport:
    """Results of :func:`finetune_top`.

    Attributes:
      ensembles: per top ensemble {"rank", "members", "head_miou" (of the kept head: the identity when
        "head_kept" is "average"), "average_miou", "member_miou", "head_kept", "head_cv_miou"} (mIoU None
        without an evaluation split); b1: {"name", "miou"}; eval_split: the split measured or None;
      exported: the exported ensemble folder or None; best: the exported ensemble's row of ``ensembles``.
    """

    ensembles: list[dict]
    b1: dict
    eval_split: str | None
    exported: str | None
    best: dict | None


def _eval_split(target) -> str | None:
    for name in ("test", "validation"):
        if name in target.info.splits and target.info.splits[name] > 0:
            return name
    return None


def _config(steps: int, batch_size: int, base_lr: float, seed: int):
    from transel_jax.train.defaults import finetune_config

    c = finetune_config()
    c.train.update(global_batch_size=batch_size, steps=steps, base_lr=base_lr, schedule="poly", warmup_steps=0,
                   seed=seed)
    c.checkpoint.update(every_steps=steps, keep=1)
    c.eval.split = ""  # measured below from the stored test predictions
    c.log_every = max(1, min(20, steps))
    return c


def finetune_one(model, target, workdir: str, *, config, eval_split: str | None, batch_size: int) -> dict:
    """Fine-tune pool model ``model`` on ``target`` into ``workdir`` (reused when finished); its record."""
    from transel_jax.evaluation.miou import miou
    from transel_jax.models import build
    from transel_jax.select.flow import train_split
    from transel_jax.transfer import finetune
    from transel_jax.transfer.predictions import class_predictions, test_logits

    record_path = os.path.join(workdir, "record.json")
    if os.path.isfile(record_path):
        return read_json(record_path)
    os.makedirs(workdir, exist_ok=True)
    info = target.info
    result = finetune(model.origin, info.name, workdir=workdir, config=config, resume=True,
                      source=train_split(target), info=info)
    record = {"name": model.name, "checkpoint": os.path.join(workdir, "checkpoints"), "miou": None}
    if eval_split is not None:
        net = build(model.architecture, info.num_classes)
        logits, labels = test_logits(net, result.state.variables, target.split(eval_split), info,
                                     batch_size=batch_size, desc=f"{eval_split} {model.name}")
        write_npz(os.path.join(workdir, "test.npz"), logits=logits, labels=labels)
        record["miou"] = miou(labels, class_predictions(logits, labels.shape[1:3]), info.num_classes)
    write_json(record_path, record)
    return record


def finetune_top(sel, k: int = 1, *, steps: int = 200, batch_size: int = 8, base_lr: float = 0.02,
                 head_steps: int = 300, head_learning_rate: float = 0.05, head_folds: int = 5,
                 workdir: str | None = None, export: str | None = None, progress: bool = True) -> FinetuneReport:
    """Fine-tune and evaluate the top ``k`` ensembles of ``sel`` and B1 (module docstring)."""
    from transel_jax.transfer import train_ensemble_head
    from transel_jax.transfer.ensemble_export import export_ensemble
    from transel_jax.transfer.predictions import ensemble_mious, head_miou
    from transel_jax.select.flow import _check_int, train_split
    from transel_jax.train.progress import shown

    _check_int(k, "k", 1)
    for value, name in ((steps, "steps"), (batch_size, "batch_size"), (head_steps, "head_steps")):
        _check_int(value, name, 1)
    _check_int(head_folds, "head_folds", 0)
    if head_folds == 1:
        raise ValueError("head_folds: expected 0 (always keep the head) or an integer >= 2, got 1")
    base = workdir or (os.path.join(sel.out, "finetune") if sel.out else None)
    if base is None:
        raise ValueError("workdir: expected a folder for the fine-tunes (or a Selection made with out=...), got None")
    export = export if export is not None else (os.path.join(sel.out, "ensemble") if sel.out else None)
    top = sel.top(min(k, len(sel.scores)))
    b1_name = sel.top_singles(1, "leep")[0][0]
    by_name = {m.name: m for m in sel.plan.models}
    needed = list(dict.fromkeys([n for row in top for n in row["members"]] + [b1_name]))
    not_trainable = [n for n in needed if by_name[n].kind != "checkpoint"]
    if not_trainable:
        raise ValueError(f"finetune: only transel checkpoints can be fine-tuned, got {not_trainable} "
                         f"({', '.join(by_name[n].kind for n in not_trainable)})")
    target, info = sel.plan.target, sel.plan.target.info
    split = _eval_split(target)
    config = _config(steps, batch_size, base_lr, sel.plan.seed)
    from transel_jax.train.distributed import one_cpu_device_per_model

    # the inner bars (training steps, forward passes) too; on CPU one device per model (the scoring had all)
    with shown(progress), one_cpu_device_per_model():
        records = {n: finetune_one(by_name[n], target, os.path.join(base, n), config=config, eval_split=split,
                                   batch_size=batch_size)
                   for n in tqdm(needed, desc="fine-tunes", unit="model", disable=not progress)}
        rows, heads = [], []
        train = train_split(target)
        folds = head_folds if len(train) >= head_folds else (len(train) if len(train) >= 2 else 0)
        for row in tqdm(top, desc="ensemble heads", unit="ensemble", disable=not progress):
            members = row["members"]
            head = train_ensemble_head([records[n]["checkpoint"] for n in members], train, info,
                                       sel.probes.sample, batch_size=batch_size, steps=head_steps,
                                       learning_rate=head_learning_rate, seed=sel.plan.seed, folds=folds)
            params = {k_: np.asarray(v) for k_, v in head.variables["params"].items()}
            heads.append(params)
            out = {"rank": row["rank"], "members": members, "head_miou": None, "average_miou": None,
                   "member_miou": [records[n]["miou"] for n in members], "head_nll": [head.initial_nll, head.final_nll],
                   "head_kept": head.kept, "head_cv_miou": head.cv_miou}
            if split is not None:
                stored = [read_npz(os.path.join(base, n, "test.npz")) for n in members]
                logits, labels = [s["logits"] for s in stored], stored[0]["labels"]
                out["head_miou"] = head_miou(params, logits, labels)
                out["average_miou"] = float(ensemble_mious(logits, labels, np.arange(len(members))[None],
                                                           progress=False)[0])
            rows.append(out)
    best_i = 0 if split is None else int(np.argmax([r["head_miou"] for r in rows]))
    exported = None
    if export:
        best = rows[best_i]
        exported = export_ensemble(export, [records[n]["checkpoint"] for n in best["members"]], heads[best_i],
                                   class_names=info.class_names, mean=info.mean, std=info.std,
                                   names=best["members"],
                                   extra={"target": str(target.spec), "rank": best["rank"],
                                          "eval_split": split, "head_miou": best["head_miou"],
                                          "head_kept": best["head_kept"], "head_cv_miou": best["head_cv_miou"],
                                          "produced_by": "transel_jax.select.finetune.finetune_top"})
    report = FinetuneReport(ensembles=rows, b1={"name": b1_name, "miou": records[b1_name]["miou"]}, eval_split=split,
                            exported=exported, best=rows[best_i])
    if sel.out:
        write_json(os.path.join(sel.out, "finetune.json"), dataclasses.asdict(report))
    return report
