"""launch/local_multiprocess.sh without jax: the environment it gives each process, PIN_CPUS, bad input,
and the failure of one process stopping the run (the multi-host tests run jax programs through it)."""
from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from multihost_fixtures import launcher  # noqa: E402,F401 -- the fixture

REPORT = ("import json, os; print('REPORT', json.dumps({'id': int(os.environ['TRANSEL_PROCESS_ID']), "
          "'n': int(os.environ['TRANSEL_NUM_PROCESSES']), 'cpus': sorted(os.sched_getaffinity(0)), "
          "'xla': os.environ.get('XLA_FLAGS', '')}))")


def reports(output: str) -> dict[int, dict]:
    rows = [json.loads(line.split("REPORT ", 1)[1]) for line in output.splitlines() if "REPORT " in line]
    return {r["id"]: r for r in rows}


def test_each_process_gets_its_id_and_devices_and_by_default_every_core(launcher):
    job = launcher(2, ["--", sys.executable, "-c", REPORT], devices=3, timeout=60)
    assert job.returncode == 0, job.output
    got = reports(job.output)
    assert sorted(got) == [0, 1] and {r["n"] for r in got.values()} == {2}
    assert all("--xla_force_host_platform_device_count=3" in r["xla"] for r in got.values())
    cores = sorted(os.sched_getaffinity(0))
    assert all(r["cpus"] == cores for r in got.values())  # unpinned: each may use every core


@pytest.mark.skipif(shutil.which("taskset") is None or len(os.sched_getaffinity(0)) < 2,
                    reason="needs taskset and 2 cores")
def test_pin_cpus_gives_each_process_its_own_block_of_cores(launcher):
    cores = sorted(os.sched_getaffinity(0))
    job = launcher(2, ["--", sys.executable, "-c", REPORT], timeout=60, env={"PIN_CPUS": "1"})
    assert job.returncode == 0, job.output
    got = reports(job.output)
    per = len(cores) // 2
    assert got[0]["cpus"] == cores[:per] and got[1]["cpus"] == cores[per:2 * per]


@pytest.mark.parametrize("env, nproc, message", [
    ({"PIN_CPUS": "yes"}, 2, "PIN_CPUS: expected 0 or 1, got 'yes'"),
    ({"PIN_CPUS": "1"}, 4096, "PIN_CPUS=1: expected at least NPROC=4096 cores"),
])
def test_bad_pinning_is_refused_before_anything_starts(launcher, env, nproc, message):
    job = launcher(nproc, ["--", sys.executable, "-c", "print('STARTED')"], timeout=60, env=env)
    assert job.returncode == 2 and message in job.output and "STARTED" not in job.output


def test_one_failing_process_stops_the_others_and_sets_the_status(launcher):
    program = ("import os, time; pid = int(os.environ['TRANSEL_PROCESS_ID']); "
               "(os._exit(5) if pid == 1 else time.sleep(60)); print('NOT STOPPED')")
    job = launcher(2, ["--", sys.executable, "-c", program], timeout=30)
    assert job.returncode == 5 and "process 1 exited with status 5" in job.output
    assert "NOT STOPPED" not in job.output and job.wall_s < 20
