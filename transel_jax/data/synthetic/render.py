"""Render a batch of scenes: layout -> concept map -> textured colours -> lighting, weather, blur, noise.

Each image's randomness is one row of uniforms (see :func:`transel_jax.data.synthetic.suite.image_uniforms`),
split into layout parameters, appearance parameters, per-slot instance tints and per-concept colour jitter.
Every operation is elementwise per image, so an image renders identically alone or inside any batch.
"""
from __future__ import annotations

import numpy as np

from transel_jax.data.synthetic import noise
from transel_jax.data.synthetic.concepts import CONCEPTS, NUM_CONCEPTS
from transel_jax.data.synthetic.layouts import MAX_SLOTS, Canvas
from transel_jax.data.synthetic.params import Params
from transel_jax.data.synthetic.styles import TEXTURES, WEATHERS, Style

LAYOUT_PARAMS = 128
LOOK_PARAMS = 48
NUM_UNIFORMS = LAYOUT_PARAMS + LOOK_PARAMS + 3 * MAX_SLOTS + 3 * NUM_CONCEPTS


def grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised pixel-centre coordinates: y float32 [1, H, 1], x float32 [1, 1, W]."""
    y = (np.arange(height, dtype=np.float32) + 0.5) / height
    x = (np.arange(width, dtype=np.float32) + 0.5) / width
    return y[None, :, None], x[None, None, :]


def render(layout, fill: str, style: Style, u: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Render ``B`` images of one layout and style.

    Args:
      layout: a function of :mod:`transel_jax.data.synthetic.layouts`, called as ``layout(p, y, x, canvas)``.
      fill: concept that fills the canvas before painting.
      style: appearance.
      u: float [B, NUM_UNIFORMS] per-image uniforms.
      size: image height = width in pixels.

    Returns:
      image uint8 [B, size, size, 3] and concept map uint8 [B, size, size].
    """
    y, x = grid(size, size)
    canvas = Canvas(u.shape[0], size, size, fill)
    layout(Params(u[:, :LAYOUT_PARAMS]), y, x, canvas)
    look_p = Params(u[:, LAYOUT_PARAMS:LAYOUT_PARAMS + LOOK_PARAMS])
    tints = u[:, LAYOUT_PARAMS + LOOK_PARAMS:][:, : 3 * MAX_SLOTS].reshape(-1, MAX_SLOTS, 3)
    jitter = u[:, -3 * NUM_CONCEPTS:].reshape(-1, NUM_CONCEPTS, 3)
    colour = _surface_colour(style, canvas, look_p, tints, jitter, y, x, size)
    colour = _lighting(style, colour, look_p, y, x, size)
    return np.clip(colour + 0.5, 0, 255).astype(np.uint8), canvas.concept


def _texture(name: str, p: Params, y, x, size: int, scale: float) -> np.ndarray:
    """Texture pattern ``name`` in [0, 1], broadcastable to [B, H, W]."""
    white, smooth = noise.tables()
    if name == "flat":
        return np.full((1, 1, 1), 0.5, np.float32)
    if name == "grain":  # one table cell per pixel: pixel-level grain at any resolution
        return noise.lookup(white, y, x, size, p.offset(noise.TABLE_SIZE), p.offset(noise.TABLE_SIZE))
    if name in ("mottled", "speckle", "waves"):
        cells = {"mottled": 64.0, "speckle": 320.0, "waves": 48.0}[name]
        field = noise.lookup(smooth, y, x, cells, p.offset(noise.TABLE_SIZE), p.offset(noise.TABLE_SIZE))
        if name != "waves":
            return field
        return 0.5 + 0.5 * np.sin(2 * np.pi * (p.uniform(8, 12) * scale * y + 4.0 * field))
    freq = p.uniform(0.8, 1.25) * scale
    if name == "hstripes":
        return 0.5 + 0.5 * np.sin(2 * np.pi * (12.0 * freq * y + p.uniform()))
    if name == "vstripes":
        return 0.5 + 0.5 * np.sin(2 * np.pi * (12.0 * freq * x + p.uniform()))
    fy, fx = np.modf(8.0 * freq * y + p.uniform())[0], np.modf(8.0 * freq * x + p.uniform())[0]
    if name == "tiles":
        return ((fy < 0.14) | (fx < 0.14)).astype(np.float32)
    if name == "windows":
        return ((np.abs(fy - 0.5) < 0.2) & (np.abs(fx - 0.5) < 0.22)).astype(np.float32)
    raise ValueError(f"texture: expected one of {TEXTURES}, got {name!r}")


