"""``transel run``: the papers' studies end to end, as cached stages in a run directory.

>>> from transel_jax.config import load_config                        # doctest: +SKIP
>>> from transel_jax.run import pipeline                               # doctest: +SKIP
>>> pipeline.run(load_config("configs/demo.py"), "runs/demo")          # doctest: +SKIP

Modules: :mod:`.stage` (cached stages, done-markers), :mod:`.plan` (source pool and targets),
:mod:`.datasets`, one module per stage (:mod:`.pool`, :mod:`.finetunes`, :mod:`.actual`, :mod:`.probe`,
:mod:`.scoring`, :mod:`.evaluate`, :mod:`.selection`, :mod:`.influence`, :mod:`.report_stage`),
:mod:`.pipeline` (their order) and :mod:`.cli`.
"""
