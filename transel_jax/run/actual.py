"""Stage ``actual``: the real test mIoU of every evaluated ensemble (papers/000 Sec. 4.1).

The prediction of ensemble e = (s_1..s_S) at a pixel is argmax_c (1/S) sum_k softmax(z_{s_k})[c] of its
members' fine-tuned logits; its actual mIoU is the mIoU of those predictions over the target's test set.
Every C(K, S) ensemble of the target's K kept candidates (:mod:`.candidates`) is evaluated from the stored
test logits by :func:`transel_jax.transfer.predictions.ensemble_mious`. ``actual/<target>.npz`` holds ``candidates`` int [K] (indices into pool/sources.json),
``ensembles`` int [E, S] (indices into pool/sources.json, rows in lexicographic order), ``miou`` float64 [E]
and ``single`` float64 [K] (each kept candidate's own fine-tuned test mIoU).
"""
from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from transel_jax.ensembles import all_ensembles
from transel_jax.run import finetunes, plan, pool
from transel_jax.run.stage import Context, read_npz, write_npz


def run_actual(ctx: Context) -> dict:
    from transel_jax.run import candidates
    from transel_jax.transfer.predictions import ensemble_mious

    config = ctx.config
    ids = [r["id"] for r in pool.sources(ctx)]
    size = config.probe.ensemble_size
    best, counts = [], []
    for target in tqdm(plan.check_targets(config), desc="actual ensemble mIoU", unit="target"):
        kept = candidates.kept_indices(ctx, target, ids)
        if len(kept) < size:
            raise ValueError(f"config.probe.ensemble_size: expected at most the {len(kept)} candidates of "
                             f"{target}, got {size}")
        members = all_ensembles(len(kept), size)
        logits = [finetunes.load_logits(ctx, target, ids[i]) for i in kept]
        mious = ensemble_mious(logits, finetunes.load_labels(ctx, target), members)
        single = [finetunes.load_record(ctx, target, ids[i])["test_miou"] for i in kept]
        write_npz(ctx.path("actual", f"{target}.npz"), candidates=kept, ensembles=kept[members], miou=mious,
                  single=np.array(single, np.float64))
        best.append(float(mious.max()))
        counts.append(int(members.shape[0]))
    return {"ensembles": max(counts), "size": size, "best_miou_mean": float(np.mean(best))}


def line(summary: dict) -> str:
    return (f"{summary['ensembles']} ensembles of {summary['size']} per target; mean best actual mIoU "
            f"{summary['best_miou_mean']:.3f}")


def load(ctx: Context, target: str) -> dict:
    return read_npz(ctx.path("actual", f"{target}.npz"))
