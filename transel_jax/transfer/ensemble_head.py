"""Training the ensemble head (papers/000 Sec. 5.1) on frozen, fine-tuned members.

Members are target models (same K target classes). Their class scores do not change while the head
trains, so they are computed once at a pixel sample of the target training set and cached as
``member_logits`` float32 [n, S, K]; then only :class:`transel_jax.models.EnsembleHead` (``w, b``: [S, K])
trains, minimising the negative log-likelihood of its output probabilities

    NLL = -(1/n) sum_i log p(y_i | x_i),   p(.|x) = (1/S) sum_s softmax(w[s] * z_s(x) + b[s]).

``log p`` is computed by the head in log space (``logsumexp`` over members of ``log_softmax``), so it is
finite even where p underflows and needs no clipping epsilon. The optimiser is Adam (the head is tiny:
2*S*K parameters), full-batch when ``n <= batch_pixels`` and otherwise on minibatches drawn from ``seed``.

The head minimises NLL on the class-balanced pixel sample, which is not the test mIoU: on some targets it
lowers the training NLL a lot and still predicts worse than the plain average (on the study, suite seed 0,
4 of 14 targets, down to -13% mIoU). ``folds = k > 1`` therefore cross-validates the choice
(:func:`cross_validate_head`): k folds by training image, the head fitted on the sample's pixels of the
other folds and scored, like the plain average, by mIoU on the held-out fold's full images; the trained
head is kept only if its cross-validated mIoU beats the average's, otherwise the result's ``variables``
are the identity head (w = 1, b = 0), which *is* the plain average. ``folds = 0`` keeps the head always
(000 Sec. 5.1 as written).
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from transel_jax import checks
from transel_jax.train.checkpoint import load_variables
from transel_jax.train.progress import progress
from transel_jax.transfer.predict import outputs_at_pixels


@dataclasses.dataclass
class EnsembleHeadResult:
    variables: dict          # {"params": {"weight": [S, K], "bias": [S, K]}}
    losses: np.ndarray       # float32 [steps]: NLL before each step
    initial_nll: float       # NLL of the plain average of member probabilities (w = 1, b = 0)
    final_nll: float
    members: list            # member checkpoint directories (or names), in head order
    kept: str = "head"       # "head", or "average" when cross-validation preferred the plain average
    trained: dict | None = None   # the trained head's variables (== variables when kept == "head")
    cv_miou: dict | None = None   # {"head", "average"}: cross-validated mIoU (folds > 1), else None


def identity_head(num_members: int, num_classes: int) -> dict:
    """Variables of the head that leaves every member unchanged (w = 1, b = 0): the plain average."""
    return {"params": {"weight": np.ones((num_members, num_classes), np.float32),
                       "bias": np.zeros((num_members, num_classes), np.float32)}}


def member_logits_at_pixels(members: Sequence[tuple], images_or_source, sample, *, batch_size: int,
                            info=None) -> np.ndarray:
    """Stacked member logits float32 [n, S, K] at the sample's pixels; ``members`` = [(model, variables)]."""
    logits = [outputs_at_pixels(m, v, images_or_source, sample, batch_size=batch_size, info=info,
                                desc=f"member {i}")[0] for i, (m, v) in enumerate(members)]
    sizes = {z.shape[-1] for z in logits}
    if len(sizes) != 1:
        raise ValueError(f"members: expected one shared number of target classes, got {sorted(sizes)}")
    return np.stack(logits, axis=1)


def ensemble_nll(head, params, member_logits, class_index) -> jax.Array:
    """Mean ``-log p(y_i | x_i)`` of the head's output (module docstring); class_index int [n] in 0..K-1."""
    log_p = head.apply({"params": params}, member_logits, log=True)
    return -jnp.mean(jnp.take_along_axis(log_p, class_index[:, None], axis=-1))


@functools.lru_cache(maxsize=None)
def _head_programs(num_members: int, num_classes: int, learning_rate: float):
    """(head, optimiser, jitted Adam step, jitted NLL) of one head shape and learning rate.

    The member logits are arguments of the programs, not constants baked into them, so one compiled step
    serves every fit of a shape: the k folds of a cross-validation and the final fit index one shared
    ``z`` and, once they draw minibatches (n > batch_pixels), have one batch shape.
    """
    from transel_jax.models import EnsembleHead

    head = EnsembleHead(num_members, num_classes)
    tx = optax.adam(learning_rate)

    @jax.jit
    def step(params, opt_state, z, y, idx):
        loss, grads = jax.value_and_grad(ensemble_nll, argnums=1)(head, params, z[idx], y[idx])
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return head, tx, step, jax.jit(functools.partial(ensemble_nll, head))


