"""Training the ensemble head (papers/000 Sec. 5.1) on frozen, fine-tuned members.

Members are target models (same K target classes). Their class scores do not change while the head
trains, so they are computed once at a pixel sample of the target training set and cached as
``member_logits`` float32 [n, S, K]; then only :class:`transel_jax.models.EnsembleHead` (``w, b``: [S, K])
trains, minimising the negative log-likelihood of its output probabilities

    NLL = -(1/n) sum_i log p(y_i | x_i),   p(.|x) = (1/S) sum_s softmax(w[s] * z_s(x) + b[s]).

``log p`` is computed by the head in log space (``logsumexp`` over members of ``log_softmax``), so it is
finite even where p underflows and needs no clipping epsilon. The optimiser is Adam (the head is tiny:
2*S*K parameters), full-batch when ``n <= batch_pixels`` and otherwise on minibatches drawn from ``seed``.
"""
from __future__ import annotations

import dataclasses
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


def fit_ensemble_head(member_logits, class_index, *, steps: int = 300, learning_rate: float = 0.05,
                      batch_pixels: int = 65536, seed: int = 0) -> tuple[dict, np.ndarray, float, float]:
    """Train an EnsembleHead on cached logits [n, S, K] and labels class_index int [n] (0..K-1).

    Returns (variables, losses [steps], NLL at init, NLL after training), NLLs over all n pixels.
    """
    from transel_jax.models import EnsembleHead

    z = np.asarray(member_logits, np.float32)
    checks.check_rank(z, "member_logits", 3, "[n, S, K]")
    checks.check_nonempty(z, "member_logits")
    checks.check_finite(z, "member_logits")
    y = np.asarray(class_index)
    checks.check_rank(y, "class_index", 1, "[n]")
    checks.check_dim("class_index", "n", y.shape[0], z.shape[0])
    checks.check_labels(y, "class_index", 0, z.shape[2] - 1)
    checks.check_positive_int(steps, "steps")
    n, num_members, num_classes = z.shape
    head = EnsembleHead(num_members, num_classes)
    params = head.init(jax.random.PRNGKey(seed), z[:1])["params"]
    tx = optax.adam(learning_rate)
    z, y = jnp.asarray(z), jnp.asarray(y, jnp.int32)
    nll = jax.jit(lambda p: ensemble_nll(head, p, z, y))

    @jax.jit
    def step(params, opt_state, idx):
        loss, grads = jax.value_and_grad(ensemble_nll, argnums=1)(head, params, z[idx], y[idx])
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    initial = float(nll(params))
    opt_state, rng, losses = tx.init(params), np.random.default_rng(seed), []
    for _ in progress(range(steps), desc="ensemble head"):
        idx = np.arange(n) if n <= batch_pixels else rng.choice(n, batch_pixels, replace=False)
        params, opt_state, loss = step(params, opt_state, jnp.asarray(idx))
        losses.append(loss)
    return {"params": jax.device_get(params)}, np.asarray(jax.device_get(losses), np.float32), initial, \
        float(nll(params))


def load_member(checkpoint: str, build: Callable | None = None) -> tuple:
    """(model, variables, meta) of a fine-tuned member's checkpoint directory."""
    variables, meta = load_variables(checkpoint)
    if build is None:
        from transel_jax.models import build
    return build(meta["model"], meta["num_classes"]), variables, meta


def train_ensemble_head(member_checkpoints: Sequence[str], target_source, info, sample, *,
                        batch_size: int = 8, steps: int = 300, learning_rate: float = 0.05,
                        batch_pixels: int = 65536, seed: int = 0, build: Callable | None = None
                        ) -> EnsembleHeadResult:
    """Cache the frozen members' target-class scores at ``sample`` and train only the ensemble head.

    Args:
      member_checkpoints: checkpoint directories of S members fine-tuned on this target (same classes).
      target_source: the target training images (a source, or an array; see ``predict_at_pixels``).
      info: the target's DatasetInfo (class count; mean/std for uint8 images).
      sample: PixelSample of the target training set (``sample.labels`` 1..K; e.g. from
        ``transel_jax.data.sampling.sample_pixels``); its pixels are the head's training set.
      batch_size: images per forward pass while caching; steps, learning_rate, batch_pixels, seed: the
        head's optimisation (module docstring).
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
    z = member_logits_at_pixels(members, target_source, sample, batch_size=batch_size, info=info)
    variables, losses, initial, final = fit_ensemble_head(z, labels - 1, steps=steps, learning_rate=learning_rate,
                                                          batch_pixels=batch_pixels, seed=seed)
    return EnsembleHeadResult(variables=variables, losses=losses, initial_nll=initial, final_nll=final,
                              members=[str(p) for p in member_checkpoints])
