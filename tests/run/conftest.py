"""Fixtures shared by the run tests: the session's one tiny study (``tiny_single_run``), which
tests/run/test_end_to_end.py checks and tests/run/test_multihost_run.py compares a 2-process run against,
so the suite runs the tiny study once."""
from multihost_fixtures import tiny_single_run  # noqa: F401 -- a fixture, registered here to be shared
