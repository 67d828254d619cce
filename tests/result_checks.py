"""Shared checks of run-directory result files for the end-to-end tests."""


def json_numbers(obj):
    """Every float in a parsed JSON tree (dicts and lists), depth first."""
    if isinstance(obj, dict):
        for v in obj.values():
            yield from json_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from json_numbers(v)
    elif isinstance(obj, float):
        yield obj