def _fit(z: jax.Array, y: jax.Array, pixels: np.ndarray, *, steps: int, learning_rate: float, batch_pixels: int,
         seed: int) -> tuple[dict, list]:
    """(params, per-step losses) of the head fitted on the pixels ``pixels`` (positions in z [n, S, K])."""
    checks.check_positive_int(steps, "steps")
    head, tx, step, _ = _head_programs(z.shape[1], z.shape[2], float(learning_rate))
    params = head.init(jax.random.PRNGKey(seed), jnp.zeros((1, *z.shape[1:]), jnp.float32))["params"]
    opt_state, rng, losses = tx.init(params), np.random.default_rng(seed), []
    n, every = pixels.size, jnp.asarray(pixels)  # full batches: the same indices every step, copied once
    for _ in progress(range(steps), desc="ensemble head"):
        idx = every if n <= batch_pixels else jnp.asarray(pixels[rng.choice(n, batch_pixels, replace=False)])
        params, opt_state, loss = step(params, opt_state, z, y, idx)
        losses.append(loss)
    return params, losses


def _checked_on_device(member_logits, class_index) -> tuple[jax.Array, jax.Array]:
    """(z float32 [n, S, K], y int32 [n]) on the device, after checking shapes, finiteness and 0..K-1."""
    z = np.asarray(member_logits, np.float32)
    checks.check_rank(z, "member_logits", 3, "[n, S, K]")
    checks.check_nonempty(z, "member_logits")
    checks.check_finite(z, "member_logits")
    y = np.asarray(class_index)
    checks.check_rank(y, "class_index", 1, "[n]")
    checks.check_dim("class_index", "n", y.shape[0], z.shape[0])
    checks.check_labels(y, "class_index", 0, z.shape[2] - 1)
    return jnp.asarray(z), jnp.asarray(y, jnp.int32)


def fit_ensemble_head(member_logits, class_index, *, steps: int = 300, learning_rate: float = 0.05,
                      batch_pixels: int = 65536, seed: int = 0) -> tuple[dict, np.ndarray, float, float]:
    """Train an EnsembleHead on cached logits [n, S, K] and labels class_index int [n] (0..K-1).

    Returns (variables, losses [steps], NLL at init, NLL after training), NLLs over all n pixels.
    """
    z, y = _checked_on_device(member_logits, class_index)
    nll = _head_programs(z.shape[1], z.shape[2], float(learning_rate))[3]
    initial = float(nll(identity_head(z.shape[1], z.shape[2])["params"], z, y))
    params, losses = _fit(z, y, np.arange(z.shape[0]), steps=steps, learning_rate=learning_rate,
                          batch_pixels=batch_pixels, seed=seed)
    return {"params": jax.device_get(params)}, np.asarray(jax.device_get(losses), np.float32), initial, \
        float(nll(params, z, y))


def cross_validate_head(member_logits, class_index, image, read_images: Callable, num_images: int, *,
                        folds: int = 5, images_per_read: int = 16, steps: int = 300, learning_rate: float = 0.05,
                        batch_pixels: int = 65536, seed: int = 0) -> dict:
    """Cross-validated mIoU of the trained head and of the plain average (module docstring).

    Args:
      member_logits: float [n, S, K] member scores at the sampled pixels; class_index: int [n] (0..K-1);
        image: int [n], the training image (0..num_images-1) of each sampled pixel.
      read_images: ``indices int [b] -> (S arrays float [b, h, w, K], labels int [b, H, W])``: the members'
        stride logits on those training images (:func:`transel_jax.transfer.predictions.test_logits`)
        and their label maps (0 = void). Called with at most ``images_per_read`` images at a time, each
        image once: only that many images' predictions are ever held.
      folds: image t is held out in fold ``t % folds``; steps .. seed: as :func:`fit_ensemble_head`.

    Returns {"head": mIoU, "average": mIoU, "folds": folds}: each from the confusion summed over the folds'
    held-out images (the head of fold f fitted without fold f's pixels).
    """
    from transel_jax.evaluation.miou import iou_from_confusion
    from transel_jax.transfer.predictions import head_confusion

    checks.check_positive_int(folds, "folds", minimum=2)
    checks.check_positive_int(num_images, "num_images")
    checks.check_positive_int(images_per_read, "images_per_read")
    image = np.asarray(image)
    if image.shape != np.shape(class_index) or image.min() < 0 or image.max() >= num_images:
        raise ValueError(f"image: expected int [n] = {np.shape(class_index)} in 0..{num_images - 1}, got shape "
                         f"{image.shape}, range {image.min()}..{image.max()}")
    if folds > num_images:
        raise ValueError(f"folds: expected at most the {num_images} training images, got {folds}")
    z, y = _checked_on_device(member_logits, class_index)  # one device copy for every fold
    _, num_members, num_classes = z.shape
    identity = identity_head(num_members, num_classes)["params"]
    head_total = np.zeros((num_classes, num_classes), np.int64)
    average_total = np.zeros_like(head_total)
    for fold in range(folds):
        held = np.arange(fold, num_images, folds)
        train = ~np.isin(image, held)
        if not train.any():
            raise ValueError(f"folds: fold {fold} leaves no sampled pixel to fit the head on")
        params = jax.device_get(_fit(z, y, np.flatnonzero(train), steps=steps, learning_rate=learning_rate,
                                     batch_pixels=batch_pixels, seed=seed)[0])
        for start in range(0, held.size, images_per_read):
            maps, labels = read_images(held[start:start + images_per_read])
            head_total += head_confusion(params, maps, labels)
            average_total += head_confusion(identity, maps, labels)
    return {"head": iou_from_confusion(head_total)[0], "average": iou_from_confusion(average_total)[0],
            "folds": folds}


