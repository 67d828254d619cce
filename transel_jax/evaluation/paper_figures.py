"""The papers' reported numbers, as data with their sources, and the claims our statistics judge.

:data:`PAPER` maps an id to ``{"value", "unit", "paper", "source", "path", "note"}``: the number the paper
reports (correlations as fractions in [-1, 1]; gains in %; PARC's Pearson, which 003 reports in %, is
stored as a fraction with the original in the note), where it says so, and ``path``, the keys of the
matching entry of a :func:`transel_jax.evaluation.statistics.summarize` dict (``None`` when we measure
nothing comparable). :func:`side_by_side` builds the report's rows from a summary. The papers' numbers
come from 17 real datasets and real networks; ours from the synthetic suite: the rows compare a synthetic
world against real data, not a reproduction.

Paper ids: 000 Agostinelli et al. CVPR 2022 (000_*.txt, 001_*.txt is another extraction of it), 002 Mensink
et al. TPAMI (Factors of Influence), 003 Bolya et al. NeurIPS 2021 (PARC).

:data:`CLAIMS` lists the directional claims (a quantity the paper says is > 0) that
:func:`transel_jax.evaluation.statistics.verdicts` turns into holds / contradicted / undecided.

>>> PAPER["000.wtau.soft_iou_eep"]["value"], PAPER["002.tau.target_to_source"]["value"]
(0.693, 0.42)
>>> rows = side_by_side({"selection": {"b1": {"estimate": 3.1, "ci": [1.0, 5.0]}}})
>>> [r for r in rows if r["id"] == "000.gain.b1"][0]["ours"]
3.1
"""
from __future__ import annotations

from typing import Mapping

_W, _K, _P = "weighted_tau", "kendall_tau", "pearson"
_TABLE3 = "000 Table 3 (Average row), Sec. 4.2"
_ENS = ("correlation", "ensemble")


def _corr(measure: str, metric: str, value: float, source: str, note: str = "") -> dict:
    return {"value": value, "unit": measure, "paper": "000", "source": source,
            "path": [*_ENS, measure, metric], "note": note}


