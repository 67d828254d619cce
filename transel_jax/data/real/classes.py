"""Class lists of the 17 real datasets: ``CLASSES[name][k]`` names label ``k``; label 0 is void.

The lists and their order are those of the Factors-of-Influence (FIDS) release
(``factors_of_influence/fids/fids_metadata_segmentation.py``), whose entry 0 is "background" and acts as
void/ignore; here it is called "void". Counts including void: ade20k 151, bdd 20, camvid 32,
cityscapes 33, coco 134, idd 35, isaid 16, isprs 7, kitti 33, mapillary 66, pcontext 60, pvoc 21,
scannet 41, suim 8, sunrgbd 38, vgallery 10, vkitti2 15.

What "void" absorbs differs per dataset (see each reader): e.g. the VOC and Pascal-Context
"background" class, SUIM's water body, Cityscapes' "unlabeled" and "out of roi".
Known inconsistency in the release: its ISPRS list has 7 entries ending in "clutter", but its ISPRS reader
maps the clutter colour to entry 0, so "clutter" never occurs there. We keep the 7-entry list and map the
clutter colour to label 6 (see ``aerial.py``).
"""
from __future__ import annotations

_CITYSCAPES = (
    "void", "ego vehicle", "rectification border", "static", "dynamic", "ground", "road", "sidewalk",
    "parking", "rail track", "building", "wall", "fence", "guard rail", "bridge", "tunnel", "pole",
    "polegroup", "traffic light", "traffic sign", "vegetation", "terrain", "sky", "person", "rider",
    "car", "truck", "bus", "caravan", "trailer", "train", "motorcycle", "bicycle",
)

_NYU40 = (
    "void", "wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
    "picture", "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror",
    "floor mat", "clothes", "ceiling", "books", "refridgerator", "television", "paper", "towel",
    "shower curtain", "box", "whiteboard", "person", "night stand", "toilet", "sink", "lamp", "bathtub",
    "bag", "otherstructure", "otherfurniture", "otherprop",
)