def load_member(checkpoint: str, build: Callable | None = None) -> tuple:
    """(model, variables, meta) of a fine-tuned member's checkpoint directory."""
    variables, meta = load_variables(checkpoint)
    if build is None:
        from transel_jax.models import build
    return build(meta["model"], meta["num_classes"]), variables, meta


def train_ensemble_head(member_checkpoints: Sequence[str], target_source, info, sample, *,
                        batch_size: int = 8, steps: int = 300, learning_rate: float = 0.05,
                        batch_pixels: int = 65536, seed: int = 0, folds: int = 0,
                        build: Callable | None = None) -> EnsembleHeadResult:
    """Cache the frozen members' target-class scores at ``sample`` and train only the ensemble head.

    Args:
      member_checkpoints: checkpoint directories of S members fine-tuned on this target (same classes).
      target_source: the target training images (a source, or an array; see ``predict_at_pixels``); with
        ``folds > 1``, a labelled source (``pipeline.eval_batches`` reads it: the full images are scored).
      info: the target's DatasetInfo (class count; mean/std for uint8 images).
      sample: PixelSample of the target training set (``sample.labels`` 1..K; e.g. from
        ``transel_jax.data.sampling.sample_pixels``); its pixels are the head's training set.
      batch_size: images per forward pass while caching; steps, learning_rate, batch_pixels, seed: the
        head's optimisation (module docstring).
      folds: k > 1 keeps the head only if it beats the plain average in k-fold cross-validation by image
        (:func:`cross_validate_head`); 0 keeps it always.
      build: ``(model name, num_classes) -> module``; default ``transel_jax.models.build``.
    """
    if not member_checkpoints:
        raise ValueError("member_checkpoints: expected at least one member checkpoint, got none")
    members = []
    for path in member_checkpoints:
        model, variables, meta = load_member(path, build)
        if meta["num_classes"] != info.num_classes:
            raise ValueError(f"member_checkpoints: {path} has {meta['num_classes']} classes, expected the "
                             f"{info.num_classes} classes of target {info.name!r}")
        members.append((model, variables))
    labels = np.asarray(sample.labels)
    checks.check_labels(labels, "sample.labels", 1, info.num_classes)
    if folds != 0:
        checks.check_positive_int(folds, "folds", minimum=2)
        if isinstance(target_source, np.ndarray):
            raise ValueError("target_source: cross-validation (folds > 1) scores full labelled images; expected "
                             "a labelled source, got an image array (pass folds=0)")
    z = member_logits_at_pixels(members, target_source, sample, batch_size=batch_size, info=info)
    fit = dict(steps=steps, learning_rate=learning_rate, batch_pixels=batch_pixels, seed=seed)
    variables, losses, initial, final = fit_ensemble_head(z, labels - 1, **fit)
    result = EnsembleHeadResult(variables=variables, losses=losses, initial_nll=initial, final_nll=final,
                                members=[str(p) for p in member_checkpoints], trained=variables)
    if folds:
        from transel_jax.data.pipeline import Subset
        from transel_jax.transfer.predictions import test_logits

        def read_images(indices):  # the members' predictions on these training images, then dropped
            subset = Subset(target_source, np.asarray(indices))
            outs = [test_logits(m, v, subset, info, batch_size=batch_size, desc=f"member {i} held-out images")
                    for i, (m, v) in enumerate(members)]
            return [logits for logits, _ in outs], outs[0][1]

        result.cv_miou = cross_validate_head(z, labels - 1, sample.image, read_images, len(target_source),
                                             folds=folds, images_per_read=4 * batch_size, **fit)
        if result.cv_miou["head"] <= result.cv_miou["average"]:
            result.kept, result.variables = "average", identity_head(len(members), info.num_classes)
    return result
