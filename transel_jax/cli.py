"""The ``transel`` command.

Each verb lives in the module that owns its concern and exposes ``add_arguments(parser)`` and
``main(args) -> int``; this file only dispatches. ``add_arguments`` must stay cheap: a verb module
imports jax, flax and friends inside ``main`` so that ``transel --help`` stays fast.

Errors: a ``ValueError``, ``TypeError`` or ``FileNotFoundError`` raised by a verb is a usage error: it
prints one line ``transel: error: <message>`` (plus a ``hint:`` line where one helps) on stderr and exits
with status 2, as argparse does for bad arguments, without a traceback. A run that fails on its own
(``FloatingPointError``: a training run that diverged) prints the same one line and exits with status 1. ``--debug`` (before or after the
verb) or the environment variable ``TRANSEL_DEBUG=1`` re-raises it with its traceback instead.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

USAGE_ERRORS = (ValueError, TypeError, FileNotFoundError)   # exit status 2
RUN_ERRORS = (FloatingPointError,)                            # exit status 1

# verb -> (module, one-line help). A module provides add_arguments(parser) and main(args).
VERBS: dict[str, tuple[str, str]] = {
    "score": ("transel_jax.ensembles.cli", "score every candidate ensemble from an .npz of probabilities"),
    "data": ("transel_jax.data.cli", "list datasets, check a folder dataset, write preview grids with label overlays"),
    "real": ("transel_jax.data.real.cli", "check or prepare (TFDS array_record) the 17 real datasets from local files"),
    "train": ("transel_jax.train.cli", "train or fine-tune a segmentation model from a config (data-parallel)"),
    "run": ("transel_jax.run.cli", "reproduce the papers' studies end to end from a config, with a report"),
    "select": ("transel_jax.select.cli", "rank every ensemble of your own pool for your own target; fine-tune the best"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="transel", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show the Python traceback of an error (also: TRANSEL_DEBUG=1)")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    sub.required = True
    for verb, (module, help_) in VERBS.items():
        p = sub.add_parser(verb, help=help_, description=help_)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show the Python traceback of an error (also: TRANSEL_DEBUG=1)")
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Verbs taking ml_collections-style `--config.a.b=value` overrides set_defaults(config_overrides=[]).
    if extra and not (hasattr(args, "config_overrides") and all(e.startswith("--config.") or not e.startswith("-")
                                                               for e in extra)):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if hasattr(args, "config_overrides"):
        args.config_overrides = extra
    if args.debug or os.environ.get("TRANSEL_DEBUG", "").strip().lower() in ("1", "true", "yes"):
        return int(importlib.import_module(args._module).main(args) or 0)
    try:
        return int(importlib.import_module(args._module).main(args) or 0)
    except USAGE_ERRORS as err:
        print(error_line(err), file=sys.stderr)
        return 2
    except RUN_ERRORS as err:
        print(error_line(err), file=sys.stderr)
        return 1


def error_line(err: BaseException) -> str:
    """``transel: error: <message>`` (one line), then a hint line when one helps."""
    message = " ".join(str(err).split()) or type(err).__name__
    if isinstance(err, FileNotFoundError) and err.filename is not None:
        message = f"{err.strerror or 'not found'}: {err.filename}"
    hint = _hint(err)
    return f"transel: error: {message}" + (f"\nhint: {hint}" if hint else "")


def _hint(err: BaseException) -> str:
    if isinstance(err, FileNotFoundError):
        return "check the path (relative paths are taken from the current directory)"
    return ""


if __name__ == "__main__":
    sys.exit(main())
