"""Stage ``actual``: the real test mIoU of every evaluated ensemble (papers/000 Sec. 4.1).

The prediction of ensemble e = (s_1..s_S) at a pixel is argmax_c (1/S) sum_k softmax(z_{s_k})[c] of its
members' fine-tuned logits; its actual mIoU is the mIoU of those predictions over the target's test set.
Every C(K, S) ensemble of the target's K kept candidates (:mod:`.candidates`) is evaluated from the stored
test logits: images are processed in chunks, member probabilities are computed once per chunk ([K, m, C]),
and a jitted kernel maps over ensembles (a few at a time) to accumulate each ensemble's [C, C] confusion
matrix. ``actual/<target>.npz`` holds ``candidates`` int [K] (indices into pool/sources.json),
``ensembles`` int [E, S] (indices into pool/sources.json, rows in lexicographic order), ``miou`` float64 [E]
and ``single`` float64 [K] (each kept candidate's own fine-tuned test mIoU).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from transel_jax.ensembles import all_ensembles
from transel_jax.run import finetunes, plan, pool
from transel_jax.run.predict import upsample
from transel_jax.run.stage import Context, read_npz, write_npz
from transel_jax.train.evaluate import iou_from_confusion


@functools.partial(jax.jit, static_argnames=("num_classes", "batch"))
def ensemble_confusions(probs, labels, members, *, num_classes: int, batch: int = 8):
    """int32 [E, K, K] confusion of every ensemble over one chunk of pixels.

    Args:
      probs: float [N, m, K] member class probabilities at m pixels.
      labels: int [m] class indices 0..K-1, or -1 for pixels to ignore (void, padding).
      members: int [E, S] member indices of each ensemble.
    """
    k = num_classes
    overflow = k * k  # ignored pixels land in an extra bin that is dropped

    def one(row):
        pred = jnp.argmax(jnp.mean(probs[row], axis=0), axis=-1)
        flat = jnp.where(labels >= 0, labels * k + pred, overflow)
        return jnp.bincount(flat, length=overflow + 1)[:overflow].reshape(k, k)

    return jax.lax.map(one, members, batch_size=batch)


def ensemble_mious(member_logits, labels, members, *, images_per_chunk: int = 8, progress: bool = True
                   ) -> np.ndarray:
    """float64 [E] actual mIoU of every ensemble.

    Args:
      member_logits: sequence of N float [T, h, w, K] stored test logits at the models' output stride
        (one per candidate; :func:`.predict.upsample` brings each chunk to the labels' [H, W]).
      labels: int [T, H, W] dataset labels (0 = void, 1..K).
      members: int [E, S].
    """
    n_images, num_classes = labels.shape[0], member_logits[0].shape[-1]
    members = jnp.asarray(members, jnp.int32)
    total = np.zeros((members.shape[0], num_classes, num_classes), np.int64)
    for start in tqdm(range(0, n_images, images_per_chunk), desc="ensemble mIoU", unit="chunk", leave=False,
                      disable=not progress):
        stop = min(start + images_per_chunk, n_images)
        pad = images_per_chunk - (stop - start)  # fixed chunk shape: one compile
        size = labels.shape[1:3]
        probs = np.stack([_pad(jax.nn.softmax(upsample(z[start:stop], size), axis=-1), pad)
                          for z in member_logits])
        lab = _pad(np.asarray(labels[start:stop], np.int32) - 1, pad, value=-1)
        probs = probs.reshape(len(member_logits), -1, num_classes)
        total += np.asarray(ensemble_confusions(probs, lab.reshape(-1), members, num_classes=num_classes))
    return np.array([iou_from_confusion(cm)[0] for cm in total])


def _pad(x, pad: int, value=0.0):
    x = np.asarray(x)
    return x if pad == 0 else np.concatenate([x, np.full((pad, *x.shape[1:]), value, x.dtype)])


def run_actual(ctx: Context) -> dict:
    from transel_jax.run import candidates

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
