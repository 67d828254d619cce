"""Catalog facts of the 17 real datasets against the numbers quoted by the papers and the FIDS release."""
import pytest

from transel_jax.data import catalog
from transel_jax.data.real.patches import patch_starts

# Label counts including void, as quoted by the Factors-of-Influence release.
LABELS = {
    "ade20k": 151, "bdd": 20, "camvid": 32, "cityscapes": 33, "coco": 134, "idd": 35, "isaid": 16,
    "isprs": 7, "kitti": 33, "mapillary": 66, "pcontext": 60, "pvoc": 21, "scannet": 41, "suim": 8,
    "sunrgbd": 38, "vgallery": 10, "vkitti2": 15,
}
# Domains of 002 Tab. 1 (vKITTI2 and vGallery are "synthetic (driving / indoor)").
DOMAINS = {
    "pcontext": "consumer", "pvoc": "consumer", "ade20k": "consumer", "coco": "consumer",
    "kitti": "driving", "camvid": "driving", "cityscapes": "driving", "idd": "driving", "bdd": "driving",
    "mapillary": "driving", "isprs": "aerial", "isaid": "aerial", "sunrgbd": "indoor", "scannet": "indoor",
    "suim": "underwater", "vkitti2": "synthetic", "vgallery": "synthetic",
}


def test_all_seventeen_registered_as_real():
    assert catalog.names(suite="real") == sorted(LABELS)


@pytest.mark.parametrize("name", sorted(LABELS))
def test_dataset_facts(name):
    meta = catalog.info(name)
    assert meta.num_labels == LABELS[name]
    assert meta.class_names[0] == "void" and len(set(meta.class_names)) == meta.num_labels
    assert meta.domain == DOMAINS[name]
    assert set(meta.splits) == {"train", "validation"} and all(n > 0 for n in meta.splits.values())
    assert meta.target_train_size == (1000 if name in ("coco", "ade20k") else 150)
    assert meta.target_train_size <= meta.splits["train"]
    assert all(0 < m < 255 for m in meta.mean) and all(0 < s < 128 for s in meta.std)
    assert meta.description.startswith("Obtain from ") and "Expected layout" in meta.description


def test_resolutions_stated_by_the_paper():
    assert catalog.info("pcontext").resolution == (420, 420)
    assert catalog.info("sunrgbd").resolution == (713, 713)
    assert catalog.info("cityscapes").resolution == (512, 1024)


def test_shared_label_spaces():
    assert catalog.info("kitti").class_names == catalog.info("cityscapes").class_names
    assert catalog.info("sunrgbd").class_names == catalog.info("scannet").class_names[:38]


def test_isprs_train_size_is_38_potsdam_tiles_of_10x10_patches():
    assert catalog.info("isprs").splits["train"] == 38 * len(patch_starts(6000)) ** 2


def test_normalisation_is_on_the_0_255_scale():
    # Underwater imagery is blue-green: SUIM's red mean is well below its blue mean.
    mean = catalog.info("suim").mean
    assert mean[0] < 0.6 * mean[2] and mean[2] > 100
