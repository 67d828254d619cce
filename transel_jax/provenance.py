"""What every result file records about how it was produced: command, versions, time, host, extras."""
from __future__ import annotations

import datetime
import hashlib
import importlib.metadata
import platform
import sys

_PACKAGES = ("transel_jax", "jax", "jaxlib", "flax", "optax", "numpy", "scipy")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_sha256(path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def provenance(**extra) -> dict:
    """A JSON-able record: UTC time, command line, host, package versions, jax backend, and ``extra``."""
    record = {
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "host": platform.node(),
        "versions": versions(),
    }
    if "jax" in sys.modules:
        jax = sys.modules["jax"]
        record["jax_backend"] = jax.default_backend()
        record["devices"] = [str(d) for d in jax.devices()]
    record.update(extra)
    return record
