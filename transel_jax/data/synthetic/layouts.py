"""Scene layouts: where each concept lies in an image, per domain.

A layout is ``layout(p, y, x, canvas)``: it reads per-image parameters from ``p`` (:class:`Params`, columns
float32 [B, 1, 1]), uses the coordinate grids ``y`` [1, H, 1] and ``x`` [1, 1, W] (normalised pixel centres,
y down) and paints concept masks onto ``canvas`` back to front. Each painted shape gets its own *slot* id,
which the renderer uses to give object instances their own colour. Layouts are pure array code over the
batch; object counts are fixed slots with a per-image "present" draw.
"""
from __future__ import annotations

import functools

import numpy as np

from transel_jax.data.synthetic import noise, shapes
from transel_jax.data.synthetic.concepts import ID
from transel_jax.data.synthetic.params import Params

MAX_SLOTS = 40


class Canvas:
    """Concept map (uint8 [B, H, W]) and slot map (uint8 [B, H, W]) painted back to front.

    Every painted shape is a new slot holding exactly one concept, so per-instance properties can be looked
    up per (image, slot) instead of per pixel.
    """

    def __init__(self, batch: int, height: int, width: int, fill: str):
        self.concept = np.full((batch, height, width), ID[fill], np.uint8)
        self.slot = np.zeros((batch, height, width), np.uint8)

        self.slot_concept = [ID[fill]]  # slot s holds concept slot_concept[s]

    def paint(self, mask: np.ndarray, concept: str) -> None:
        if len(self.slot_concept) >= MAX_SLOTS:
            raise ValueError(f"layout painted more than {MAX_SLOTS - 1} shapes")
        mask = np.broadcast_to(mask, self.concept.shape)
        np.putmask(self.concept, mask, ID[concept])
        np.putmask(self.slot, mask, len(self.slot_concept))
        self.slot_concept.append(ID[concept])


def _smooth(p: Params, y, x, scale: float):
    white, smooth = noise.tables()
    return noise.lookup(smooth, y, x, scale, p.offset(noise.TABLE_SIZE), p.offset(noise.TABLE_SIZE))


def _person(p: Params, y, x, canvas: Canvas, foot_y, cx, height, present):
    """Standing person: body ellipse and head circle, feet at ``foot_y``; ``height`` in image units."""
    body = shapes.ellipse(y, x, foot_y - 0.38 * height, cx, 0.38 * height, 0.12 * height)
    head = shapes.ellipse(y, x, foot_y - 0.86 * height, cx, 0.1 * height, 0.08 * height)
    canvas.paint((body | head) & present, "person")


def street(p: Params, y, x, canvas: Canvas, *, sidewalks: bool = True, structured: bool = True,
           hood: bool = False, walkers: int = 3, vehicles: int = 4) -> None:
    """Driving-camera street: sky, skyline of buildings/trees, perspective road, cars, pedestrians, poles.

    ``structured=False`` gives irregular road edges, no sidewalks and people on the road (unstructured traffic);
    ``hood=True`` adds the ego-vehicle bonnet (clutter) at the bottom.
    """
    horizon = p.uniform(0.36, 0.5)
    vx = p.uniform(0.38, 0.62)  # vanishing point column
    road_slope = _road(p, y, x, canvas, horizon, vx, sidewalks, structured)
    for k in range(vehicles):  # far to near so nearer vehicles occlude farther ones
        _vehicle(p, y, x, canvas, horizon, vx, road_slope, depth_range=(0.1 + 0.8 * k / vehicles,
                                                                        0.1 + 0.8 * (k + 1) / vehicles))
    for k in range(walkers):
        d = p.uniform(0.1, 0.95)
        foot = horizon + d * (1.0 - horizon)
        side = np.where(p.chance(0.5), 1.0, -1.0)
        offset = road_slope * d * (1.15 if sidewalks else p.uniform(0.0, 1.1))
        _person(p, y, x, canvas, foot, vx + side * offset, 0.06 + 0.45 * d, p.chance(0.6 if k < 2 else 0.3))
    for _ in range(2):  # unlabelled street furniture (poles, signs): void in every label space
        d = p.uniform(0.2, 0.9)
        side = np.where(p.chance(0.5), 1.0, -1.0)
        foot, top = horizon + d * (1 - horizon), horizon - 0.25 * d
        pole_x = vx + side * (road_slope * d + (0.12 * d if sidewalks else 0.05))
        pole = shapes.rect(y, x, (top + foot) / 2, pole_x, (foot - top) / 2, 0.004 + 0.01 * d)
        canvas.paint(pole & p.chance(0.6), "clutter")
    if hood:
        canvas.paint(shapes.ellipse(y, x, 1.06, 0.5, p.uniform(0.08, 0.14), 0.75), "clutter")


