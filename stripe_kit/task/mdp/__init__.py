"""Scene-aware MDP terms: they read the generated scene (``env.scene_data``) and its obstacles (``env.obstacles``).

Isaac Lab's own terms (``isaaclab.envs.mdp``) are re-exported, so a task imports one ``mdp`` module.
"""

from isaaclab.envs.mdp import *  # noqa: F401, F403

# re-exported: tasks import one mdp module
# ruff: noqa: F401
from .commands import (
    SceneGoalCommand,
    SceneGoalCommandCfg,
    SceneVelocityCommand,
    SceneVelocityCommandCfg,
    WalkDirectionCommand,
    WalkDirectionCommandCfg,
)
from .curriculum import terrain_levels_by_distance, terrain_levels_by_goal, terrain_levels_by_tracking
from .observations import (
    base_heading,
    base_height_above_ground,
    heading_to_target,
    height_scan,
    nearest_obstacles,
    ray_distances,
    walk_direction,
    walk_heading,
)
from .rewards import (
    heading_to_goal,
    heading_to_target_bonus,
    obstacle_proximity,
    progress_along,
    progress_along_walk,
    termination_term,
    velocity_toward_goal,
    walk_heading_bonus,
)
from .terminations import base_below_ground_height, goal_reached, obstacle_collision, off_terrain, physics_diverged
