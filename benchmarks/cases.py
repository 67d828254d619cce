"""Command-line pieces shared by the scorer benchmarks: the case's shape, the seed, the CPU device count.

Imports nothing but the standard library, so a script can use it before jax is imported (the device count
must be set first).
"""
from __future__ import annotations

import argparse
import os


def add_case_arguments(parser: argparse.ArgumentParser, *, n: int = 150_000, C: int = 20) -> None:
    """--N sources, --S ensemble size, --n sampled pixels, --C classes (default: the papers' headline case
    N=64, S=3, n=150,000, C=20), --seed, --cpu-devices."""
    parser.add_argument("--N", type=int, default=64, help="sources")
    parser.add_argument("--S", type=int, default=3, help="ensemble size")
    parser.add_argument("--n", type=int, default=n, help="sampled pixels")
    parser.add_argument("--C", type=int, default=C, help="target classes")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cpu-devices", type=int, default=os.cpu_count(),
                        help="XLA host devices to shard ensembles over when running on CPU (default: cores)")


def set_cpu_devices(count: int) -> None:
    """Expose ``count`` XLA CPU devices (one per core is fastest); call before jax is imported."""
    flag = f"--xla_force_host_platform_device_count={count}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
