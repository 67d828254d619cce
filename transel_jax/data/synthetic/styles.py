"""Appearance styles: how each domain (and sub-style) renders the shared concepts.

A :class:`Style` gives every concept a :class:`Look` (two colours mixed by a texture pattern, and how much
individual object instances vary in colour) plus image-level effects: lighting gain and gradient, colour
cast, weather (night, fog, rain), water haze, vignette, blur and sensor noise. The same concept looks
different across domains in colour *and* texture (road: fine grain when driving, flat when seen from above;
floor: wooden planks at home, speckled carpet in scans), so a model trained on one domain is measurably worse
on another. Colours are RGB in [0, 1].
"""
from __future__ import annotations

import dataclasses
from typing import Mapping

RGB = tuple[float, float, float]

TEXTURES = ("flat", "grain", "mottled", "speckle", "hstripes", "vstripes", "tiles", "windows", "waves")
WEATHERS = ("clear", "night", "fog", "rain")


@dataclasses.dataclass(frozen=True)
class Look:
    """One concept's appearance: colour = base + (accent - base) * texture, texture in [0, 1]."""

    base: RGB
    accent: RGB
    texture: str = "flat"
    variety: float = 0.08  # per-instance colour factor spread: each channel scaled by 1 + variety * U(-1, 1)


@dataclasses.dataclass(frozen=True)
class Style:
    """Image-level appearance of one dataset (sub-)style; see the module docstring."""

    name: str
    looks: Mapping[str, Look]
    texture_scale: float = 1.0  # multiplies the frequency of stripes, tiles and windows
    gain: tuple[float, float] = (0.8, 1.2)  # brightness factor range
    gradient: float = 0.0  # max brightness change from the middle row to the top/bottom edge
    cast: RGB = (1.0, 1.0, 1.0)  # per-channel colour factor
    cast_jitter: float = 0.05
    colour_jitter: float = 0.08  # per-image, per-concept colour factor spread
    weather: Mapping[str, float] = dataclasses.field(default_factory=lambda: {"clear": 1.0})
    haze: RGB | None = None  # water colour that distant (upper) pixels fade to
    haze_amount: float = 0.0
    vignette: float = 0.0
    blur: float = 0.0  # box-blur radius in pixels at 64 px resolution (scales with resolution)
    noise: float = 0.02  # amplitude of per-pixel luminance noise

    def __post_init__(self):
        for concept, look in self.looks.items():
            if look.texture not in TEXTURES:
                raise ValueError(f"looks[{concept!r}].texture: expected one of {TEXTURES}, got {look.texture!r}")
        if set(self.weather) - set(WEATHERS) or abs(sum(self.weather.values()) - 1.0) > 1e-6:
            raise ValueError(f"weather: expected probabilities over {WEATHERS} summing to 1, got {dict(self.weather)}")

    def look(self, concept: str) -> Look:
        return self.looks.get(concept, _UNSEEN)


_UNSEEN = Look((0.5, 0.5, 0.5), (0.4, 0.4, 0.4), "speckle", 0.3)


def variant(style: Style, name: str, looks: Mapping[str, Look] | None = None, **changes) -> Style:
    """A sub-style of ``style``: some looks replaced, some image-level effects changed."""
    return dataclasses.replace(style, name=name, looks={**style.looks, **(looks or {})}, **changes)


