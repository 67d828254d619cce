"""The synthetic suite: catalog facts, determinism, label spaces, resolution, arrays, normalisation stats."""
import numpy as np
import pytest

from transel_jax.data import catalog, synthetic
from transel_jax.data.synthetic import concepts, normalisation
from transel_jax.data.synthetic.generate import generate

NAMES = [d.name for d in synthetic.DATASETS]


def test_every_dataset_is_registered_with_its_facts():
    assert catalog.names(suite="synthetic") == sorted(NAMES)
    domains = {catalog.info(n).domain for n in NAMES}
    assert domains == set(catalog.DOMAINS)  # all six appearance domains
    sizes = [catalog.info(n).splits["train"] for n in NAMES]
    assert min(sizes) == 150 and max(sizes) >= 3000
    for name in NAMES:
        info = catalog.info(name)
        assert info.suite == "synthetic" and info.resolution == (64, 64) and info.target_train_size == 150
        assert set(info.splits) == {"train", "validation", "test"} and min(info.splits.values()) >= 100
        assert info.class_names[0] == "void" and info.num_classes >= 4
        assert all(0 < m < 255 for m in info.mean) and all(0 < s < 128 for s in info.std)
        source = catalog.load(name, "validation")
        assert len(source) == info.splits["validation"]


def test_several_datasets_per_domain_and_demo_split():
    per_domain = {}
    for name in NAMES:
        per_domain.setdefault(catalog.info(name).domain, []).append(name)
    assert sum(len(v) >= 2 for v in per_domain.values()) >= 5
    sources, targets = set(synthetic.DEMO_SOURCES), set(synthetic.DEMO_TARGETS)
    assert not sources & targets and sources | targets == set(NAMES)
    target_domains = [catalog.info(t).domain for t in synthetic.DEMO_TARGETS]
    assert len(set(target_domains)) == len(target_domains) >= 4
    source_domains = {catalog.info(s).domain for s in sources}
    assert set(target_domains) <= source_domains  # every target has an in-domain source
    broad = synthetic.get("syn_consumer_broad")
    assert {"street", "indoor"} <= {scene for scene, _ in broad.scenes}  # broad source contains narrower targets


@pytest.mark.parametrize("name", ["syn_consumer_broad", "syn_aerial_urban", "syn_underwater_murky"])
def test_same_seed_same_bytes_and_random_access(name):
    idx = [0, 7, 3, 101]
    a = generate(name, idx, seed=5)
    b = generate(name, idx, seed=5)
    for key in ("image", "label"):
        np.testing.assert_array_equal(a[key], b[key])
    alone = generate(name, [3], seed=5)  # image 3 rendered alone equals image 3 inside a batch
    np.testing.assert_array_equal(alone["image"][0], a["image"][2])
    np.testing.assert_array_equal(alone["label"][0], a["label"][2])
    other = generate(name, idx, seed=6)
    assert all(not np.array_equal(a["image"][k], other["image"][k]) for k in range(len(idx)))
    assert not np.array_equal(a["image"][0], a["image"][1])


def test_image_key_depends_on_seed_dataset_and_index():
    keys = {synthetic.image_key(s, n, i) for s in (0, 1) for n in NAMES[:3] for i in range(5)}
    assert len(keys) == 2 * 3 * 5
    assert synthetic.image_key(0, NAMES[0], 1) == synthetic.image_key(0, NAMES[0], 1)


@pytest.mark.parametrize("name", NAMES)
def test_labels_in_range_every_class_seen_void_present(name):
    info = catalog.info(name)
    labels = generate(name, np.arange(48))["label"]
    assert labels.dtype == np.uint8 and labels.min() >= 0 and labels.max() <= info.num_classes
    counts = np.bincount(labels.ravel(), minlength=info.num_labels)
    assert counts[0] > 0, "void must occur"
    assert np.all(counts[1:] > 0), f"classes never seen in 48 images: {np.flatnonzero(counts[1:] == 0) + 1}"


@pytest.mark.parametrize("name", NAMES)
def test_labels_follow_the_declared_concept_map(name):
    dataset = synthetic.get(name)
    out = generate(name, np.arange(12), concepts=True)
    label, concept = out["label"], out["concept"]
    boundary = np.zeros(label.shape, bool)
    if dataset.boundary_void:
        boundary = label == 0
    for k, (class_name, members) in enumerate(dataset.classes.items(), start=1):
        for member in members:
            at = (concept == concepts.ID[member]) & ~boundary
            assert np.all(label[at] == k), f"{member} should be {class_name} ({k})"
    unlisted = [i for i, c in enumerate(concepts.CONCEPTS) if not any(c in m for m in dataset.classes.values())]
    assert "clutter" in [concepts.CONCEPTS[i] for i in unlisted]
    assert np.all(label[np.isin(concept, unlisted)] == 0)


