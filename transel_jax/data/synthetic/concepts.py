"""The shared pool of semantic concepts that every synthetic dataset draws its label space from.

A rendered scene is first a *concept map* (uint8 [B, H, W], values index :data:`CONCEPTS`); each dataset then
maps concepts to its own labels (merging some, splitting others, omitting the rest as void). Concept 0,
``clutter``, is deliberately ambiguous stuff (debris, the ego-vehicle hood, unnamed objects) that every
dataset labels void.
"""
from __future__ import annotations

CONCEPTS: tuple[str, ...] = (
    "clutter", "sky", "road", "lane_marking", "sidewalk", "building", "vegetation", "terrain", "car", "truck",
    "person", "wall", "floor", "table", "chair", "painting", "water", "fish", "reef", "sand",
)
NUM_CONCEPTS = len(CONCEPTS)
ID = {name: i for i, name in enumerate(CONCEPTS)}