DRIVE_DAY = Style(
    "drive_day",
    {
        "sky": Look((0.55, 0.7, 0.9), (0.85, 0.9, 0.97), "mottled", 0.02),
        "road": Look((0.28, 0.28, 0.3), (0.45, 0.45, 0.47), "grain", 0.05),
        "lane_marking": Look((0.92, 0.92, 0.88), (0.8, 0.8, 0.78), "flat", 0.02),
        "sidewalk": Look((0.4, 0.39, 0.38), (0.24, 0.24, 0.25), "tiles", 0.05),  # road-like grey: texture tells
        "building": Look((0.62, 0.52, 0.42), (0.22, 0.25, 0.3), "windows", 0.15),
        "vegetation": Look((0.18, 0.38, 0.14), (0.36, 0.56, 0.2), "speckle", 0.1),
        "terrain": Look((0.45, 0.5, 0.3), (0.58, 0.56, 0.36), "grain", 0.08),
        "car": Look((0.5, 0.5, 0.52), (0.15, 0.15, 0.2), "hstripes", 0.7),
        "truck": Look((0.62, 0.62, 0.6), (0.3, 0.3, 0.3), "vstripes", 0.5),
        "person": Look((0.3, 0.25, 0.32), (0.72, 0.56, 0.46), "hstripes", 0.5),
        "clutter": Look((0.14, 0.14, 0.15), (0.3, 0.3, 0.3), "grain", 0.3),
    },
    gain=(0.75, 1.2), gradient=0.15, noise=0.03,
)
DRIVE_ADVERSE = variant(
    DRIVE_DAY, "drive_adverse", weather={"clear": 0.25, "night": 0.35, "fog": 0.2, "rain": 0.2}, noise=0.04
)
DRIVE_REGION = variant(
    DRIVE_DAY, "drive_region",
    looks={
        "sky": Look((0.78, 0.77, 0.7), (0.88, 0.86, 0.8), "mottled", 0.02),
        "road": Look((0.45, 0.4, 0.35), (0.57, 0.51, 0.43), "speckle", 0.08),
        "terrain": Look((0.62, 0.5, 0.34), (0.72, 0.62, 0.46), "grain", 0.08),
        "building": Look((0.72, 0.55, 0.4), (0.9, 0.8, 0.6), "tiles", 0.4),
        "person": Look((0.75, 0.3, 0.2), (0.9, 0.75, 0.3), "hstripes", 0.6),
    },
    cast=(1.08, 1.0, 0.86), gain=(0.8, 1.25), noise=0.035,
)
DRIVE_ALT = variant(
    DRIVE_DAY, "drive_alt",
    looks={
        "sky": Look((0.82, 0.86, 0.92), (0.95, 0.96, 0.98), "flat", 0.02),
        "road": Look((0.36, 0.34, 0.31), (0.24, 0.24, 0.23), "speckle", 0.05),
        "building": Look((0.82, 0.78, 0.7), (0.5, 0.46, 0.42), "windows", 0.12),
        "vegetation": Look((0.26, 0.36, 0.14), (0.46, 0.5, 0.2), "mottled", 0.1),
    },
    texture_scale=1.3, gain=(0.65, 1.35), gradient=0.25,
)

CONSUMER = Style(
    "consumer",
    {
        "sky": Look((0.45, 0.65, 0.95), (0.95, 0.95, 1.0), "mottled", 0.05),
        "road": Look((0.45, 0.42, 0.4), (0.3, 0.3, 0.3), "speckle", 0.1),
        "lane_marking": Look((0.95, 0.85, 0.3), (0.9, 0.8, 0.3), "flat", 0.05),
        "sidewalk": Look((0.72, 0.6, 0.5), (0.52, 0.44, 0.4), "tiles", 0.1),
        "building": Look((0.7, 0.36, 0.26), (0.56, 0.5, 0.46), "tiles", 0.3),
        "vegetation": Look((0.15, 0.45, 0.1), (0.42, 0.62, 0.2), "mottled", 0.15),
        "terrain": Look((0.4, 0.6, 0.25), (0.52, 0.46, 0.3), "grain", 0.12),
        "water": Look((0.2, 0.4, 0.6), (0.5, 0.7, 0.85), "waves", 0.1),
        "wall": Look((0.86, 0.8, 0.7), (0.76, 0.7, 0.6), "mottled", 0.2),
        "floor": Look((0.56, 0.36, 0.2), (0.4, 0.25, 0.15), "vstripes", 0.2),
        "table": Look((0.5, 0.3, 0.15), (0.35, 0.2, 0.1), "hstripes", 0.3),
        "chair": Look((0.3, 0.2, 0.15), (0.5, 0.35, 0.2), "flat", 0.4),
        "painting": Look((0.7, 0.5, 0.3), (0.2, 0.4, 0.6), "mottled", 0.5),
        "person": Look((0.8, 0.6, 0.5), (0.3, 0.3, 0.5), "hstripes", 0.6),
        "car": Look((0.6, 0.12, 0.12), (0.2, 0.2, 0.2), "hstripes", 0.8),
        "truck": Look((0.85, 0.85, 0.8), (0.3, 0.3, 0.35), "vstripes", 0.6),
        "clutter": Look((0.5, 0.5, 0.45), (0.3, 0.3, 0.3), "speckle", 0.5),
    },
    gain=(0.6, 1.3), gradient=0.2, cast_jitter=0.1, colour_jitter=0.12, vignette=0.25, noise=0.03,
)
CONSUMER_ALT = variant(
    CONSUMER, "consumer_alt",
    looks={
        "building": Look((0.66, 0.66, 0.7), (0.4, 0.42, 0.48), "windows", 0.3),
        "terrain": Look((0.5, 0.48, 0.4), (0.35, 0.5, 0.3), "speckle", 0.12),
        "road": Look((0.35, 0.35, 0.38), (0.5, 0.5, 0.52), "grain", 0.1),
    },
    cast=(0.95, 1.0, 1.08), texture_scale=0.75,
)

