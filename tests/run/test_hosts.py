"""transel_jax.run.hosts: the division of a stage's work items among hosts (no processes: the host index
and count are stubbed; tests/run/test_multihost_run.py runs real processes)."""
from __future__ import annotations

import pytest

from transel_jax.run import hosts


class Bar:
    """What ``each`` uses of a tqdm bar."""

    def __init__(self):
        self.n = 0

    def update(self, k: int = 1):
        self.n += k


def test_one_host_does_every_item_in_order_and_counts_each():
    calls = []
    bar = Bar()
    out = hosts.each(lambda x: calls.append(x) or 10 * x, range(5), "t", bar=bar)
    assert bar.n == 5
    assert out == [0, 10, 20, 30, 40] and calls == [0, 1, 2, 3, 4]
    assert hosts.share(list("abc")) == list("abc")


@pytest.mark.parametrize("count", [1, 2, 3, 5, 11])
def test_the_shares_cover_every_item_once(monkeypatch, count):
    monkeypatch.setattr(hosts, "count", lambda: count)
    items = list("abcdefghij")
    blocks = []
    for index in range(count):
        monkeypatch.setattr(hosts, "index", lambda: index)
        blocks.append(hosts.share(items))
    assert sorted(sum(blocks, [])) == items
    assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_host_computes_its_share_then_reads_back_every_item(monkeypatch, index):
    monkeypatch.setattr(hosts, "index", lambda: index)
    monkeypatch.setattr(hosts, "count", lambda: 3)
    met = []
    monkeypatch.setattr(hosts, "barrier", met.append)
    items = list(range(8))
    assert hosts.share(items) == items[index::3]
    calls = []
    bar = Bar()
    out = hosts.each(lambda x: calls.append((x, list(met))) or x * x, items, "meet", bar=bar)
    assert bar.n == len(items[index::3])  # the read-back is not counted
    assert out == [x * x for x in items]
    mine = items[index::3]
    # its own items before the barrier, then every item after it
    assert calls == [(x, []) for x in mine] + [(x, ["meet"]) for x in items]