PAPER: dict[str, dict] = {
    # 000 Sec. 4.2 text: "SoftIoU-EEP achieves tau of 69.3%, outperforming the baseline by 20.3%, MS-LEEP by
    # 3.1%, E-LEEP by 3.6%, IoU-EEP by 8.4%" -> 0.693, 0.490, 0.662, 0.657, 0.609 (Table 3 rounds them).
    "000.wtau.soft_iou_eep": _corr(_W, "soft_iou_eep", 0.693, "000 Sec. 4.2 text; Table 3 Average 0.69"),
    "000.wtau.ms_leep": _corr(_W, "ms_leep", 0.662, "000 Sec. 4.2 text (0.693 - 0.031); Table 3 Average 0.66"),
    "000.wtau.e_leep": _corr(_W, "e_leep", 0.657, "000 Sec. 4.2 text (0.693 - 0.036); Table 3 Average 0.66"),
    "000.wtau.iou_eep": _corr(_W, "iou_eep", 0.609, "000 Sec. 4.2 text (0.693 - 0.084); Table 3 Average 0.61"),
    "000.wtau.base": _corr(_W, "base", 0.490, "000 Sec. 4.2 text (0.693 - 0.203); Table 3 Average 0.49"),
    "000.ktau.base": _corr(_K, "base", 0.30, _TABLE3),
    "000.ktau.ms_leep": _corr(_K, "ms_leep", 0.51, _TABLE3),
    "000.ktau.e_leep": _corr(_K, "e_leep", 0.52, _TABLE3),
    "000.ktau.iou_eep": _corr(_K, "iou_eep", 0.46, _TABLE3),
    "000.ktau.soft_iou_eep": _corr(_K, "soft_iou_eep", 0.52, _TABLE3),
    "000.pearson.base": _corr(_P, "base", 0.44, _TABLE3),
    "000.pearson.ms_leep": _corr(_P, "ms_leep", 0.71, _TABLE3),
    "000.pearson.e_leep": _corr(_P, "e_leep", 0.70, _TABLE3),
    "000.pearson.iou_eep": _corr(_P, "iou_eep", 0.62, _TABLE3),
    "000.pearson.soft_iou_eep": _corr(_P, "soft_iou_eep", 0.72, _TABLE3),
    # 000 Sec. 5.2 (and abstract): mean relative mIoU gain of the SoftIoU-EEP-selected ensemble, 17 targets.
    "000.gain.b1": {"value": 6.0, "unit": "% gain", "paper": "000", "source": "000 Sec. 5.2, abstract",
                    "path": ["selection", "b1"], "note": "vs B1: top-LEEP single model of the same pool"},
    "000.gain.b1l": {"value": 2.5, "unit": "% gain", "paper": "000", "source": "000 Sec. 5.2, Fig. 4, abstract",
                     "path": ["selection", "b1l"], "note": "vs B1L: top-LEEP large model (HRNetV2-W48)"},
    "000.gain.best_member": {"value": 4.6, "unit": "% gain", "paper": "000", "source": "000 Sec. 5.2, Fig. 6",
                             "path": ["selection", "best_member"], "note": "ensemble with its head vs its best member"},
    "000.gain.worst_member": {"value": 18.6, "unit": "% gain", "paper": "000", "source": "000 Sec. 5.2, Fig. 6",
                              "path": ["selection", "worst_member"], "note": "ensemble with its head vs its worst member"},
    "000.average_vs_best_member": {"value": 2.9, "unit": "% gain", "paper": "000",
                                   "source": "001 (000's other extraction) Sec. 5.2, last paragraph", "path": None,
                                   "note": "unweighted average (no head) vs the best member; our 'average' row is "
                                           "the selected ensemble vs its unweighted average, not comparable"},
    # 002 Sec. 5 A3 and Tab. 10: Kendall tau between domain distance (nearer) and transfer gains.
    "002.tau.eq1": {"value": 0.40, "unit": _K, "paper": "002", "source": "002 Sec. 5, A3",
                    "path": ["influence", "target_to_source"],
                    "note": "Eq. 1 distance (= target->source), small-target setting; the same variant as Tab. 10 (2)"},
    "002.tau.emd": {"value": 0.20, "unit": _K, "paper": "002", "source": "002 Tab. 10 (1)",
                    "path": ["influence", "emd"], "note": "small source, small target setting"},
    "002.tau.target_to_source": {"value": 0.42, "unit": _K, "paper": "002", "source": "002 Tab. 10 (2)",
                                 "path": ["influence", "target_to_source"], "note": "small source, small target"},
    "002.tau.source_to_target": {"value": 0.06, "unit": _K, "paper": "002", "source": "002 Tab. 10 (3)",
                                 "path": ["influence", "source_to_target"], "note": "small source, small target"},
    "002.tau.symmetric": {"value": 0.27, "unit": _K, "paper": "002", "source": "002 Tab. 10 (4)",
                          "path": ["influence", "symmetric"], "note": "small source, small target"},
    # 003 Table 4 (Mean PC %, 6 classification targets, 5 probe seeds): PARC alone, with PCA to f=32, and
    # with PCA and the +depth calibration (Eq. 6). Our 'parc' always reduces features by PCA first.
    "003.pearson.parc_raw": {"value": 0.530, "unit": _P, "paper": "003", "source": "003 Table 4", "path": None,
                             "note": "reported 53.0 +- 0.9 %; PARC without PCA (ours always applies PCA)"},
    "003.pearson.parc": {"value": 0.593, "unit": _P, "paper": "003", "source": "003 Table 4",
                         "path": ["correlation", "single", _P, "parc"], "note": "reported 59.3 +- 0.7 %; PARC f = 32"},
    "003.pearson.parc+depth": {"value": 0.703, "unit": _P, "paper": "003", "source": "003 Table 4",
                               "path": ["correlation", "single", _P, "parc+depth"],
                               "note": "reported 70.3 +- 0.5 %; PARC + depth (Eq. 6), f = 32, best of Table 4"},
    "003.pearson.leep": {"value": 0.108, "unit": _P, "paper": "003", "source": "003 Table 1",
                         "path": ["correlation", "single", _P, "leep"], "note": "reported 10.8 +- 0.1 %"},
    "003.pearson.leep+depth": {"value": 0.268, "unit": _P, "paper": "003", "source": "003 Table 3",
                               "path": ["correlation", "single", _P, "leep+depth"], "note": "reported 26.8 +- 0.1 %"},
}


