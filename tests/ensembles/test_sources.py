"""The scorer reads memory maps and chunked sources a chunk at a time, in their own dtype, never whole."""
import numpy as np
import pytest

from transel_jax.ensembles import greedy_select, score_ensembles

N, n, C = 5, 300, 4


@pytest.fixture(scope="module")
def pool():
    rng = np.random.default_rng(0)
    # float16-representable values (rows sum to 1 within float16 rounding), so both dtypes hold the same data
    eep = rng.dirichlet(np.full(C, 0.5), size=(N, n)).astype(np.float16).astype(np.float32)
    return eep, rng.integers(0, C, n)


class Recording:
    """A chunked source over an array that records every read (the largest tells the peak)."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.reads = array, array.shape, array.dtype, []

    def read(self, pixels):
        self.reads.append(np.asarray(pixels).copy())
        return self.array[:, pixels]


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_npy_memmap_path_and_array_give_the_in_memory_scores(pool, tmp_path, dtype):
    eep, labels = pool
    path = tmp_path / "eep.npy"
    np.save(path, eep.astype(dtype))
    expected = score_ensembles(eep, labels, 3, progress=False)
    for given in (str(path), np.load(path, mmap_mode="r")):
        got = score_ensembles(given, labels, 3, progress=False, pixel_chunk=64)
        for name in expected.metrics:
            np.testing.assert_allclose(got.scores[name], expected.scores[name], atol=2e-6, err_msg=name)


@pytest.mark.parametrize("metrics", [("iou_eep", "ms_leep"), ("e_leep",)])
def test_a_chunked_source_is_read_in_bounded_chunks_covering_each_pixel_once(pool, metrics):
    eep, labels = pool
    source = Recording(eep.astype(np.float16))
    got = score_ensembles(source, labels, 3, metrics=metrics, pixel_chunk=64, progress=False)
    expected = score_ensembles(eep, labels, 3, metrics=metrics, progress=False)
    for name in metrics:
        np.testing.assert_allclose(got.scores[name], expected.scores[name], atol=2e-6)
    sizes = [r.size for r in source.reads]
    if "iou_eep" in metrics:  # single-class chunks of at most pixel_chunk pixels: never the whole array
        assert max(sizes) <= 64 and len(sizes) >= n // 64
    read = np.sort(np.concatenate(source.reads))
    np.testing.assert_array_equal(read, np.arange(n))  # one pass, every pixel exactly once
    assert all(np.all(np.diff(r) > 0) for r in source.reads)  # ascending: file order


def test_a_bad_chunk_in_a_memmap_names_eep(pool, tmp_path):
    eep, labels = pool
    bad = eep.copy()
    bad[2, 250, 1] = np.nan
    path = tmp_path / "bad.npy"
    np.save(path, bad)
    with pytest.raises(ValueError, match="eep: expected finite"):
        score_ensembles(str(path), labels, 3, progress=False)


def test_greedy_reads_a_memmap(pool, tmp_path):
    eep, labels = pool
    path = tmp_path / "eep.npy"
    np.save(path, eep)
    a = greedy_select(str(path), labels, 2, metric="soft_iou_eep", progress=False)
    b = greedy_select(eep, labels, 2, metric="soft_iou_eep", progress=False)
    np.testing.assert_array_equal(a.members, b.members)
