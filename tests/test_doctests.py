"""The docstring examples of every package module run and print what they say."""
import doctest
import importlib
import pkgutil

import pytest

import transel_jax

OPTIONAL = ("onnxruntime", "onnx", "tensorflow")  # extras a module may import at top level


def _modules():
    for info in pkgutil.walk_packages(transel_jax.__path__, "transel_jax."):
        yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as e:  # only an optional extra may be missing
        if e.name and e.name.split(".")[0] in OPTIONAL:
            pytest.skip(f"{name} needs the optional {e.name}")
        raise
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed (output above)"


def test_the_package_has_runnable_examples():
    attempted = 0
    for name in _modules():
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        finder = doctest.DocTestFinder()
        attempted += sum(len([e for e in t.examples if not e.options.get(doctest.SKIP)])
                         for t in finder.find(module))
    assert attempted >= 25
