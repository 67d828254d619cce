"""PNG figures of a run (matplotlib, Agg backend: no display needed).

Every function takes plain arrays/dicts, writes one PNG to ``path`` and returns ``path``.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


_DIVERGING = ("RdBu", "RdBu_r", "coolwarm", "bwr", "seismic")


def _save(fig, path: str) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def scatter(actual, scores: Mapping[str, Sequence[float]], taus: Mapping[str, float], path: str,
            title: str) -> str:
    """Predicted transferability vs actual mIoU, one panel per metric, weighted tau in each title (000 Fig. 2)."""
    metrics = list(scores)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.0), squeeze=False)
    for ax, m in zip(axes[0], metrics):
        ax.scatter(scores[m], actual, s=8, alpha=0.6)
        ax.set_title(f"{m}  (w-tau {taus[m]:+.2f})", fontsize=9)
        ax.set_xlabel("score", fontsize=8)
        ax.set_ylabel("actual mIoU", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def grouped_bars(block: Mapping[str, Mapping[str, Sequence[float]]], metrics: Sequence[str], path: str,
                 title: str, ylabel: str) -> str:
    """Bars per target (groups) and metric (colours) with std error bars; ``block[target][metric] = (mean, std)``."""
    groups = list(block)
    width = 0.8 / len(metrics)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(groups) * len(metrics) / 3), 3.6))
    x = np.arange(len(groups))
    for k, m in enumerate(metrics):
        means = [block[g][m][0] for g in groups]
        stds = [block[g][m][1] for g in groups]
        ax.bar(x + (k - (len(metrics) - 1) / 2) * width, means, width, label=m, capsize=2,
               yerr=stds if any(s > 0 for s in stds) else None)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xticks(x)
    ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=min(len(metrics), 5))
    return _save(fig, path)


def selection_gains(gains: Mapping[str, Mapping[str, float]], baselines: Sequence[str], path: str) -> str:
    """Relative mIoU gain (%) of the selected ensemble over each baseline, per target (000 Fig. 4)."""
    block = {t: {b: (g[b], 0.0) for b in baselines} for t, g in gains.items()}
    return grouped_bars(block, baselines, path, "selected ensemble: relative mIoU gain over baselines",
                        "gain (%)")


def heatmap(matrix, rows: Sequence[str], cols: Sequence[str], path: str, title: str, fmt: str = "{:.2f}",
            cmap: str = "viridis", vrange: tuple[float, float] | None = None) -> str:
    """A rows x cols matrix with its values written in the cells. Diverging colour maps are centred at 0
    unless ``vrange`` fixes the colour scale; missing (None / non-finite) cells are left blank."""
    m = np.array([[np.nan if v is None else v for v in row] for row in np.asarray(matrix, object)], np.float64)
    fig, ax = plt.subplots(figsize=(2.0 + 0.9 * len(cols), 2.5 + 0.5 * len(rows)))
    if vrange is None and cmap in _DIVERGING:  # centred at 0: equal colour distance for gains and losses
        limit = float(np.nanmax(np.abs(m))) if np.isfinite(m).any() else 1.0
        vrange = (-(limit or 1.0), limit or 1.0)
    low, high = vrange if vrange is not None else (None, None)
    im = ax.imshow(np.ma.masked_invalid(m), cmap=cmap, aspect="auto", vmin=low, vmax=high)
    ax.set_xticks(range(len(cols)))
    ax.set_xticklabels(cols, rotation=40, ha="right", fontsize=7)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(rows, fontsize=7)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if np.isfinite(m[i, j]):
                ax.text(j, i, fmt.format(m[i, j]), ha="center", va="center", fontsize=7, color="black",
                        bbox={"facecolor": "white", "alpha": 0.6, "linewidth": 0, "pad": 1})
    fig.colorbar(im, ax=ax)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def score_distribution(scores, top: Sequence[int], path: str, metric: str, title: str) -> str:
    """Histogram of every ensemble's ``metric`` score with the ``top`` rows (indices into ``scores``)
    marked by vertical lines, best first: how far the selected ensembles stand out from the rest."""
    values = np.asarray(scores, np.float64)
    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    ax.hist(values, bins=min(60, max(5, values.size // 5)), color="0.7")
    for rank, row in enumerate(top, start=1):
        ax.axvline(values[row], color="C3" if rank == 1 else "C0", lw=1.6 if rank == 1 else 0.8,
                   label="top 1" if rank == 1 else ("top 2.." if rank == 2 else None))
    ax.set_xlabel(metric, fontsize=9)
    ax.set_ylabel("ensembles", fontsize=9)
    ax.tick_params(labelsize=8)
    if len(top):
        ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def stability_heatmap(win_fraction, metrics: Sequence[str], path: str, best_fraction: Mapping[str, float] | None = None,
                      title: str = "fraction of setups in which the row metric beats the column metric") -> str:
    """The stability analysis' M x M win fractions (row beats column; the diagonal, None/NaN, is blank),
    coloured on a fixed 0..1 scale centred at 0.5 (a coin flip); row labels carry each metric's
    fraction of setups as the best when ``best_fraction`` is given."""
    m = np.array([[np.nan if v is None else v for v in row] for row in win_fraction], np.float64)
    if m.shape != (len(metrics), len(metrics)):
        raise ValueError(f"win_fraction: expected shape {(len(metrics), len(metrics))} (metrics x metrics), got {m.shape}")
    rows = [f"{name} (best {best_fraction[name]:.0%})" if best_fraction else name for name in metrics]
    return heatmap(m, rows, metrics, path, title, fmt="{:.0%}", cmap="RdBu_r", vrange=(0.0, 1.0))
