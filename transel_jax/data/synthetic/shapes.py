"""Vectorised shape masks on normalised image coordinates.

Every function takes the coordinate grids ``y, x`` (float32 [1, H, W], pixel centres in [0, 1), y down) and
per-image parameters as float32 [B, 1, 1] columns, and returns a bool mask [B, H, W]. Angles are radians.
"""
from __future__ import annotations

import numpy as np


def _rotate(y, x, cy, cx, angle):
    """Coordinates relative to (cy, cx) in a frame rotated by ``angle``: (along, across)."""
    dy, dx = y - cy, x - cx
    if angle is None:
        return dx, dy
    c, s = np.cos(angle), np.sin(angle)
    return dx * c + dy * s, dy * c - dx * s


def rect(y, x, cy, cx, half_h, half_w, angle=None):
    """Rectangle centred at (cy, cx) with half extents (half_h, half_w), optionally rotated."""
    u, v = _rotate(y, x, cy, cx, angle)
    return (np.abs(u) < half_w) & (np.abs(v) < half_h)


def ellipse(y, x, cy, cx, ry, rx, angle=None):
    """Ellipse ``(u/rx)^2 + (v/ry)^2 < 1`` in the (optionally rotated) frame."""
    u, v = _rotate(y, x, cy, cx, angle)
    return (u / rx) ** 2 + (v / ry) ** 2 < 1.0


def blob(y, x, cy, cx, radius, wobble, amount):
    """Irregular round region: ``|p - c| / radius < 1 + amount * (wobble - 0.5)``; wobble [B, H, W] in [0, 1]."""
    d = np.sqrt((y - cy) ** 2 + (x - cx) ** 2) / radius
    return d < 1.0 + amount * (wobble - 0.5)


def band(y, x, cy, cx, angle, half_width):
    """Infinite straight strip through (cy, cx) along direction ``angle``."""
    _, v = _rotate(y, x, cy, cx, angle)
    return np.abs(v) < half_width


def triangle_tail(y, x, cy, cx, length, half_h, facing):
    """Fish tail: triangle with apex at (cy, cx) opening over ``length`` away from ``facing`` (+1 right, -1 left)."""
    t = (cx - x) * facing / length
    return (t > 0) & (t < 1) & (np.abs(y - cy) < half_h * t)
