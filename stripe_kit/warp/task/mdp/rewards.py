"""Warp twins of :mod:`stripe_kit.task.mdp.rewards`: each writes one value per env into ``out``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import warp as wp
from isaaclab_experimental.managers import ManagerTermBase, RewardTermCfg, SceneEntityCfg

from .observations import heading_of, walk_direction_array, walk_heading_error
from .terminations import touches_obstacle

if TYPE_CHECKING:
    from ....task.env import StripeEnv


@wp.func
def alignment_bonus(alignment: wp.float32, threshold: wp.float32) -> wp.float32:
    """1 above ``threshold`` (the cosine of the heading error), falling linearly below it."""
    return wp.where(alignment > threshold, 1.0, alignment / threshold)


@wp.func
def direction_to(origin: wp.vec3f, target: wp.vec3f) -> wp.vec2f:
    """Unit vector from ``origin`` to ``target`` on the ground plane (zero when they coincide)."""
    offset = wp.vec2f(target[0] - origin[0], target[1] - origin[1])
    return offset / wp.max(wp.length(offset), 1.0e-6)


@wp.kernel
def _obstacle_proximity_kernel(root_pos: wp.array(dtype=wp.vec3f), positions: wp.array2d(dtype=wp.vec3f),
                               radii: wp.array2d(dtype=wp.float32), slots: wp.int32, body_radius: wp.float32,
                               margin: wp.float32, out: wp.array(dtype=wp.float32)):
    e = wp.tid()
    # 1 - gap / margin, gap = distance - radius - body_radius, at the nearest obstacle
    overlap = touches_obstacle(root_pos[e], positions, radii, e, slots, body_radius)
    out[e] = wp.where(slots > 0, wp.clamp(1.0 + overlap / margin, 0.0, 1.0), 0.0)


def obstacle_proximity(env: StripeEnv, out, body_radius: float, margin: float = 0.3,
                       asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Penalty rising from 0 to 1 as the base comes within ``margin`` of touching an obstacle."""
    obstacles = env.obstacles
    wp.launch(_obstacle_proximity_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_pos_w.warp, obstacles.positions_wp, obstacles.radii_wp,
                      obstacles.slot_count, float(body_radius), float(margin), out], device=env.device)


@wp.kernel
def _progress_along_walk_kernel(root_vel: wp.array(dtype=wp.spatial_vectorf), direction: wp.array(dtype=wp.vec2f),
                                max_speed: wp.float32, out: wp.array(dtype=wp.float32)):
    e = wp.tid()
    velocity = wp.spatial_top(root_vel[e])
    out[e] = wp.min(velocity[0] * direction[e][0] + velocity[1] * direction[e][1], max_speed)


def progress_along_walk(env: StripeEnv, out, max_speed: float = math.inf,
                        asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Base velocity along each env's walk direction [m/s], at most ``max_speed``."""
    wp.launch(_progress_along_walk_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_com_vel_w.warp, walk_direction_array(env),
                      float(max_speed), out], device=env.device)


@wp.kernel
def _walk_heading_bonus_kernel(root_pose: wp.array(dtype=wp.transformf), direction: wp.array(dtype=wp.vec2f),
                               threshold: wp.float32, out: wp.array(dtype=wp.float32)):
    e = wp.tid()
    out[e] = alignment_bonus(wp.cos(walk_heading_error(root_pose[e], direction[e])), threshold)


def walk_heading_bonus(env: StripeEnv, out, threshold: float = 0.8,
                       asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """1 when facing the walk direction within ``acos(threshold)``, less the farther the base turns away."""
    wp.launch(_walk_heading_bonus_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_link_pose_w.warp, walk_direction_array(env),
                      float(threshold), out], device=env.device)


@wp.kernel
def _velocity_toward_goal_kernel(root_pos: wp.array(dtype=wp.vec3f), root_vel: wp.array(dtype=wp.spatial_vectorf),
                                 goals: wp.array(dtype=wp.vec3f), out: wp.array(dtype=wp.float32)):
    e = wp.tid()
    direction = direction_to(root_pos[e], goals[e])
    velocity = wp.spatial_top(root_vel[e])
    out[e] = velocity[0] * direction[0] + velocity[1] * direction[1]


def velocity_toward_goal(env: StripeEnv, out, command_name: str = "goal",
                         asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Base velocity toward the commanded goal [m/s]."""
    data = env.scene[asset_cfg.name].data
    wp.launch(_velocity_toward_goal_kernel, dim=env.num_envs,
              inputs=[data.root_pos_w.warp, data.root_com_vel_w.warp, goal_array(env, command_name), out],
              device=env.device)


@wp.kernel
def _heading_to_goal_kernel(root_pose: wp.array(dtype=wp.transformf), goals: wp.array(dtype=wp.vec3f),
                            threshold: wp.float32, out: wp.array(dtype=wp.float32)):
    e = wp.tid()
    pose = root_pose[e]
    direction = direction_to(wp.transform_get_translation(pose), goals[e])
    yaw = heading_of(pose)
    out[e] = alignment_bonus(wp.cos(yaw) * direction[0] + wp.sin(yaw) * direction[1], threshold)


def heading_to_goal(env: StripeEnv, out, command_name: str = "goal", threshold: float = 0.8,
                    asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """1 when the base's forward axis points within ``acos(threshold)`` of the goal, less the farther it turns."""
    wp.launch(_heading_to_goal_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_link_pose_w.warp, goal_array(env, command_name),
                      float(threshold), out], device=env.device)


def goal_array(env: StripeEnv, command_name: str) -> wp.array:
    """The goal command's world positions as a Warp view (``vec3f`` per env) of the command's own tensor."""
    return wp.from_torch(env.command_manager.get_term(command_name).pos_command_w, dtype=wp.vec3f)


@wp.kernel
def _termination_term_kernel(term_dones: wp.array2d(dtype=wp.bool), column: wp.int32,
                             out: wp.array(dtype=wp.float32)):
    e = wp.tid()
    out[e] = wp.where(term_dones[e, column], 1.0, 0.0)


class termination_term(ManagerTermBase):
    """1 on the step a given termination term fires (time-out terms included), else 0: the termination
    manager's column of that term.

    Not Isaac Lab's ``is_terminated_term``, which reads 0 on any step that also timed out, so it would never pay
    for leaving the map, a time-out term here.
    """

    def __init__(self, cfg: RewardTermCfg, env: StripeEnv):
        super().__init__(cfg, env)
        self._column = env.termination_manager.active_terms.index(cfg.params["term_name"])

    def __call__(self, env: StripeEnv, out, term_name: str) -> None:
        wp.launch(_termination_term_kernel, dim=env.num_envs,
                  inputs=[env.termination_manager.term_dones_wp, self._column, out], device=env.device)
