"""Independent float64 references, written plainly with loops, following DESIGN.md "Metrics"."""
import math

import numpy as np

EPS = 1e-12


def eep(probs, labels, num_classes):
    probs = np.asarray(probs, np.float64)
    n, z_count = probs.shape
    joint = np.zeros((num_classes, z_count))
    for i in range(n):
        for z in range(z_count):
            joint[labels[i], z] += probs[i, z] / n
    cond = np.zeros((num_classes, z_count))
    for z in range(z_count):
        marginal = sum(joint[y, z] for y in range(num_classes))
        for y in range(num_classes):
            cond[y, z] = joint[y, z] / marginal if marginal > 0 else 1.0 / num_classes
    out = np.zeros((n, num_classes))
    for i in range(n):
        for y in range(num_classes):
            out[i, y] = sum(cond[y, z] * probs[i, z] for z in range(z_count))
    return out


def leep(probs, labels, num_classes):
    pred = eep(probs, labels, num_classes)
    return sum(math.log(max(pred[i, labels[i]], EPS)) for i in range(len(labels))) / len(labels)


def nce(probs, labels, num_classes):
    n, z_count = np.shape(probs)
    joint = np.zeros((num_classes, z_count))
    for i in range(n):
        joint[labels[i], int(np.argmax(probs[i]))] += 1.0 / n
    total = 0.0
    for z in range(z_count):
        marginal = joint[:, z].sum()
        for y in range(num_classes):
            if joint[y, z] > 0:
                total += joint[y, z] * math.log(joint[y, z] / marginal)
    return total


def ensemble_metrics(member_eep, labels):
    """MS-LEEP, E-LEEP, IoU-EEP, SoftIoU-EEP of one ensemble; tied maxima split evenly among winners."""
    member_eep = np.asarray(member_eep, np.float64)
    size, n, num_classes = member_eep.shape
    tp, fp, fn = np.zeros(num_classes), np.zeros(num_classes), np.zeros(num_classes)
    stp, sfp, sfn = np.zeros(num_classes), np.zeros(num_classes), np.zeros(num_classes)
    log_sum = 0.0
    member_log = [0.0] * size
    for i in range(n):
        y = labels[i]
        p = [sum(member_eep[s, i, c] for s in range(size)) / size for c in range(num_classes)]
        q = p[y]
        for s in range(size):
            member_log[s] += math.log(max(member_eep[s, i, y], EPS)) / n
        log_sum += math.log(max(q, EPS))
        top = max(p)
        winners = [c for c in range(num_classes) if p[c] == top]
        share = 1.0 / len(winners)
        for c in winners:
            if c == y:
                tp[y] += share
                stp[y] += q * share
            else:
                fp[c] += share
                fn[y] += share
                sfp[c] += (1 - q) * share
                sfn[y] += (1 - q) * share

    def mean_iou(t, f, g):
        vals = [t[c] / (t[c] + f[c] + g[c]) for c in range(num_classes) if t[c] + f[c] + g[c] > 0]
        return sum(vals) / len(vals)

    return {
        "ms_leep": sum(member_log),
        "e_leep": log_sum / n,
        "iou_eep": mean_iou(tp, fp, fn),
        "soft_iou_eep": mean_iou(stp, sfp, sfn),
    }


def miou_of_prediction(pred, labels, num_classes):
    """Plain mIoU of a hard prediction via a confusion matrix."""
    conf = np.zeros((num_classes, num_classes))
    for p, y in zip(pred, labels):
        conf[y, p] += 1
    ious = []
    for c in range(num_classes):
        union = conf[c, :].sum() + conf[:, c].sum() - conf[c, c]
        if union > 0:
            ious.append(conf[c, c] / union)
    return sum(ious) / len(ious)


def ref_miou(labels, pred, k):
    """Loop reference: IoU per class over non-void pixels, mean over classes with a non-zero union."""
    ious = []
    y = labels.ravel()
    p = pred.ravel()
    for c in range(k):
        tp = fp = fn = 0
        for yi, pi in zip(y, p):
            if yi == 0:
                continue
            tp += (yi - 1 == c) and (pi == c)
            fp += (yi - 1 != c) and (pi == c)
            fn += (yi - 1 == c) and (pi != c)
        if tp + fp + fn:
            ious.append(tp / (tp + fp + fn))
    return float(np.mean(ious))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)
