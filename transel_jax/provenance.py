"""What every result file records about how it was produced: command, versions, time, host, extras."""
from __future__ import annotations

import datetime
import functools
import hashlib
import importlib.metadata
import os
import platform
import re
import subprocess
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


@functools.cache
def git_commit() -> str | None:
    """The 40-hex commit checked out where the ``transel_jax`` package is imported from, or None.

    None unless the package folder is the ``transel_jax`` folder at the top of a git work tree (an
    installed copy inside some other repository does not count), git is missing, or it takes over 2 s.
    Never raises. Cached for the life of the process.
    """
    package = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel", "HEAD"], cwd=package, capture_output=True,
                             text=True, timeout=2, check=True).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(out) != 2 or not re.fullmatch(r"[0-9a-f]{40}", out[1]):
        return None
    top, commit = out
    if os.path.realpath(os.path.join(top, "transel_jax")) != os.path.realpath(package):
        return None
    return commit


def processor(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name (Linux: the first ``model name`` of ``cpuinfo``; elsewhere
    ``platform.processor()`` or the machine type). Results depend on it: XLA:CPU generates different code,
    with different float rounding, for different CPUs. Never raises."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def code_identity() -> dict:
    """``{"transel_jax": version, "git_commit": commit or None}``: which code computes a result."""
    return {"transel_jax": versions()["transel_jax"], "git_commit": git_commit()}


def file_sha256(path, block: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def provenance(**extra) -> dict:
    """A JSON-able record: UTC time, command line, host, processor (:func:`processor`) and CPU count,
    package versions, the git commit of the package source (:func:`git_commit`, None when it is not a
    checkout), jax backend, and ``extra``."""
    record = {
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "host": platform.node(),
        "processor": processor(),
        "cpu_count": os.cpu_count(),
        "versions": versions(),
        "git_commit": git_commit(),
    }
    if "jax" in sys.modules:
        jax = sys.modules["jax"]
        record["jax_backend"] = jax.default_backend()
        record["devices"] = [str(d) for d in jax.devices()]
    record.update(extra)
    return record
