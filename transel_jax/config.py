"""Python config files and ``--config.a.b=value`` command-line overrides.

A config file is a Python module exposing ``get_config() -> ml_collections.ConfigDict`` (the convention of
the flax examples and big_vision). Overrides address a field by its dotted path; the new value is parsed
with the *existing* field's type, so ``--config.train.steps=200`` stays an ``int`` and
``--config.train.schedule=poly`` a ``str``:

>>> cfg = load_config("configs/train_tiny.py", ["--config.train.steps=20"])  # doctest: +SKIP
>>> cfg.train.steps  # doctest: +SKIP
20

Parsing rules by existing type: ``bool`` accepts true/false/1/0/yes/no; ``int`` and ``float`` use the
Python constructors; ``str`` is taken verbatim; ``tuple``/``list`` and ``None`` fields take a Python literal
(``(512, 512)``, ``None``, ``[0.5, 1.0]``), a ``None`` field falling back to the raw string.
"""
from __future__ import annotations

import ast
import importlib.util
import os
from typing import Any, Sequence

import ml_collections

_PREFIX = "--config."


def load_config(path: str, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
    """Load ``get_config()`` from the Python file ``path`` and apply ``overrides``.

    Args:
      path: a ``.py`` file defining ``get_config()``.
      overrides: strings ``"--config.a.b=value"`` (or ``"a.b=value"``); a bare ``"--config.a.b"`` followed
        by a separate ``"value"`` token is accepted too, as a shell splits ``--config.a.b value``.

    Returns:
      the config with every override applied, in order.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a path to a Python config file, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise ValueError(f"path: expected an existing Python config file, got {str(path)!r} (not found)")
    spec = importlib.util.spec_from_file_location(f"_transel_config_{abs(hash(os.fspath(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(f"path: expected {str(path)!r} to define get_config(), it does not")
    config = module.get_config()
    if not isinstance(config, ml_collections.ConfigDict):
        raise TypeError(f"get_config() in {str(path)!r}: expected a ConfigDict, got {type(config).__name__}")
    return apply_overrides(config, overrides)


def apply_overrides(config: ml_collections.ConfigDict, overrides: Sequence[str]) -> ml_collections.ConfigDict:
    """Return a copy of ``config`` with ``overrides`` (see :func:`load_config`) applied in order."""
    config = ml_collections.ConfigDict(config.to_dict())  # a copy; the caller's config is left alone
    for key, raw in _pairs(overrides):
        set_field(config, key, raw)
    return config


def set_field(config: ml_collections.ConfigDict, key: str, raw: str) -> None:
    """Set the existing field at dotted ``key`` to ``raw`` parsed with the field's current type."""
    *parents, leaf = key.split(".")
    node = config
    for i, part in enumerate(parents):
        if part not in node or not isinstance(node[part], ml_collections.ConfigDict):
            raise ValueError(f"override {key!r}: expected an existing config group {'.'.join(parents[:i + 1])!r}")
        node = node[part]
    if leaf not in node:
        raise ValueError(f"override {key!r}: expected one of the fields {sorted(node.keys())}, got {leaf!r}")
    node[leaf] = parse_like(node[leaf], raw, key)


def parse_like(current: Any, raw: str, key: str = "value") -> Any:
    """Parse the string ``raw`` into the type of ``current`` (rules in the module docstring)."""
    if isinstance(current, bool):
        low = raw.strip().lower()
        if low in ("true", "1", "yes"):
            return True
        if low in ("false", "0", "no"):
            return False
        raise ValueError(f"override {key!r}: expected a bool (true/false), got {raw!r}")
    if isinstance(current, (int, float)):
        try:
            return type(current)(raw)
        except ValueError:
            raise ValueError(f"override {key!r}: expected {type(current).__name__}, got {raw!r}") from None
    if isinstance(current, str):
        return raw
    if isinstance(current, ml_collections.ConfigDict):
        raise ValueError(f"override {key!r}: expected a leaf field, got a config group")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        if current is None:
            return raw
        raise ValueError(f"override {key!r}: expected a Python literal of type {type(current).__name__}, "
                         f"got {raw!r}") from None
    if current is not None and isinstance(current, (tuple, list)):
        if not isinstance(value, (tuple, list)):
            raise ValueError(f"override {key!r}: expected a {type(current).__name__}, got {raw!r}")
        return type(current)(value)
    return value


def _pairs(overrides: Sequence[str]):
    """Yield (dotted key, raw value) from override tokens."""
    tokens = list(overrides)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if not isinstance(tok, str):
            raise TypeError(f"overrides: expected strings like '--config.a.b=value', got {tok!r}")
        body = tok[len(_PREFIX):] if tok.startswith(_PREFIX) else tok
        if body.startswith("-") or not body:
            raise ValueError(f"overrides: expected '--config.a.b=value', got {tok!r}")
        if "=" in body:
            key, raw = body.split("=", 1)
            i += 1
        elif i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
            key, raw = body, tokens[i + 1]
            i += 2
        else:
            raise ValueError(f"overrides: expected a value for {tok!r} ('--config.a.b=value')")
        yield key, raw
