"""Warp twins of the terms of :mod:`stripe_kit.task.mdp`, by the same names (see :mod:`stripe_kit.warp`)."""

from .observations import base_height_above_ground
from .rewards import obstacle_proximity
from .terminations import base_below_ground_height, obstacle_collision, off_terrain, physics_diverged

__all__ = ["base_below_ground_height", "base_height_above_ground", "obstacle_collision", "obstacle_proximity",
           "off_terrain", "physics_diverged"]