AERIAL_URBAN = Style(
    "aerial_urban",
    {
        "road": Look((0.42, 0.42, 0.44), (0.36, 0.36, 0.37), "flat", 0.05),
        "lane_marking": Look((0.95, 0.95, 0.95), (0.9, 0.9, 0.9), "flat", 0.02),
        "building": Look((0.66, 0.3, 0.24), (0.46, 0.46, 0.5), "hstripes", 0.4),
        "vegetation": Look((0.08, 0.28, 0.1), (0.2, 0.45, 0.15), "speckle", 0.1),
        "terrain": Look((0.45, 0.56, 0.3), (0.62, 0.56, 0.36), "mottled", 0.1),
        "water": Look((0.1, 0.25, 0.3), (0.15, 0.35, 0.4), "grain", 0.05),
        "car": Look((0.7, 0.7, 0.72), (0.2, 0.2, 0.25), "flat", 0.8),
        "truck": Look((0.85, 0.85, 0.85), (0.5, 0.5, 0.5), "flat", 0.4),
        "clutter": Look((0.5, 0.45, 0.4), (0.3, 0.28, 0.25), "speckle", 0.4),
    },
    texture_scale=2.0, gain=(0.85, 1.15), cast=(1.0, 1.0, 1.04), noise=0.015,
)


def _infrared(look: Look, nir: float) -> Look:
    """False-colour IRRG look (as ISPRS Vaihingen): channels become (near-infrared, red, green)."""
    (r, g, _), (ar, ag, _) = look.base, look.accent
    return dataclasses.replace(look, base=(nir, r, g), accent=(nir * 0.85, ar, ag))


_NIR = {"road": 0.3, "lane_marking": 0.8, "building": 0.35, "vegetation": 0.9, "terrain": 0.75, "water": 0.05,
        "car": 0.45, "truck": 0.5, "clutter": 0.4}
AERIAL_IRRG = variant(
    AERIAL_URBAN, "aerial_irrg", looks={c: _infrared(AERIAL_URBAN.looks[c], v) for c, v in _NIR.items()},
    texture_scale=1.5, noise=0.02,
)

INDOOR_HOME = Style(
    "indoor_home",
    {
        "wall": Look((0.86, 0.83, 0.76), (0.76, 0.73, 0.66), "mottled", 0.1),
        "floor": Look((0.6, 0.4, 0.22), (0.45, 0.28, 0.15), "vstripes", 0.15),
        "table": Look((0.45, 0.28, 0.15), (0.6, 0.4, 0.25), "hstripes", 0.2),
        "chair": Look((0.25, 0.2, 0.18), (0.4, 0.3, 0.25), "flat", 0.5),
        "painting": Look((0.8, 0.6, 0.2), (0.2, 0.3, 0.6), "mottled", 0.6),
        "person": Look((0.5, 0.4, 0.6), (0.8, 0.65, 0.55), "hstripes", 0.6),
        "clutter": Look((0.6, 0.6, 0.6), (0.2, 0.2, 0.2), "speckle", 0.6),
    },
    cast=(1.05, 1.0, 0.88), gain=(0.6, 1.15), gradient=0.2, vignette=0.35, noise=0.03,
)
INDOOR_SCAN = variant(
    INDOOR_HOME, "indoor_scan",
    looks={
        "wall": Look((0.7, 0.72, 0.75), (0.6, 0.62, 0.65), "grain", 0.1),
        "floor": Look((0.45, 0.45, 0.5), (0.35, 0.35, 0.4), "speckle", 0.1),
        "table": Look((0.72, 0.72, 0.7), (0.62, 0.62, 0.6), "flat", 0.3),
        "chair": Look((0.15, 0.2, 0.35), (0.25, 0.3, 0.45), "grain", 0.4),
    },
    cast=(0.92, 0.98, 1.05), gain=(0.45, 1.0), blur=1.5, noise=0.06, vignette=0.2,
)