def _road(p: Params, y, x, canvas: Canvas, horizon, vx, sidewalks: bool, structured: bool):
    """Terrain, skyline blocks (buildings or trees), sidewalks, road and dashed lane marking.

    The road's half width grows linearly with depth below the horizon, ``road_slope * depth + 0.01``;
    returns ``road_slope`` [B, 1, 1] so objects can be placed on or beside the road.
    """
    depth = np.clip((y - horizon) / (1.0 - horizon), 0.0, None)  # 0 at the horizon, 1 at the bottom row
    below = y > horizon
    road_slope = p.uniform(0.3, 0.55)
    road_hw = road_slope * depth + 0.01
    if not structured:
        road_hw = road_hw * (0.75 + 0.5 * _smooth(p, y, x * 0.0, 90.0))
    side_hw = road_hw + (p.uniform(0.1, 0.25) * depth if sidewalks else 0.0)
    dist = np.abs(x - vx)

    white, _ = noise.tables()
    block_scale, block_x = p.uniform(5.0, 11.0), p.offset(noise.TABLE_SIZE)  # skyline blocks share columns
    heights = noise.lookup(white, y * 0.0, x, block_scale, p.offset(noise.TABLE_SIZE), block_x)
    is_tree = noise.lookup(white, y * 0.0, x, block_scale, p.offset(noise.TABLE_SIZE), block_x) < p.uniform(0.1, 0.6)
    sky_line = horizon - p.uniform(0.1, 0.3) * (0.35 + heights)
    canvas.paint(below, "terrain")
    foliage = _smooth(p, y, x, 70.0)
    canvas.paint((y > sky_line) & ~is_tree & (y < horizon + 0.3 * (1 - horizon)), "building")
    canvas.paint((y > horizon - 0.25 * foliage - 0.02) & is_tree & (y < horizon + 0.1), "vegetation")
    if sidewalks:
        canvas.paint(below & (dist < side_hw), "sidewalk")
    canvas.paint(below & (dist < road_hw), "road")
    dashes = np.modf(2.5 / (depth + 0.12) + p.uniform())[0] < 0.5  # dash period shrinks towards the horizon
    lane = below & (dist < 0.004 + 0.012 * depth) & dashes & p.chance(0.7) & (depth > 0.05)
    canvas.paint(lane, "lane_marking")
    return road_slope


def _vehicle(p: Params, y, x, canvas: Canvas, horizon, vx, road_slope, depth_range) -> None:
    """A car (or, one time in four, a taller truck) standing on the road at a depth in ``depth_range``."""
    d = p.uniform(*depth_range)
    bottom = horizon + d * (1.0 - horizon)
    size = 0.04 + 0.4 * d
    truck = p.chance(0.25)
    half_h = size * np.where(truck, 0.5, 0.3)
    half_w = size * np.where(truck, 0.42, 0.5)
    cx = vx + p.uniform(-0.8, 0.8) * (road_slope * d + 0.01)
    body = shapes.rect(y, x, bottom - half_h, cx, half_h, half_w)
    present = p.chance(0.7)
    canvas.paint(body & present & ~truck, "car")
    canvas.paint(body & present & truck, "truck")


