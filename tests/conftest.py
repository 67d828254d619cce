"""Test configuration: 4 forced CPU devices, set before jax is imported anywhere."""
import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# Compilation dominates the suite (hundreds of small programs, whole tiny studies in child processes, which
# inherit this): XLA's backend optimisation is turned down (LLVM -O0, no expensive passes), which changes
# float rounding (e.g. no fused multiply-adds) but not what a program computes. Every comparison in the
# suite is against a tolerance or between programs compiled alike; tests marked ``xla_optimized`` (claims
# of bit-for-bit equality between two different programs) compile with full optimisation, as users run.
# JAX_DISABLE_MOST_OPTIMIZATIONS=0 runs the whole suite optimised.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import sys  # noqa: E402

import pytest  # noqa: E402

# Shared plain references (tests/transel_reference.py) are importable from every test folder.
sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def _xla_optimized(request):
    """Full XLA optimisation for tests marked ``xla_optimized``. The flag is read at compile time and is not
    part of jax's in-memory cache keys, so compiled programs are dropped on the way in and out."""
    if request.node.get_closest_marker("xla_optimized") is None:
        yield
        return
    import jax

    previous = jax.config.read("jax_disable_most_optimizations")
    jax.clear_caches()
    jax.config.update("jax_disable_most_optimizations", False)
    try:
        yield
    finally:
        jax.config.update("jax_disable_most_optimizations", previous)
        jax.clear_caches()
