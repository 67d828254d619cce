"""Static facts of the 17 real datasets, as catalog :class:`DatasetInfo` records.

Sources:
- class lists, and the per-channel mean/std (given on the 0..1 scale, stored here times 255): the
  Factors-of-Influence release (``fids_metadata_segmentation.py``); see :mod:`.classes`.
- split sizes: the datasets' official numbers where the reader reads the official split; for the patch
  datasets and the frame collections (iSAID, ISPRS validation, ScanNet, vKITTI2, vGallery) the rounded
  numbers of 002 Tab. 1 (listed in :data:`APPROXIMATE_SPLITS`; ``len(source)`` gives the exact count
  of the files on disk).
- training resolution: 002 Sec. 4.1 states 420x420 for Pascal Context, 713x713 for SUN RGB-D and
  512x1024 for Cityscapes "and most driving datasets"; for the rest we use 512x1024 for driving
  (vKITTI2 included) and the paper's fixed-resolution ablation size 713x713 otherwise.
- target subset: the first 150 training examples, 1000 for COCO and ADE20K (002 Sec. 5.3).
"""
from __future__ import annotations

from transel_jax.data.catalog import DatasetInfo
from transel_jax.data.real.classes import CLASSES

# name -> (domain, splits, mean (0..1), std (0..1), resolution)
_FACTS = {
    "ade20k": ("consumer", {"train": 20210, "validation": 2000},
               (0.48456758, 0.46566882, 0.42435255), (0.25889467, 0.25576863, 0.27499720), (713, 713)),
    "pvoc": ("consumer", {"train": 1464, "validation": 1449},
             (0.45310865, 0.43725320, 0.39963538), (0.27576712, 0.27251123, 0.28560879), (713, 713)),
    "pcontext": ("consumer", {"train": 4998, "validation": 5105},
                 (0.45340707, 0.43937957, 0.40242085), (0.27541526, 0.27232753, 0.28574396), (420, 420)),
    "coco": ("consumer", {"train": 118287, "validation": 5000},
             (0.46584509, 0.44679167, 0.40279700), (0.27925707, 0.27468882, 0.28938937), (713, 713)),
    "kitti": ("driving", {"train": 150, "validation": 50},
              (0.37692892, 0.39712751, 0.38381849), (0.30928133, 0.31898029, 0.32981929), (512, 1024)),
    "camvid": ("driving", {"train": 367, "validation": 101},
               (0.41355252, 0.42676756, 0.43429331), (0.31017532, 0.31461703, 0.31021053), (512, 1024)),
    "cityscapes": ("driving", {"train": 2975, "validation": 500},
                   (0.28689553, 0.32513301, 0.28389176), (0.18696375, 0.19017339, 0.18720214), (512, 1024)),
    "idd": ("driving", {"train": 6993, "validation": 981},
            (0.35481279, 0.36666326, 0.35917101), (0.27539311, 0.28455057, 0.30030466), (512, 1024)),
    "bdd": ("driving", {"train": 7000, "validation": 1000},
            (0.36722285, 0.41404043, 0.42108753), (0.25261308, 0.26953756, 0.28668986), (512, 1024)),
    "mapillary": ("driving", {"train": 18000, "validation": 2000},
                  (0.41445930, 0.45885738, 0.46490597), (0.26432413, 0.27527507, 0.30314204), (512, 1024)),
    "isprs": ("aerial", {"train": 3800, "validation": 437},
              (0.33909638, 0.36251904, 0.34982737), (0.14050266, 0.13874620, 0.13703808), (713, 713)),
    "isaid": ("aerial", {"train": 27000, "validation": 9000},
              (0.32249908, 0.32609560, 0.30954792), (0.18431306, 0.17849046, 0.17346408), (713, 713)),
    "sunrgbd": ("indoor", {"train": 5285, "validation": 5050},
                (0.48941448, 0.45724043, 0.42825052), (0.27942549, 0.28714661, 0.29192820), (713, 713)),
    "scannet": ("indoor", {"train": 19000, "validation": 5000},
                (0.49658159, 0.44941368, 0.38261173), (0.29161244, 0.28443821, 0.27809222), (713, 713)),
    "suim": ("underwater", {"train": 1525, "validation": 110},
             (0.24383865, 0.42244428, 0.48276237), (0.22206708, 0.22300286, 0.24704571), (713, 713)),
    "vkitti2": ("synthetic", {"train": 43000, "validation": 7000},
                (0.37927488, 0.38754103, 0.30581123), (0.27025995, 0.26975797, 0.27123623), (512, 1024)),
    "vgallery": ("synthetic", {"train": 44000, "validation": 12000},
                 (0.39769067, 0.35323370, 0.25628469), (0.28769265, 0.29279828, 0.29555337), (713, 713)),
}

APPROXIMATE_SPLITS = {
    "isaid": ("train", "validation"),
    "isprs": ("validation",),
    "scannet": ("train", "validation"),
    "vkitti2": ("train", "validation"),
    "vgallery": ("train", "validation"),
}
"""Split sizes that are the rounded numbers of 002 Tab. 1 rather than exact counts.

ISPRS train is exact: 38 Potsdam tiles of 6000 x 6000 give 10 x 10 patches each."""

LARGE_TARGETS = {"coco": 1000, "ade20k": 1000}


def dataset_info(name: str, description: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of real dataset ``name``; ``description`` says where/how to get it."""
    domain, splits, mean, std, resolution = _FACTS[name]
    return DatasetInfo(
        name=name,
        domain=domain,
        class_names=CLASSES[name],
        splits=dict(splits),
        mean=tuple(round(255.0 * m, 4) for m in mean),
        std=tuple(round(255.0 * s, 4) for s in std),
        resolution=resolution,
        target_train_size=LARGE_TARGETS.get(name, 150),
        suite="real",
        description=description,
    )


NAMES = tuple(sorted(_FACTS))


def split_names(name: str) -> tuple[str, ...]:
    """Splits the reader of ``name`` provides ("train", "validation")."""
    return tuple(_FACTS[name][1])
