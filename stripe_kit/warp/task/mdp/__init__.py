"""Warp twins of the terms of :mod:`stripe_kit.task.mdp`, by the same names (see :mod:`stripe_kit.warp`)."""

from .observations import base_height_above_ground, height_scan, ray_distances, walk_heading
from .rewards import (
    heading_to_goal,
    obstacle_proximity,
    progress_along_walk,
    termination_term,
    velocity_toward_goal,
    walk_heading_bonus,
)
from .terminations import base_below_ground_height, goal_reached, obstacle_collision, off_terrain, physics_diverged

__all__ = ["base_below_ground_height", "base_height_above_ground", "goal_reached", "heading_to_goal", "height_scan",
           "obstacle_collision", "obstacle_proximity", "off_terrain", "physics_diverged", "progress_along_walk",
           "ray_distances", "termination_term", "velocity_toward_goal", "walk_heading", "walk_heading_bonus"]