CLASSES: dict[str, tuple[str, ...]] = {
    "ade20k": (
        "void", "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane",
        "grass", "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant",
        "curtain", "chair", "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug",
        "field", "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub", "railing",
        "cushion", "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink",
        "skyscraper", "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case",
        "pool table", "pillow", "screen door", "stairway", "river", "bridge", "bookcase", "blind",
        "coffee table", "toilet", "flower", "book", "hill", "bench", "countertop", "stove", "palm",
        "kitchen island", "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus",
        "towel", "light", "truck", "tower", "chandelier", "awning", "streetlight", "booth",
        "television receiver", "airplane", "dirt track", "apparel", "pole", "land", "bannister",
        "escalator", "ottoman", "bottle", "buffet", "poster", "stage", "van", "ship", "fountain",
        "conveyer belt", "canopy", "washer", "plaything", "swimming pool", "stool", "barrel", "basket",
        "waterfall", "tent", "bag", "minibike", "cradle", "oven", "ball", "food", "step", "tank",
        "trade name", "microwave", "pot", "animal", "bicycle", "lake", "dishwasher", "screen",
        "blanket", "sculpture", "hood", "sconce", "vase", "traffic light", "tray", "ashcan", "fan",
        "pier", "crt screen", "plate", "monitor", "bulletin board", "shower", "radiator", "glass",
        "clock", "flag",
    ),
    "bdd": (
        "void", "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
        "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus",
        "train", "motorcycle", "bicycle",
    ),
    "camvid": (
        "void", "Animal", "Archway", "Bicyclist", "Bridge", "Building", "Car", "CartLuggagePram",
        "Child", "Column_Pole", "Fence", "LaneMkgsDriv", "LaneMkgsNonDriv", "Misc_Text",
        "MotorcycleScooter", "OtherMoving", "ParkingBlock", "Pedestrian", "Road", "RoadShoulder",
        "Sidewalk", "SignSymbol", "Sky", "SUVPickupTruck", "TrafficCone", "TrafficLight", "Train",
        "Tree", "Truck_Bus", "Tunnel", "VegetationMisc", "Wall",
    ),
    "cityscapes": _CITYSCAPES,
    "coco": (
        "void", "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
        "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
        "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
        "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
        "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
        "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
        "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
        "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
        "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
        "teddy bear", "hair drier", "toothbrush", "banner", "blanket", "bridge", "cardboard",
        "counter", "curtain", "door-stuff", "floor-wood", "flower", "fruit", "gravel", "house",
        "light", "mirror-stuff", "net", "pillow", "platform", "playingfield", "railroad", "river",
        "road", "roof", "sand", "sea", "shelf", "snow", "stairs", "tent", "towel", "wall-brick",
        "wall-stone", "wall-tile", "wall-wood", "water-other", "window-blind", "window-other",
        "tree-merged", "fence-merged", "ceiling-merged", "sky-other-merged", "cabinet-merged",
        "table-merged", "floor-other-merged", "pavement-merged", "mountain-merged", "grass-merged",
        "dirt-merged", "paper-merged", "food-other-merged", "building-other-merged", "rock-merged",
        "wall-other-merged", "rug-merged",
    ),
    "idd": (
        "void", "road", "parking", "drivable fallback", "sidewalk", "rail track",
        "non-drivable fallback", "person", "animal", "rider", "motorcycle", "bicycle", "autorickshaw",
        "car", "truck", "bus", "caravan", "trailer", "vehicle fallback", "curb", "wall", "fence",
        "guard rail", "billboard", "traffic sign", "traffic light", "pole", "polegroup",
        "obs-str-bar-fallback", "building", "bridge", "tunnel", "vegetation", "sky",
        "fallback background",
    ),
    "isaid": (
        "void", "ship", "storage_tank", "baseball_diamond", "tennis_court", "basketball_court",
        "Ground_Track_Field", "Bridge", "Large_Vehicle", "Small_Vehicle", "Helicopter",
        "Swimming_pool", "Roundabout", "Soccer_ball_field", "plane", "Harbor",
    ),
    "isprs": ("void", "impervious_surfaces", "building", "low_vegetation", "tree", "car", "clutter"),
    "kitti": _CITYSCAPES,
    "mapillary": (
        "void", "Bird", "Ground Animal", "Curb", "Fence", "Guard Rail", "Barrier", "Wall", "Bike Lane",
        "Crosswalk - Plain", "Curb Cut", "Parking", "Pedestrian Area", "Rail Track", "Road",
        "Service Lane", "Sidewalk", "Bridge", "Building", "Tunnel", "Person", "Bicyclist",
        "Motorcyclist", "Other Rider", "Lane Marking - Crosswalk", "Lane Marking - General",
        "Mountain", "Sand", "Sky", "Snow", "Terrain", "Vegetation", "Water", "Banner", "Bench",
        "Bike Rack", "Billboard", "Catch Basin", "CCTV Camera", "Fire Hydrant", "Junction Box",
        "Mailbox", "Manhole", "Phone Booth", "Pothole", "Street Light", "Pole", "Traffic Sign Frame",
        "Utility Pole", "Traffic Light", "Traffic Sign (Back)", "Traffic Sign (Front)", "Trash Can",
        "Bicycle", "Boat", "Bus", "Car", "Caravan", "Motorcycle", "On Rails", "Other Vehicle",
        "Trailer", "Truck", "Wheeled Slow", "Car Mount", "Ego Vehicle",
    ),
    "pcontext": (
        "void", "aeroplane", "bag", "bed", "bedclothes", "bench", "bicycle", "bird", "boat", "book",
        "bottle", "building", "bus", "cabinet", "car", "cat", "ceiling", "chair", "cloth", "computer",
        "cow", "cup", "curtain", "dog", "door", "fence", "floor", "flower", "food", "grass", "ground",
        "horse", "keyboard", "light", "motorbike", "mountain", "mouse", "person", "plate", "platform",
        "pottedplant", "road", "rock", "sheep", "shelves", "sidewalk", "sign", "sky", "snow", "sofa",
        "table", "track", "train", "tree", "truck", "tvmonitor", "wall", "water", "window", "wood",
    ),
    "pvoc": (
        "void", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train",
        "tvmonitor",
    ),
    "scannet": _NYU40,
    "suim": (
        "void", "HD: Human divers", "PF: Plants/sea-grass", "WR: Wrecks/ruins",
        "RO: Robots/instruments", "RI: Reefs and invertebrates", "FV: Fish and vertebrates",
        "SR: Sand/sea-floor (& rocks)",
    ),
    "sunrgbd": _NYU40[:38],
    "vgallery": ("void", "Wall", "Ceiling", "Sky", "Door", "Light", "Floor", "Misc", "Painting", "Human"),
    "vkitti2": (
        "void", "Terrain", "Sky", "Tree", "Vegetation", "Building", "Road", "GuardRail", "TrafficSign",
        "TrafficLight", "Pole", "Misc", "Truck", "Car", "Van",
    ),
}
