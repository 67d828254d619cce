"""Progress bars of the library's inner loops (training steps, evaluation, prediction).

``transel run`` shows one bar per stage (e.g. "fine-tunes: 12/42 models") and, below it, the bar of the
model in progress. Inner bars are therefore ``leave=False``: a finished model's bar is cleared instead of
leaving a line behind. Only process 0 of a multi-host job draws. When the bar writes to a file or a pipe
(a log, CI) rather than a terminal or a notebook, it refreshes at most every :data:`LOG_INTERVAL_S`
seconds, so a long training run adds one update per half minute to the log, not ten per second.
:func:`shown` hides them all (a ``progress=False`` call, a command's ``--no-progress``).
"""
from __future__ import annotations

import contextlib
import sys

from tqdm.auto import tqdm

LOG_INTERVAL_S = 30.0
_shown = True  # False inside ``shown(False)``: every inner bar hidden


@contextlib.contextmanager
def shown(flag: bool):
    """Inside ``with shown(False):`` every inner bar of the library is hidden (a ``progress=False`` call,
    ``transel select --no-progress``); ``shown(True)`` changes nothing (an outer ``shown(False)`` holds)."""
    global _shown
    previous, _shown = _shown, _shown and bool(flag)
    try:
        yield
    finally:
        _shown = previous


def writes_to_log(file=None) -> bool:
    """True when a console bar would write to ``file`` (default stderr) and that is not a terminal."""
    if any(cls.__module__.startswith("tqdm.notebook") for cls in tqdm.__mro__):
        return False  # notebook widgets redraw in place
    stream = sys.stderr if file is None else file
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def progress(iterable=None, **kwargs) -> tqdm:
    """``tqdm.auto.tqdm(iterable, **kwargs)`` with the defaults of the module docstring (all overridable)."""
    import jax

    kwargs.setdefault("leave", False)
    kwargs.setdefault("disable", not _shown or jax.process_index() != 0)
    if writes_to_log(kwargs.get("file")):
        kwargs.setdefault("mininterval", LOG_INTERVAL_S)
    return tqdm(iterable, **kwargs)
