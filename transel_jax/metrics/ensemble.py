"""Ensemble transferability metrics (Agostinelli et al., CVPR 2022, Sec. 3.4) for ONE ensemble.

Inputs:
  member_eep: float [S, n, C]  the EEP predictions p_s(y | x_i) of the S members (see ``eep.eep``).
  labels:     int   [n]        target class indices 0..C-1.

  p_ens(y | x_i) = (1/S) sum_s p_s(y | x_i)                                   (eq. 5)
  MS-LEEP    = sum_s (1/n) sum_i log p_s(y_i | x_i)  = sum_s LEEP_s           (eq. 4)
  E-LEEP     = (1/n) sum_i log p_ens(y_i | x_i)                              (eq. 6)
  IoU-EEP    = mean IoU of y*_i = argmax_y p_ens(y | x_i) against y_i         (eq. 7)
  SoftIoU-EEP: q_i = p_ens(y_i | x_i); a correct pixel (y*_i = y_i) adds q_i to TP of y_i; a wrong one
               adds 1 - q_i to FN of y_i and to FP of y*_i; IoU_c = TP_c / (TP_c + FP_c + FN_c).
Mean IoU averages over the classes whose denominator TP + FP + FN is non-zero.

Ties (one rule, shared with the batched engine ``transel_jax.ensembles.score_ensembles``). The
prediction is decided on the float32 running sum x_c = p_{m_0}(c) + p_{m_1}(c) + ... + p_{m_{S-1}}(c)
over the members in the order given (S * p_ens, without the division); q_i = x_{y_i} * (1/S). When the
maximum of x is attained exactly by t > 1 classes, the pixel is split evenly: it counts as predicted for
each of them with weight 1/t (so it is "correct" with weight 1/t if y_i is among them). Without ties
(almost surely, for real-valued predictions) this is the plain argmax; with ties it keeps the metric
independent of the arbitrary order of class indices, which np.argmax's lowest-index rule would not.
Deciding on the sum rather than on a mean (whose rounding depends on how a reduction is ordered) makes
the single-ensemble functions here and the engine agree on every input, near-ties included; reordering
the members can change a near-tie at the last float32 bit, as for any float sum.

The 1e-12 floor. MS-LEEP floors each member's p_s(y_i | x_i), E-LEEP the ensemble average; so where some
member gives the true class less than 1e-12, E-LEEP can fall below MS-LEEP / S (Jensen's inequality holds
for the unfloored values). Per pixel the gap is at most log(2 - 1/S) (< log 2), and only on such pixels:
the floor is kept where it is, as the papers define both metrics, and only guarantees finite values.

BASE (eq. 8) = sum_s P_s * N_s * C_s: source test mIoU, number of source images, number of source
classes; target-agnostic.

The single-ensemble functions here compute the per-class sufficient statistics of one ensemble with
``ensemble_stats``; the batched all-ensembles engine computes the same statistics per single-class pixel
chunk for every ensemble with its own kernels (``transel_jax.ensembles.kernels.class_chunk_stats``, and
the pruned pass of ``transel_jax.ensembles.pruned``). Both turn them into IoU with
``transel_jax.evaluation.miou.mean_iou`` (``iou_from_stats``, ``soft_iou_from_stats`` here).
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from transel_jax import checks
from transel_jax.evaluation.miou import mean_iou
from transel_jax.metrics.eep import safe_log, true_class_prob


class EnsembleStats(NamedTuple):
    """Per-class sufficient statistics of one ensemble over a pixel set (all float, [..., C] or [...]).

    count:   number of pixels of true class c
    tp:      hard true positives of c (fraction of each pixel predicted correctly, see Ties)
    pred:    number of pixels predicted as c
    tp_soft: sum over pixels of class c of q * correct
    fn_soft: sum over pixels of class c of (1 - q) * (1 - correct)
    fp_soft: sum over pixels predicted as c but of another class of (1 - q)
    log_q:   sum over pixels of log q (E-LEEP numerator)
    """

    count: jax.Array
    tp: jax.Array
    pred: jax.Array
    tp_soft: jax.Array
    fn_soft: jax.Array
    fp_soft: jax.Array
    log_q: jax.Array


def member_sum(member_eep):
    """x = member_eep[0] + member_eep[1] + ... in member order, [S, ...] -> [...] (float32 running sum)."""
    total = member_eep[0]
    for s in range(1, member_eep.shape[0]):
        total = total + member_eep[s]
    return total


def ensemble_stats(member_eep, labels, weights=None) -> EnsembleStats:
    """Sufficient statistics of the ensemble average of ``member_eep`` [S, n, C] at ``labels`` [n].

    ``weights`` [n] (default ones) multiplies each pixel's contribution (0 drops a padding pixel).
    """
    num_classes = member_eep.shape[-1]
    w = jnp.ones(labels.shape, member_eep.dtype) if weights is None else weights
    p = member_sum(member_eep)  # [n, C], S * p_ens: the tie rule decides on this sum (see Ties)
    q = true_class_prob(p, labels) * (1.0 / member_eep.shape[0])  # [n]
    hit = p == jnp.max(p, axis=-1, keepdims=True)  # [n, C]
    u = w / jnp.sum(hit, axis=-1)  # weight of each predicted class of a pixel
    onehot = jax.nn.one_hot(labels, num_classes, dtype=p.dtype)  # [n, C]
    r = true_class_prob(hit.astype(p.dtype), labels) * u  # weighted correctness
    by_true = lambda v: v @ onehot  # noqa: E731  sum over pixels grouped by true class
    by_pred = lambda v: jnp.where(hit, v[:, None], 0.0).sum(0)  # noqa: E731  grouped by predicted class
    return EnsembleStats(
        count=by_true(w),
        tp=by_true(r),
        pred=by_pred(u),
        tp_soft=by_true(q * r),
        fn_soft=by_true((1.0 - q) * (w - r)),
        fp_soft=by_pred((1.0 - q) * u) - by_true((1.0 - q) * r),
        log_q=jnp.sum(w * safe_log(q)),
    )


def iou_from_stats(stats: EnsembleStats):
    """Hard mean IoU: TP / (TP + FP + FN) with FP = pred - TP and FN = count - TP, over classes present."""
    return mean_iou(stats.tp, stats.pred + stats.count - stats.tp)


def soft_iou_from_stats(stats: EnsembleStats):
    """Soft mean IoU: TP_soft / (TP_soft + FP_soft + FN_soft) over classes with a non-zero denominator."""
    return mean_iou(stats.tp_soft, stats.tp_soft + stats.fp_soft + stats.fn_soft)


def validate_members(member_eep, labels, name: str = "member_eep", dims: str = "[S, n, C]") -> None:
    """Rank, pixel count, label range and probability checks of stacked EEP predictions and labels."""
    checks.check_rank(member_eep, name, 3, dims)
    checks.check_rank(labels, "labels", 1, "[n]")
    checks.check_nonempty(labels, "labels")
    checks.check_dim("labels", f"n (pixels, matching {name}.shape[1])", labels.shape[0], member_eep.shape[1])
    checks.check_labels(labels, "labels", 0, member_eep.shape[-1] - 1)
    checks.check_probabilities(member_eep, name)


def _prepared(member_eep, labels):
    validate_members(member_eep, labels)
    return jnp.asarray(member_eep, jnp.float32), jnp.asarray(labels)


@jax.jit
def _ms_leep(member_eep, labels):
    return jnp.sum(jnp.mean(safe_log(true_class_prob(member_eep, labels)), axis=-1))


@jax.jit
def _e_leep(member_eep, labels):
    return jnp.mean(safe_log(member_sum(true_class_prob(member_eep, labels)) * (1.0 / member_eep.shape[0])))


@jax.jit
def _iou_eep(member_eep, labels):
    return iou_from_stats(ensemble_stats(member_eep, labels))


@jax.jit
def _soft_iou_eep(member_eep, labels):
    return soft_iou_from_stats(ensemble_stats(member_eep, labels))


def ms_leep(member_eep, labels):
    """MS-LEEP = sum_s mean_i log p_s(y_i | x_i) (scalar)."""
    return _ms_leep(*_prepared(member_eep, labels))


def e_leep(member_eep, labels):
    """E-LEEP = mean_i log p_ens(y_i | x_i) (scalar)."""
    return _e_leep(*_prepared(member_eep, labels))


def iou_eep(member_eep, labels):
    """IoU-EEP: mean IoU of the ensemble's argmax prediction (scalar in [0, 1])."""
    return _iou_eep(*_prepared(member_eep, labels))


def soft_iou_eep(member_eep, labels):
    """SoftIoU-EEP (scalar in [0, 1])."""
    return _soft_iou_eep(*_prepared(member_eep, labels))


def base_terms(source_miou, num_images, num_classes) -> np.ndarray:
    """Per-source BASE terms P_s * N_s * C_s, float64 [N]; an ensemble's BASE is the sum over members."""
    arrays = [np.asarray(a, np.float64) for a in (source_miou, num_images, num_classes)]
    for name, a in zip(("source_miou", "num_images", "num_classes"), arrays):
        checks.check_rank(a, name, 1, "[N]")
        checks.check_finite(a, name)
        checks.check_dim(name, "N (sources, matching source_miou)", a.shape[0], arrays[0].shape[0])
        if np.any(a < 0):
            raise ValueError(f"{name}: expected non-negative values, got minimum {a.min():g}")
    return arrays[0] * arrays[1] * arrays[2]


def base(source_miou, num_images, num_classes):
    """BASE of one ensemble whose members have these per-member values (each [S])."""
    return float(np.sum(base_terms(source_miou, num_images, num_classes)))
