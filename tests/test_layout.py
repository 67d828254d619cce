"""The layout rules of the package, checked on its source: one home per concern, one direction of imports."""
import ast
import collections
import os

import pytest

import transel_jax

ROOT = os.path.dirname(transel_jax.__file__)
SUBPACKAGES = sorted(d for d in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, d, "__init__.py")))


def _modules(sub=None):
    base = ROOT if sub is None else os.path.join(ROOT, sub)
    for root, _, files in os.walk(base):
        for f in files:
            if f.endswith(".py"):
                yield os.path.join(root, f)


def _imports(path):
    """Every module name imported anywhere in the file (inside functions too)."""
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def _attribute_calls(path):
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            yield f"{node.value.id}.{node.attr}"


@pytest.mark.parametrize("sub", ["run", "select"])
def test_orchestration_holds_no_jitted_numerics(sub):
    banned = ("jax.numpy", "jax.lax", "flax", "jax.experimental")
    for path in _modules(sub):
        bad = [m for m in _imports(path) if m.startswith(banned)]
        bad += [c for c in _attribute_calls(path) if c in ("jax.jit", "jax.vmap", "jax.shard_map", "jax.lax", "jnp.array")]
        assert not bad, f"{os.path.relpath(path, ROOT)} uses {sorted(set(bad))}: numerics belong in a library module"


def test_no_import_cycle_between_subpackages():
    graph = collections.defaultdict(set)
    for sub in SUBPACKAGES:
        for path in _modules(sub):
            for m in _imports(path):
                parts = m.split(".")
                if parts[0] == "transel_jax" and len(parts) > 1 and parts[1] in SUBPACKAGES and parts[1] != sub:
                    graph[sub].add(parts[1])

    def reaches(a, b, seen=()):
        return any(n == b or (n not in seen and reaches(n, b, (*seen, n))) for n in graph[a])

    cycles = sorted((a, b) for a in SUBPACKAGES for b in graph[a] if reaches(b, a))
    assert not cycles, f"import cycles between subpackages: {cycles}"


@pytest.mark.parametrize("sub,banned", [("data", ("jax", "flax", "transel_jax.models", "transel_jax.train")),
                                        ("report", ("jax", "flax")),
                                        ("metrics", ("transel_jax.train", "transel_jax.transfer", "transel_jax.run"))])
def test_dependency_rules(sub, banned):
    for path in _modules(sub):
        bad = [m for m in _imports(path) if m in banned or m.startswith(tuple(b + "." for b in banned))]
        assert not bad, f"{os.path.relpath(path, ROOT)} imports {sorted(set(bad))}"


def test_confusion_to_iou_lives_in_one_module():
    defs = collections.Counter()
    for path in _modules():
        for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
            if isinstance(node, ast.FunctionDef) and node.name in ("confusion", "confusion_matrix", "iou_from_confusion",
                                                                    "mean_iou", "mean_iou_np", "_mean_iou",
                                                                    "_mean_over_nonzero"):
                defs[os.path.relpath(path, ROOT)] += 1
    assert list(defs) == [os.path.join("evaluation", "miou.py")], dict(defs)