def _surface_colour(style, canvas, p, tints, jitter, y, x, size):
    """Per-pixel colour before lighting: float32 [B, H, W, 3].

    Slot ``s`` of image ``b`` holds one concept ``k``; its colour is ``(base_k + (accent_k - base_k) * t)``
    times the per-image concept jitter ``1 + colour_jitter * U(-1, 1)`` and the instance tint
    ``1 + variety_k * U(-1, 1)`` (per channel), where ``t`` is the concept's texture at the pixel.
    """
    looks = [style.look(c) for c in CONCEPTS]
    slot_concept = np.asarray(canvas.slot_concept)
    batch, slots = canvas.concept.shape[0], slot_concept.size
    concept_factor = 1.0 + style.colour_jitter * (2.0 * jitter[:, slot_concept] - 1.0)  # [B, S, 3]
    variety = np.array([lk.variety for lk in looks], np.float32)[slot_concept]
    factor = concept_factor * (1.0 + variety[None, :, None] * (2.0 * tints[:, :slots] - 1.0))
    base = np.array([lk.base for lk in looks], np.float32)[slot_concept] * factor
    delta = np.array([lk.accent for lk in looks], np.float32)[slot_concept] * factor - base
    flat = (np.arange(batch, dtype=np.intp)[:, None, None] * slots + canvas.slot).reshape(-1)

    used = sorted({looks[k].texture for k in slot_concept}, key=TEXTURES.index)
    tex_of_slot = np.array([used.index(looks[k].texture) for k in slot_concept], np.uint8)
    tex = tex_of_slot[canvas.slot]
    t = np.empty(canvas.concept.shape, np.float32)
    for k, name in enumerate(used):
        np.copyto(t, _texture(name, p, y, x, size, style.texture_scale), where=tex == k)
    colour = np.take(base.reshape(-1, 3), flat, axis=0)
    colour += np.take(delta.reshape(-1, 3), flat, axis=0) * t.reshape(-1, 1)
    return colour.reshape(*canvas.concept.shape, 3)


def _lighting(style: Style, colour, p: Params, y, x, size: int):
    """Image-level effects, returned on the 0..255 scale.

    Row-wise effects combine into ``colour * F + O`` with F, O [B, H, 1, 3]: gain with a vertical gradient,
    colour cast, night (a dark blue factor), fog (fade to grey, stronger higher up) and water haze (fade to the
    water colour, stronger higher up). Then rain streaks, vignette, box blur and luminance noise.
    """
    gain = p.uniform(*style.gain) * (1.0 + p.uniform(-1.0, 1.0) * style.gradient * (2.0 * y - 1.0))  # [B, H, 1]
    cast = np.concatenate([p.uniform(1 - style.cast_jitter, 1 + style.cast_jitter) for _ in range(3)], -1)
    scale = gain[..., None] * (np.asarray(style.cast, np.float32) * cast)[:, :, None, :]  # [B, H, 1, 3]
    offset = np.zeros_like(scale)

    pick, cumulative, weather = p.uniform(), 0.0, {}
    for name in WEATHERS:
        prob = style.weather.get(name, 0.0)
        weather[name] = (pick >= cumulative) & (pick < cumulative + prob)
        cumulative += prob
    scale = np.where(weather["night"][..., None], scale * np.float32([0.22, 0.25, 0.38]), scale)
    fog = (np.where(weather["fog"], p.uniform(0.45, 0.75), 0.0) * (1.0 - 0.5 * y))[..., None]
    scale, offset = scale * (1.0 - fog), offset * (1.0 - fog) + 0.72 * fog
    if style.haze is not None:
        haze = (style.haze_amount * p.uniform(0.7, 1.3) * (1.3 - y))[..., None]
        scale, offset = scale * (1.0 - haze), offset * (1.0 - haze) + np.float32(style.haze) * haze
    colour *= 255.0 * scale
    colour += 255.0 * offset

    white, _ = noise.tables()
    if style.weather.get("rain", 0.0) > 0.0:
        # Drawn for every image of a style that can rain, rainy or not: whether these two columns are read must
        # not depend on the other images of the batch, or an image would render differently alone.
        oy, ox = p.offset(noise.TABLE_SIZE), p.offset(noise.TABLE_SIZE)
        streak = weather["rain"] & (noise.lookup(white, y * 0.1, x + 0.25 * y, size, oy, ox) > 0.94)
        colour = np.where(weather["rain"][..., None], colour * 0.8, colour)
        colour = np.where(streak[..., None], colour * 0.5 + 0.35 * 255.0, colour)
    if style.vignette:
        colour *= (1.0 - 2.0 * style.vignette * ((y - 0.5) ** 2 + (x - 0.5) ** 2))[..., None]
    radius = int(round(style.blur * size / 64.0))
    if radius > 0:
        colour = _box_blur(_box_blur(colour, radius, axis=1), radius, axis=2)
    if style.noise:
        grain = noise.lookup(white, y, x, size, p.offset(noise.TABLE_SIZE), p.offset(noise.TABLE_SIZE))
        colour += (2.0 * 255.0 * style.noise) * (grain[..., None] - 0.5)
    return colour


def _box_blur(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Mean over a window of 2 * radius + 1 along ``axis`` (edges replicated), via cumulative sums."""
    n = a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (radius + 1, radius)
    c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float32)
    hi = np.take(c, np.arange(2 * radius + 1, 2 * radius + 1 + n), axis=axis)
    lo = np.take(c, np.arange(0, n), axis=axis)
    return (hi - lo) / (2 * radius + 1)
