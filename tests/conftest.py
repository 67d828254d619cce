"""Test configuration: 4 forced CPU devices, set before jax is imported anywhere."""
import os

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4"
).strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import sys  # noqa: E402

# Shared plain references (tests/transel_reference.py) are importable from every test folder.
sys.path.insert(0, os.path.dirname(__file__))
