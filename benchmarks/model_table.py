"""Print the model table: parameters, depth, output shapes and forward time of the segmenters.

    python benchmarks/model_table.py            # the papers' models, 20 classes, 512x512, batch 8
    python benchmarks/model_table.py --quick    # every model at 64x64, batch 2

On a CPU the compile dominates --quick: most of a minute for each full-size HRNetV2 (306 conv layers).

Parameter counts, depth and shapes come from ``transel_jax.models.describe`` (``jax.eval_shape``, nothing
allocated). The forward time is that of ``jax.jit(model.apply)`` in eval mode on the default device: the
median over ``--repeats`` runs after one compile-and-run, with variables from
``transel_jax.models.random_variables`` (timing does not depend on the weights' values).
"""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time

import jax
import jax.numpy as jnp
from tqdm import tqdm

from transel_jax import models

PAPER_MODELS = ("hrnetv2_w18", "hrnetv2_w28", "hrnetv2_w48", "resnet23m")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=None, choices=models.names(),
                   help="models to list (default: the papers' four; with --quick: all)")
    p.add_argument("--num-classes", type=int, default=20)
    p.add_argument("--size", type=int, default=512, help="square input size H = W")
    p.add_argument("--batch", type=int, default=8, help="batch size of the timed forward pass")
    p.add_argument("--repeats", type=int, default=3, help="timed runs after the compile run")
    p.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32", help="compute dtype")
    p.add_argument("--no-time", action="store_true", help="skip the forward timing")
    p.add_argument("--quick", action="store_true", help="64x64 inputs, batch 2, all models")
    args = p.parse_args(argv)
    if args.quick:
        args.size, args.batch = 64, 2
        args.models = args.models or models.names()
    args.models = args.models or list(PAPER_MODELS)
    return args


def time_forward(name: str, args: argparse.Namespace) -> tuple[float, float]:
    """(seconds of the first call = compile + run, median seconds of the next ``repeats`` calls)."""
    model = models.build(name, args.num_classes, dtype=jnp.dtype(args.dtype))
    variables = models.random_variables(model, seed=0)
    images = jax.random.normal(jax.random.PRNGKey(0), (args.batch, args.size, args.size, 3), jnp.float32)
    forward = jax.jit(model.apply)
    start = time.perf_counter()
    forward(variables, images).block_until_ready()
    first = time.perf_counter() - start
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        forward(variables, images).block_until_ready()
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def row(name: str, args: argparse.Namespace) -> list[str]:
    d = models.describe(name, args.num_classes, input_size=(args.size, args.size))
    cells = [name, f"{d['params'] / 1e6:.2f}M", str(d["depth"]), str(d["feature_channels"]),
             str(d["output_stride"]), "x".join(map(str, d["logits_shape"][1:])),
             "x".join(map(str, d["features_shape"][1:]))]
    if not args.no_time:
        first, median = time_forward(name, args)
        cells += [f"{first:.2f}", f"{median:.3f}"]
    return cells


def main(argv=None) -> int:
    args = parse_args(argv)
    device = jax.devices()[0]
    header = ["model", "params", "depth", "D", "stride", f"logits ({args.size}x{args.size})", "features"]
    if not args.no_time:
        header += ["compile+1st (s)", f"forward b={args.batch} median (s)"]
    rows = [row(name, args) for name in tqdm(args.models, desc="models", file=sys.stderr)]
    print(f"# model table: {args.num_classes} classes, input {args.size}x{args.size}, dtype {args.dtype}")
    print(f"# command: python benchmarks/model_table.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"# device: {device.platform} {device.device_kind} ({jax.device_count()} devices, host "
          f"{platform.processor() or platform.machine()}); jax {jax.__version__}; "
          f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}")
    if not args.no_time:
        print(f"# forward: jit(model.apply), eval mode, median of {args.repeats} runs after the compile run")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, ["-" * w for w in widths], *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
