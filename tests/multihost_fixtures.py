"""Local multi-process jobs for the multi-host tests: ``launch/local_multiprocess.sh`` with a free port.

``launcher`` (a pytest fixture; import it into a test module with ``from multihost_fixtures import
launcher``) returns ``launch(nproc, args, devices=2, timeout=...) -> Job``: it runs the launch script in a
new process group with a free coordinator port, waits for it, and kills the whole group (launcher, its
processes and their output filters) if it overran, and at teardown whatever is left. One fixture for the
port choice and the cleanup, as the multi-host test modules share it. The jobs share one persistent
compilation cache, so a relaunch (a resume after a killed job) loads what the first job compiled.
"""
from __future__ import annotations

import dataclasses
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAUNCHER = os.path.join(ROOT, "launch", "local_multiprocess.sh")


@dataclasses.dataclass
class Job:
    returncode: int
    output: str
    wall_s: float
    port: int


def one_device_env() -> dict[str, str]:
    """This process's environment without the tests' forced device count: a child jax process gets the one
    CPU device a plain ``transel`` command gets."""
    return {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def launcher(tmp_path_factory):
    started: list[subprocess.Popen] = []
    # one persistent compilation cache for every job of the session: a relaunch loads what the first compiled
    cache = tmp_path_factory.getbasetemp() / "multihost_jax_cache"

    def launch(nproc: int, args: list[str], *, devices: int = 2, timeout: float = 120.0,
               env: dict | None = None) -> Job:
        port = free_port()
        full_env = one_device_env()  # not the tests' 4 devices: the launcher gives each process its own
        full_env.update({"COORDINATOR_PORT": str(port), "DEVICES_PER_PROCESS": str(devices),
                         "JAX_PLATFORMS": "cpu", "PYTHON": sys.executable,
                         "JAX_COMPILATION_CACHE_DIR": str(cache), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
                         "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p)})
        full_env.update(env or {})
        start = time.perf_counter()
        proc = subprocess.Popen(["bash", LAUNCHER, str(nproc), *args], cwd=ROOT, env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        started.append(proc)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, _ = proc.communicate()
            raise AssertionError(f"local_multiprocess.sh {nproc} {args} ran past {timeout} s:\n{out[-4000:]}")
        finally:
            _kill_group(proc)  # nothing of the job outlives it (a killed process's peers, output filters)
        return Job(proc.returncode, out, time.perf_counter() - start, port)

    yield launch
    for proc in started:
        _kill_group(proc)


TINY_RUN_CONFIG = os.path.join(ROOT, "tests", "run", "tiny_config.py")
STAGE_LINE = re.compile(r"^\[\d+/\d+\] \w+: ")


@pytest.fixture(scope="session")
def tiny_single_run(tmp_path_factory):
    """``(run_dir, stage lines)`` of one ``transel run`` of tests/run/tiny_config.py, once per session: the
    command as a user runs it on a CPU (a child process with jax's one default CPU device). The multi-host
    run test compares a 2-process run (one device per process) against it; tests/run/test_end_to_end.py
    checks it."""
    path = str(tmp_path_factory.mktemp("tiny_run"))
    proc = subprocess.run([sys.executable, "-m", "transel_jax.cli", "run", "--config", TINY_RUN_CONFIG,
                           "--workdir", path], cwd=ROOT, env=one_device_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-4000:])
    return path, [line for line in proc.stdout.splitlines() if STAGE_LINE.match(line)]
