"""Inner progress bars: cleared when done, and in a log file (not a terminal) a few refreshes per loop
instead of one per tenth of a second or one per logged interval."""
import io
import time

import jax
import jax.numpy as jnp

from tiny_segmenter import TinySegmenter, block_batches
from transel_jax.train.checkpoint import make_meta
from transel_jax.train.progress import progress, writes_to_log
from transel_jax.train.trainer import train

K, B = 3, 4


def refreshes(text: str) -> int:
    return text.count("\r")


def slow_loop(bar, n=25, pause=0.03):
    for _ in bar:
        time.sleep(pause)
    bar.close()


def test_a_bar_writing_to_a_file_refreshes_only_at_start_and_end():
    log = io.StringIO()
    assert writes_to_log(log)
    bar = progress(range(25), file=log, desc="inner")
    assert bar.leave is False
    slow_loop(bar)
    assert refreshes(log.getvalue()) <= 3
    # the same loop with tqdm's default interval (0.1 s) refreshes several times: the check can fail
    plain = io.StringIO()
    slow_loop(progress(range(25), file=plain, desc="inner", mininterval=0.1))
    assert refreshes(plain.getvalue()) >= 5


def test_trainer_bar_in_a_log_stays_short(tmp_path, capsys):
    """40 steps logged every 2 steps: the loss postfix must not force a refresh each time."""
    variables = TinySegmenter(K, width=5).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)))
    hparams = {"global_batch_size": B, "steps": 40, "base_lr": 0.05, "schedule": "constant",
               "warmup_steps": 0, "momentum": 0.9, "weight_decay": 0.0, "seed": 0}
    train(TinySegmenter(K, width=5, axis_name="data"), variables, block_batches(2, B, num_classes=K),
          hparams=hparams, ckpt={"every_steps": 100, "keep": 1}, workdir=str(tmp_path),
          meta=make_meta("tiny", K), log_every=2)
    err = capsys.readouterr().err
    assert "train " in err and refreshes(err) <= 4
