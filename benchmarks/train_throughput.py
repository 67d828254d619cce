"""Training throughput (images/s) of the SPMD train step, per model, on every local device.

    python benchmarks/train_throughput.py                        # the small CPU models at 64x64
    python benchmarks/train_throughput.py --models hrnetv2_w48 --size 512 --batch 16 --dtype bfloat16

Each row: one compiled step (forward, backward, synchronized BatchNorm, SGD update) on random
normalised images and random labels (10% void), timed over ``--steps`` steps after ``--warmup`` steps,
with ``block_until_ready`` around the timed loop. Prints a markdown table with the device, batch size,
dtype and resolution that produced it.
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

import transel_jax
from transel_jax import models
from transel_jax.train import distributed
from transel_jax.train.optim import make_optimizer
from transel_jax.train.run import init_model
from transel_jax.train.schedules import make_schedule
from transel_jax.train.state import create_state
from transel_jax.train.step import make_train_step

DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def random_batch(rng, batch: int, size: int, num_classes: int) -> dict:
    labels = rng.integers(1, num_classes + 1, size=(batch, size, size)).astype(np.int32)
    labels[rng.random(labels.shape) < 0.1] = 0
    return {"image": rng.normal(size=(batch, size, size, 3)).astype(np.float32), "label": labels}


def measure(name: str, *, batch: int, size: int, dtype: str, steps: int, warmup: int, num_classes: int) -> dict:
    mesh = distributed.make_mesh()
    model = models.build(name, num_classes, dtype=DTYPES[dtype], axis_name="data")
    variables = init_model(model, (size, size), jax.random.PRNGKey(0))
    tx = make_optimizer(make_schedule("poly", 0.01, steps + warmup), weight_decay=1e-4)
    state = distributed.replicate(create_state(variables, tx, jax.random.PRNGKey(1)), mesh)
    step = make_train_step(model, tx, mesh, global_batch_size=batch)
    data = distributed.shard_batch(random_batch(np.random.default_rng(0), batch, size, num_classes), mesh)
    t0 = time.perf_counter()
    state, metrics = step(state, data)
    jax.block_until_ready(metrics)
    compile_s = time.perf_counter() - t0
    for _ in range(warmup - 1):
        state, metrics = step(state, data)
    jax.block_until_ready(metrics)
    t0 = time.perf_counter()
    for _ in tqdm(range(steps), desc=name, leave=False):
        state, metrics = step(state, data)
    jax.block_until_ready((state, metrics))
    seconds = time.perf_counter() - t0
    return {"model": name, "params_M": models.describe(name, num_classes, (size, size))["params"] / 1e6,
            "batch": batch, "size": size, "dtype": dtype, "first_step_s": compile_s,
            "step_ms": 1e3 * seconds / steps, "images_per_s": batch * steps / seconds}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["resnet_tiny", "hrnetv2_tiny"])
    parser.add_argument("--batch", type=int, default=8, help="global batch size (all devices)")
    parser.add_argument("--size", type=int, default=64, help="square input resolution")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--num-classes", type=int, default=19)
    args = parser.parse_args(argv)
    rows = [measure(m, batch=args.batch, size=args.size, dtype=args.dtype, steps=args.steps,
                    warmup=args.warmup, num_classes=args.num_classes) for m in args.models]
    devices = jax.devices()
    print(f"\ntransel_jax {transel_jax.__version__}, jax {jax.__version__}: {len(devices)} x "
          f"{devices[0].device_kind} ({devices[0].platform}); synchronized-BN SPMD train step, "
          f"{args.num_classes} classes, {args.steps} timed steps after {args.warmup} warmup\n")
    print("| model | params (M) | global batch | input | dtype | first step (s) | step (ms) | images/s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['params_M']:.2f} | {r['batch']} | {r['size']}x{r['size']} | {r['dtype']} | "
              f"{r['first_step_s']:.1f} | {r['step_ms']:.1f} | {r['images_per_s']:.1f} |")


if __name__ == "__main__":
    main()
