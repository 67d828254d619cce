"""``transel run``: the papers' studies end to end, as cached stages in a run directory.

>>> from transel_jax.config import load_config                        # doctest: +SKIP
>>> from transel_jax.run import pipeline                               # doctest: +SKIP
>>> pipeline.run(load_config("configs/demo.py"), "runs/demo")          # doctest: +SKIP

Modules: :mod:`.defaults` (the run config's schema), :mod:`.validate` (every config problem, before any
work), :mod:`.stage` (cached stages, done-markers, fingerprints), :mod:`.plan` (source pool and targets),
:mod:`.datasets` (dataset facts and splits as the run sees them), one module per stage (:mod:`.pool`,
:mod:`.probe`, :mod:`.scoring`, :mod:`.candidates`, :mod:`.finetunes`, :mod:`.actual`, :mod:`.evaluate`,
:mod:`.selection`, :mod:`.influence`, :mod:`.report_stage`), :mod:`.pipeline` (their order),
:mod:`.dryrun` (the plan without running) and :mod:`.cli`. The stages orchestrate: the numerics they call
live in :mod:`transel_jax.transfer`, :mod:`transel_jax.ensembles`, :mod:`transel_jax.metrics`,
:mod:`transel_jax.evaluation` and :mod:`transel_jax.analysis`.
"""
