"""Warp twins of :mod:`stripe_kit.task.mdp.terminations`: each writes one flag per env into ``out``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import warp as wp
from isaaclab_experimental.managers import SceneEntityCfg

from ....task.kernels import ground_height

if TYPE_CHECKING:
    from ....task.env import StripeEnv


@wp.func
def touches_obstacle(base: wp.vec3f, positions: wp.array2d(dtype=wp.vec3f), radii: wp.array2d(dtype=wp.float32),
                     e: wp.int32, slots: wp.int32, reach: wp.float32) -> wp.float32:
    """The largest ``reach + radius - distance`` over env ``e``'s slot obstacles (ground plane): above 0 where the
    base, grown by ``reach``, overlaps one; -1e9 without slots."""
    overlap = wp.float32(-1.0e9)
    for k in range(slots):
        position = positions[e, k]
        distance = wp.length(wp.vec2f(position[0] - base[0], position[1] - base[1]))
        overlap = wp.max(overlap, radii[e, k] + reach - distance)
    return overlap


@wp.kernel
def _obstacle_collision_kernel(root_pos: wp.array(dtype=wp.vec3f), positions: wp.array2d(dtype=wp.vec3f),
                               radii: wp.array2d(dtype=wp.float32), slots: wp.int32, body_radius: wp.float32,
                               out: wp.array(dtype=wp.bool)):
    e = wp.tid()
    out[e] = touches_obstacle(root_pos[e], positions, radii, e, slots, body_radius) > 0.0


def obstacle_collision(env: StripeEnv, out, body_radius: float,
                       asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Terminate when the base (a disc of ``body_radius``) touches an obstacle."""
    obstacles = env.obstacles
    wp.launch(_obstacle_collision_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_pos_w.warp, obstacles.positions_wp, obstacles.radii_wp,
                      obstacles.slot_count, float(body_radius), out], device=env.device)


@wp.kernel
def _off_terrain_kernel(root_pos: wp.array(dtype=wp.vec3f), low: wp.vec2f, high: wp.vec2f,
                        out: wp.array(dtype=wp.bool)):
    e = wp.tid()
    p = root_pos[e]
    inside = p[0] >= low[0] and p[1] >= low[1] and p[0] <= high[0] and p[1] <= high[1]
    out[e] = not inside


def off_terrain(env: StripeEnv, out, distance_buffer: float = 1.0,
                asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Terminate before the root comes within ``distance_buffer`` of the generated terrain's edge [m]."""
    (x0, y0), (x1, y1) = env.scene_data.corners
    buffer = float(distance_buffer)
    wp.launch(_off_terrain_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_pos_w.warp, wp.vec2f(x0 + buffer, y0 + buffer),
                      wp.vec2f(x1 - buffer, y1 - buffer), out], device=env.device)


@wp.kernel
def _base_below_ground_height_kernel(root_pos: wp.array(dtype=wp.vec3f), heights: wp.array2d(dtype=wp.float32),
                                     x0: wp.float32, y0: wp.float32, resolution: wp.float32,
                                     minimum_height: wp.float32, out: wp.array(dtype=wp.bool)):
    e = wp.tid()
    p = root_pos[e]
    out[e] = p[2] - ground_height(heights, x0, y0, resolution, p[0], p[1]) < minimum_height


def base_below_ground_height(env: StripeEnv, out, minimum_height: float,
                             asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Terminate when the base is lower than ``minimum_height`` above the ground under it."""
    scene = env.scene_data
    wp.launch(_base_below_ground_height_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_pos_w.warp, scene.heights_wp, *scene.grid,
                      float(minimum_height), out], device=env.device)


@wp.kernel
def _physics_diverged_kernel(root_pos: wp.array(dtype=wp.vec3f), root_com_vel: wp.array(dtype=wp.spatial_vectorf),
                             joint_pos: wp.array2d(dtype=wp.float32), joint_vel: wp.array2d(dtype=wp.float32),
                             max_root_speed: wp.float32, out: wp.array(dtype=wp.bool)):
    e = wp.tid()
    p = root_pos[e]
    finite = wp.isfinite(p[0]) and wp.isfinite(p[1]) and wp.isfinite(p[2])
    for j in range(joint_pos.shape[1]):
        finite = finite and wp.isfinite(joint_pos[e, j]) and wp.isfinite(joint_vel[e, j])
    velocity = wp.spatial_top(root_com_vel[e])
    out[e] = not (finite and wp.length(velocity) <= max_root_speed)


def physics_diverged(env: StripeEnv, out, max_root_speed: float = 50.0,
                     asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Terminate robots whose simulation diverged: non-finite state, or a root faster than ``max_root_speed``.

    The speed is the root's centre of mass's (the torch term reads the root link's, a buffer Isaac Lab derives
    lazily and which a captured step cannot refresh); the two differ by the spin times a few centimetres, far below
    the 50 m/s that marks a diverged robot.
    """
    data = env.scene[asset_cfg.name].data
    wp.launch(_physics_diverged_kernel, dim=env.num_envs,
              inputs=[data.root_pos_w.warp, data.root_com_vel_w.warp, data.joint_pos.warp, data.joint_vel.warp,
                      float(max_root_speed), out], device=env.device)


@wp.kernel
def _goal_reached_kernel(root_pos: wp.array(dtype=wp.vec3f), goals: wp.array(dtype=wp.vec3f),
                         threshold: wp.float32, mark: wp.bool, succeeded: wp.array(dtype=wp.bool),
                         out: wp.array(dtype=wp.bool)):
    e = wp.tid()
    p = root_pos[e]
    goal = goals[e]
    reached = wp.length(wp.vec2f(goal[0] - p[0], goal[1] - p[1])) < threshold
    out[e] = reached
    if mark and reached:
        succeeded[e] = True


def goal_reached(env: StripeEnv, out, command_name: str = "goal",
                 asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Terminate (successfully) when the base is within the command's success threshold of the goal; a
    :class:`~stripe_kit.task.mdp.SceneGoalCommand` records the success before the reset, as the torch term does."""
    from ....task.mdp.commands import SceneGoalCommand

    command = env.command_manager.get_term(command_name)
    mark = isinstance(command, SceneGoalCommand)
    succeeded = wp.from_torch(command._succeeded, dtype=wp.bool) if mark else out
    wp.launch(_goal_reached_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_pos_w.warp,
                      wp.from_torch(command.pos_command_w, dtype=wp.vec3f),
                      float(command.cfg.position_success_threshold), mark, succeeded, out], device=env.device)