def nature(p: Params, y, x, canvas: Canvas) -> None:
    """Eye-level outdoor photo: sky, field, optional lake, trees on the horizon, people, distant houses."""
    horizon = p.uniform(0.3, 0.55)
    wobble = _smooth(p, y, x, 200.0)
    canvas.paint(y > horizon, "terrain")
    lake_h = p.uniform(0.08, 0.3)
    canvas.paint((y > horizon) & (y < horizon + lake_h * (0.7 + 0.6 * wobble)) & p.chance(0.5), "water")
    for _ in range(2):
        w = p.uniform(0.04, 0.1)
        canvas.paint(shapes.rect(y, x, horizon - w * 0.6, p.uniform(0.05, 0.95), w * 0.6, w) & p.chance(0.4),
                     "building")
    for _ in range(3):
        r = p.uniform(0.06, 0.18)
        crown = shapes.blob(y, x, horizon - r * 0.8, p.uniform(0.0, 1.0), r, wobble, 0.7)
        canvas.paint(crown & p.chance(0.7), "vegetation")
    for _ in range(2):
        foot = p.uniform(horizon + 0.1, 1.0)
        _person(p, y, x, canvas, foot, p.uniform(0.1, 0.9), 0.15 + 0.5 * (foot - horizon), p.chance(0.6))
    canvas.paint(shapes.blob(y, x, p.uniform(0.7, 1.0), p.uniform(0.0, 1.0), p.uniform(0.03, 0.08), wobble, 0.8)
                 & p.chance(0.5), "clutter")


def indoor(p: Params, y, x, canvas: Canvas, *, paintings: int = 2) -> None:
    """Room: back wall, floor with a sloped skirting line, framed paintings, a table, chairs, maybe a person."""
    floor_y = p.uniform(0.55, 0.75) + p.uniform(-0.12, 0.12) * (x - 0.5)
    canvas.paint(y > floor_y, "floor")
    for _ in range(paintings):
        hh, hw = p.uniform(0.06, 0.14), p.uniform(0.06, 0.16)
        canvas.paint(shapes.rect(y, x, p.uniform(0.15, 0.4), p.uniform(0.12, 0.88), hh, hw) & p.chance(0.7),
                     "painting")
    top = p.uniform(0.55, 0.75)
    tx, tw = p.uniform(0.25, 0.75), p.uniform(0.12, 0.25)
    leg = p.uniform(0.12, 0.2)
    table = (shapes.rect(y, x, top, tx, 0.025, tw)
             | shapes.rect(y, x, top + leg / 2, tx - tw * 0.85, leg / 2, 0.018)
             | shapes.rect(y, x, top + leg / 2, tx + tw * 0.85, leg / 2, 0.018))
    canvas.paint(table & p.chance(0.85), "table")
    canvas.paint(shapes.rect(y, x, top - 0.045, tx + p.uniform(-0.5, 0.5) * tw, 0.02, 0.03) & p.chance(0.5),
                 "clutter")
    _person(p, y, x, canvas, p.uniform(0.8, 1.0), p.uniform(0.1, 0.9), p.uniform(0.45, 0.75), p.chance(0.35))
    for _ in range(2):
        seat, cx, s = p.uniform(0.65, 0.85), p.uniform(0.05, 0.95), p.uniform(0.06, 0.1)
        back_side = np.where(p.chance(0.5), 1.0, -1.0)
        chair = (shapes.rect(y, x, seat, cx, 0.02, s)
                 | shapes.rect(y, x, seat - 1.1 * s, cx + back_side * s * 0.85, 1.1 * s, 0.02)
                 | shapes.rect(y, x, seat + s, cx - s * 0.8, s, 0.015)
                 | shapes.rect(y, x, seat + s, cx + s * 0.8, s, 0.015))
        canvas.paint(chair & p.chance(0.7), "chair")