UNDERWATER_CLEAR = Style(
    "underwater_clear",
    {
        "water": Look((0.1, 0.45, 0.6), (0.22, 0.62, 0.72), "waves", 0.05),
        "sand": Look((0.8, 0.75, 0.6), (0.65, 0.6, 0.45), "grain", 0.1),
        "reef": Look((0.7, 0.35, 0.5), (0.5, 0.3, 0.6), "speckle", 0.4),
        "fish": Look((0.95, 0.75, 0.1), (0.2, 0.2, 0.25), "vstripes", 0.5),
        "person": Look((0.1, 0.1, 0.12), (0.2, 0.25, 0.35), "flat", 0.2),
        "clutter": Look((0.35, 0.35, 0.3), (0.5, 0.5, 0.45), "speckle", 0.2),
    },
    texture_scale=1.2, cast=(0.75, 1.0, 1.05), haze=(0.05, 0.35, 0.5), haze_amount=0.3, blur=0.8, noise=0.03,
)
UNDERWATER_MURKY = variant(
    UNDERWATER_CLEAR, "underwater_murky", cast=(0.7, 1.0, 0.85), haze=(0.15, 0.35, 0.25), haze_amount=0.5,
    gain=(0.5, 0.95), blur=1.5, noise=0.05,
)

VIRTUAL_DRIVE = Style(
    "virtual_drive",
    {
        "sky": Look((0.35, 0.6, 1.0), (0.35, 0.6, 1.0), "flat", 0.02),
        "road": Look((0.35, 0.35, 0.4), (0.35, 0.35, 0.4), "flat", 0.03),
        "lane_marking": Look((1.0, 1.0, 1.0), (1.0, 1.0, 1.0), "flat", 0.0),
        "sidewalk": Look((0.62, 0.55, 0.62), (0.62, 0.55, 0.62), "flat", 0.03),
        "building": Look((0.8, 0.6, 0.4), (0.6, 0.45, 0.3), "flat", 0.3),
        "vegetation": Look((0.1, 0.6, 0.15), (0.1, 0.6, 0.15), "flat", 0.1),
        "terrain": Look((0.55, 0.65, 0.25), (0.55, 0.65, 0.25), "flat", 0.05),
        "car": Look((0.8, 0.1, 0.1), (0.8, 0.1, 0.1), "flat", 0.8),
        "truck": Look((0.9, 0.9, 0.2), (0.9, 0.9, 0.2), "flat", 0.4),
        "person": Look((0.2, 0.2, 0.8), (0.2, 0.2, 0.8), "flat", 0.3),
        "clutter": Look((0.3, 0.3, 0.3), (0.3, 0.3, 0.3), "flat", 0.3),
    },
    gain=(0.9, 1.1), gradient=0.1, cast_jitter=0.0, colour_jitter=0.05, noise=0.0,
)
VIRTUAL_GALLERY = Style(
    "virtual_gallery",
    {
        "wall": Look((0.95, 0.95, 0.92), (0.95, 0.95, 0.92), "flat", 0.02),
        "floor": Look((0.5, 0.5, 0.55), (0.3, 0.3, 0.35), "tiles", 0.05),
        "painting": Look((0.9, 0.2, 0.2), (0.1, 0.3, 0.9), "hstripes", 0.8),
        "table": Look((0.3, 0.3, 0.3), (0.3, 0.3, 0.3), "flat", 0.1),
        "chair": Look((0.3, 0.3, 0.3), (0.3, 0.3, 0.3), "flat", 0.1),
        "person": Look((0.2, 0.5, 0.8), (0.2, 0.5, 0.8), "flat", 0.3),
        "clutter": Look((0.7, 0.7, 0.7), (0.7, 0.7, 0.7), "flat", 0.2),
    },
    gain=(0.85, 1.1), gradient=0.15, cast_jitter=0.0, colour_jitter=0.05, noise=0.0,
)