def test_merges_and_splits_across_datasets():
    def label_of(name, concept_name):
        return int(synthetic.get(name).label_of_concept[concepts.ID[concept_name]])

    # vehicle merged in one driving set, car/truck split in another
    assert label_of("syn_drive_adverse", "car") == label_of("syn_drive_adverse", "truck") > 0
    assert 0 < label_of("syn_drive_day", "car") != label_of("syn_drive_day", "truck") > 0
    # lane markings: merged into road vs their own class
    assert label_of("syn_drive_day", "lane_marking") == label_of("syn_drive_day", "road")
    assert label_of("syn_drive_small", "lane_marking") not in (0, label_of("syn_drive_small", "road"))
    # omission: water is void in the infrared aerial set, a class in the RGB one
    assert label_of("syn_aerial_irrg", "water") == 0 < label_of("syn_aerial_urban", "water")
    # a coarse "background" class merging stuff
    assert label_of("syn_consumer_objects", "sky") == label_of("syn_consumer_objects", "wall") > 0


def test_boundary_void_marks_label_changes():
    dataset = synthetic.get("syn_consumer_objects")
    out = generate(dataset.name, np.arange(6), concepts=True)
    raw = dataset.label_of_concept[out["concept"]]
    changes = np.zeros(raw.shape, bool)
    changes[:, :-1] |= raw[:, :-1] != raw[:, 1:]
    changes[:, :, :-1] |= raw[:, :, :-1] != raw[:, :, 1:]
    assert changes.any()
    np.testing.assert_array_equal(out["label"], np.where(changes, 0, raw))


def test_resolution_changes_sampling_not_the_scene():
    small = generate("syn_drive_day", [4], resolution=64, concepts=True)["concept"][0]
    big = generate("syn_drive_day", [4], resolution=256, concepts=True)
    assert big["image"].shape == (1, 256, 256, 3)
    down = big["concept"][0][2::4, 2::4]  # nearest pixel centres of the 64-grid
    assert np.mean(down == small) > 0.97
    with pytest.raises(ValueError, match="resolution"):
        generate("syn_drive_day", [0], resolution=1024)


def test_source_arrays_and_splits_agree():
    src = synthetic.SyntheticSource("syn_indoor_scan", "validation", seed=2)
    images, labels = synthetic.arrays("syn_indoor_scan", "validation", seed=2, start=3, stop=6)
    for k, i in enumerate(range(3, 6)):
        np.testing.assert_array_equal(src[i]["image"], images[k])
        np.testing.assert_array_equal(src[i]["label"], labels[k])
    train = synthetic.SyntheticSource("syn_indoor_scan", "train", seed=2)
    start = synthetic.get("syn_indoor_scan").splits["train"]
    np.testing.assert_array_equal(src[0]["image"], generate("syn_indoor_scan", [start], seed=2)["image"][0])
    assert not np.array_equal(src[0]["image"], train[0]["image"])
    np.testing.assert_array_equal(src[-1]["label"], src[len(src) - 1]["label"])
    with pytest.raises(IndexError):
        src[len(src)]
    with pytest.raises(TypeError):
        src[1.5]
    with pytest.raises(ValueError, match="split"):
        catalog.load("syn_indoor_scan", "extra")


def test_registered_normalisation_matches_a_fresh_measurement():
    name = "syn_underwater_reef"
    mean, std = normalisation.measure(name, num_images=96)
    info = catalog.info(name)
    np.testing.assert_allclose(mean, info.mean, atol=6.0)
    np.testing.assert_allclose(std, info.std, atol=6.0)
    images = generate(name, np.arange(96))["image"].reshape(-1, 3).astype(np.float64)  # plain reference
    np.testing.assert_allclose(mean, images.mean(0), rtol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_an_image_renders_the_same_alone_and_in_any_batch(name):
    idx = np.arange(0, 24)
    batch = generate(name, idx, seed=0, resolution=32)
    shuffled = np.random.default_rng(3).permutation(idx)[:10]  # another composition and order
    other = generate(name, shuffled, seed=0, resolution=32)
    for i in range(idx.size):
        alone = generate(name, [int(idx[i])], seed=0, resolution=32)
        np.testing.assert_array_equal(alone["image"][0], batch["image"][i])
        np.testing.assert_array_equal(alone["label"][0], batch["label"][i])
    for k, i in enumerate(shuffled):
        np.testing.assert_array_equal(other["image"][k], batch["image"][i])
        np.testing.assert_array_equal(other["label"][k], batch["label"][i])