def aerial(p: Params, y, x, canvas: Canvas) -> None:
    """Top-down view at any rotation: fields, tree crowns, a pond, a street grid, roofs along it, vehicles."""
    angle = p.uniform(0.0, np.pi)
    cy, cx = p.uniform(0.3, 0.7), p.uniform(0.3, 0.7)
    road_w = p.uniform(0.03, 0.06)
    wobble = _smooth(p, y, x, 200.0)
    canvas.paint(shapes.blob(y, x, p.uniform(0, 1), p.uniform(0, 1), p.uniform(0.1, 0.25), wobble, 0.8)
                 & p.chance(0.35), "water")
    for _ in range(6):
        canvas.paint(shapes.blob(y, x, p.uniform(0, 1), p.uniform(0, 1), p.uniform(0.03, 0.08), wobble, 0.9)
                     & p.chance(0.7), "vegetation")
    c, s = np.cos(angle), np.sin(angle)
    for _ in range(6):  # roofs lined up along the main road, on either side of it
        t = p.uniform(-0.6, 0.6)
        half_h, half_w = p.uniform(0.04, 0.09), p.uniform(0.04, 0.12)
        side = np.where(p.chance(0.5), 1.0, -1.0) * (road_w + half_h + p.uniform(0.01, 0.06))
        by, bx = cy + t * s + side * c, cx + t * c - side * s
        canvas.paint(shapes.rect(y, x, by, bx, half_h, half_w, angle) & p.chance(0.8), "building")
    canvas.paint(shapes.band(y, x, cy, cx, angle, road_w), "road")
    cross = p.uniform(-0.4, 0.4)
    canvas.paint(shapes.band(y, x, cy + cross * s, cx + cross * c, angle + np.pi / 2, road_w) & p.chance(0.6), "road")
    along, across = x - cx, y - cy
    u = along * c + across * s
    v = across * c - along * s
    canvas.paint((np.abs(v) < 0.004) & (np.modf(u * 14.0 + 20.0)[0] < 0.5) & p.chance(0.6), "lane_marking")
    for k in range(5):
        t = p.uniform(-0.7, 0.7)
        lane = np.where(p.chance(0.5), 0.5, -0.5) * road_w
        truck = p.chance(0.2) if k == 0 else np.zeros_like(t, bool)
        length = np.where(truck, 0.07, 0.035)
        body = shapes.rect(y, x, cy + t * s + lane * c, cx + t * c - lane * s, 0.014, length, angle)
        present = p.chance(0.6)
        canvas.paint(body & present & ~truck, "car")
        canvas.paint(body & present & truck, "truck")
    for _ in range(2):
        canvas.paint(shapes.blob(y, x, p.uniform(0, 1), p.uniform(0, 1), p.uniform(0.015, 0.04), wobble, 0.8)
                     & p.chance(0.5), "clutter")


def underwater(p: Params, y, x, canvas: Canvas) -> None:
    """Diver's view: open water, a rippled sandy bottom, reef outcrops, rocks, fish schools, maybe a diver."""
    bottom = p.uniform(0.55, 0.85)
    ripple = bottom + p.uniform(0.01, 0.05) * np.sin(2 * np.pi * (p.uniform(1, 3) * x + p.uniform()))
    wobble = _smooth(p, y, x, 200.0)
    canvas.paint(y > ripple, "sand")
    for _ in range(3):
        r = p.uniform(0.08, 0.2)
        canvas.paint(shapes.blob(y, x, bottom, p.uniform(0, 1), r, wobble, 1.0) & p.chance(0.75), "reef")
    canvas.paint(shapes.blob(y, x, bottom + 0.05, p.uniform(0, 1), p.uniform(0.04, 0.1), wobble, 0.5)
                 & p.chance(0.5), "clutter")
    diver_y, diver_x = p.uniform(0.2, 0.6), p.uniform(0.2, 0.8)
    tilt = p.uniform(-0.4, 0.4)
    diver = (shapes.ellipse(y, x, diver_y, diver_x, 0.045, 0.16, tilt)
             | shapes.ellipse(y, x, diver_y - 0.16 * np.sin(tilt), diver_x + 0.17 * np.cos(tilt), 0.04, 0.04))
    canvas.paint(diver & p.chance(0.3), "person")
    school_y, school_x = p.uniform(0.15, 0.75), p.uniform(0.15, 0.85)
    facing = np.where(p.chance(0.5), 1.0, -1.0)
    for _ in range(6):
        fy, fx = school_y + p.uniform(-0.18, 0.18), school_x + p.uniform(-0.25, 0.25)
        rx = p.uniform(0.025, 0.065)
        fish = (shapes.ellipse(y, x, fy, fx, rx * 0.45, rx)
                | shapes.triangle_tail(y, x, fy, fx - facing * rx * 0.8, rx * 0.7, rx * 0.5, facing))
        canvas.paint(fish & p.chance(0.7), "fish")


# scene name -> (layout function, concept that fills the canvas first)
SCENES = {
    "street": (street, "sky"),
    "street_hood": (functools.partial(street, hood=True), "sky"),
    "street_unstructured": (functools.partial(street, sidewalks=False, structured=False, walkers=4), "sky"),
    "nature": (nature, "sky"),
    "indoor": (indoor, "wall"),
    "gallery": (functools.partial(indoor, paintings=4), "wall"),
    "aerial": (aerial, "terrain"),
    "underwater": (underwater, "water"),
}