def _claim(cid: str, claim: str, source: str, path: list) -> dict:
    return {"id": cid, "claim": claim, "source": source, "path": path, "direction": +1}


_CMP = ("comparisons", "ensemble", _W)
CLAIMS: list[dict] = [
    _claim("soft_iou_eep_predicts", "SoftIoU-EEP's scores rank ensembles like their actual mIoU (mean weighted tau > 0)",
           "000 Sec. 4.2, Table 3", [*_ENS, _W, "soft_iou_eep"]),
    *[_claim(f"soft_iou_eep_beats_{m}", f"SoftIoU-EEP ranks ensembles better than {name} (mean weighted tau difference > 0)",
             "000 Sec. 4.2", [*_CMP, f"soft_iou_eep - {m}"])
      for m, name in (("ms_leep", "MS-LEEP"), ("e_leep", "E-LEEP"), ("iou_eep", "IoU-EEP"), ("base", "BASE"))],
    *[_claim(f"{m}_beats_base", f"{name} ranks ensembles better than BASE (mean weighted tau difference > 0)",
             "000 Sec. 4.2, Fig. 3", [*_CMP, f"{m} - base"])
      for m, name in (("ms_leep", "MS-LEEP"), ("e_leep", "E-LEEP"), ("iou_eep", "IoU-EEP"))],
    _claim("selection_beats_b1", "the selected ensemble beats B1, the top-LEEP single model (mean relative gain > 0)",
           "000 Sec. 5.2", ["selection", "b1"]),
    _claim("selection_beats_b1l", "the selected ensemble beats B1L, the top-LEEP large model (mean relative gain > 0)",
           "000 Sec. 5.2, Fig. 4", ["selection", "b1l"]),
    _claim("selection_beats_best_member", "the selected ensemble beats its best member (mean relative gain > 0)",
           "000 Sec. 5.2, Fig. 6", ["selection", "best_member"]),
    _claim("selection_beats_worst_member", "the selected ensemble beats its worst member (mean relative gain > 0)",
           "000 Sec. 5.2, Fig. 6", ["selection", "worst_member"]),
    _claim("nearer_source_larger_gain", "a nearer source (Eq. 1, target->source) gives a larger gain (Kendall tau > 0)",
           "002 Sec. 5 A3, Tab. 10 (2)", ["influence", "target_to_source"]),
    _claim("nearer_source_larger_gain_emd", "EMD domain distance predicts the gains (Kendall tau > 0)",
           "002 Tab. 10 (1)", ["influence", "emd"]),
    _claim("nearer_source_larger_gain_symmetric", "symmetric domain distance predicts the gains (Kendall tau > 0)",
           "002 Tab. 10 (4)", ["influence", "symmetric"]),
    _claim("parc_depth_predicts", "PARC + depth's scores correlate with fine-tuned mIoU (mean Pearson > 0)",
           "003 Table 4", ["correlation", "single", _P, "parc+depth"]),
]


def side_by_side(summary: Mapping) -> list[dict]:
    """One row per :data:`PAPER` entry: ours next to the paper's.

    Returns:
      [{"id", "paper", "source", "unit", "paper_value", "ours" (our estimate or None), "ci" ([lo, hi] or None),
        "note"}], in :data:`PAPER`'s order; "ours" is None when the summary lacks the entry (study not run)
      or when nothing of ours is comparable (path None).
    """
    if not isinstance(summary, Mapping):
        raise TypeError(f"summary: expected the dict of statistics.summarize, got {type(summary).__name__}")
    rows = []
    for pid, p in PAPER.items():
        node = summary
        for key in p["path"] or [None]:
            node = node.get(key) if isinstance(node, Mapping) and key is not None else None
        ours = node.get("estimate") if isinstance(node, Mapping) else None
        ci = node.get("ci") if isinstance(node, Mapping) else None
        rows.append({"id": pid, "paper": p["paper"], "source": p["source"], "unit": p["unit"],
                     "paper_value": p["value"], "ours": ours, "ci": list(ci) if ci is not None else None,
                     "note": p["note"]})
    return rows
