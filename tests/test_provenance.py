"""provenance: the git commit of the package source, None wherever it is not a checkout; never raises."""
import os
import shutil
import subprocess

import pytest

from transel_jax import provenance

GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git not installed")


def _git(cwd, *args):
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout.strip()


def _fake_package(root):
    """``root/transel_jax/provenance.py``: where git_commit looks from."""
    package = root / "transel_jax"
    package.mkdir(parents=True)
    (package / "provenance.py").write_text("# stand-in\n")
    return str(package / "provenance.py")


@needs_git
def test_commit_of_a_checkout_is_its_head(tmp_path, monkeypatch):
    fake = _fake_package(tmp_path)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "x")
    head = (tmp_path / ".git" / "HEAD").read_text().split()[-1]     # "ref: refs/heads/<branch>"
    expected = (tmp_path / ".git" / head).read_text().strip()          # the ref file
    monkeypatch.setattr(provenance, "__file__", fake)
    assert provenance.git_commit.__wrapped__() == expected


@needs_git
def test_no_commit_when_the_package_is_not_the_top_of_a_work_tree(tmp_path, monkeypatch):
    fake = _fake_package(tmp_path / "vendored")  # e.g. a copy installed inside another repository
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "x")
    monkeypatch.setattr(provenance, "__file__", fake)
    assert provenance.git_commit.__wrapped__() is None


def test_no_commit_outside_a_checkout_or_without_git(tmp_path, monkeypatch):
    monkeypatch.setattr(provenance, "__file__", _fake_package(tmp_path))
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never look above tmp_path
    assert provenance.git_commit.__wrapped__() is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no git executable at all
    assert provenance.git_commit.__wrapped__() is None


def test_provenance_records_the_commit_and_code_identity_matches():
    record = provenance.provenance(what="x")
    assert record["git_commit"] == provenance.git_commit() and record["what"] == "x"
    commit = record["git_commit"]
    assert commit is None or (len(commit) == 40 and int(commit, 16) >= 0)
    assert provenance.code_identity() == {"transel_jax": record["versions"]["transel_jax"], "git_commit": commit}


@needs_git
def test_this_checkout_reports_its_head():
    package = os.path.dirname(os.path.abspath(provenance.__file__))
    top = os.path.dirname(package)
    if not os.path.exists(os.path.join(top, ".git")):
        pytest.skip("the package is not imported from a git checkout")
    assert provenance.git_commit.__wrapped__() == _git(top, "rev-parse", "HEAD")


def test_processor_is_the_first_model_name_of_cpuinfo_else_a_fallback(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: X\nmodel name\t: Some CPU 9000\n\nprocessor\t: 1\n"
                    "model name\t: Other\n")
    assert provenance.processor(str(info)) == "Some CPU 9000"
    info.write_text("processor\t: 0\n")  # no model name (e.g. some ARM kernels)
    assert provenance.processor(str(info)) and provenance.processor(str(info)) != "Some CPU 9000"
    assert provenance.processor(str(tmp_path / "missing"))  # not Linux: never raises, never empty
    record = provenance.provenance()
    assert record["processor"] == provenance.processor() and record["cpu_count"] == os.cpu_count()
