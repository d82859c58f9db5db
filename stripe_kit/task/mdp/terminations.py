"""Termination terms that read the generated scene."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg

from .commands import SceneGoalCommand
from .observations import base_height_above_ground

if TYPE_CHECKING:
    from ..env import StripeEnv


def obstacle_collision(env: StripeEnv, body_radius: float, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Terminate when the base (a disc of ``body_radius``) touches an obstacle."""
    base = env.scene[asset_cfg.name].data.root_pos_w.torch
    distance = (env.obstacles.positions[..., :2] - base[:, None, :2]).norm(dim=-1)
    return (distance < env.obstacles.radii + body_radius).any(dim=1)


def off_terrain(env: StripeEnv, distance_buffer: float = 1.0,
                asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Terminate before the root comes within ``distance_buffer`` of the generated terrain's edge [m].

    Isaac Lab's ``terrain_out_of_bounds`` assumes a generator terrain centred on the origin; this reads the bounds
    of the generated ground itself (``env.scene_data.bounds``), so it holds for any scene, a loaded USD one too.
    """
    xy = env.scene[asset_cfg.name].data.root_pos_w.torch[:, :2]
    low, high = env.scene_data.bounds
    inside = ((xy >= low + distance_buffer) & (xy <= high - distance_buffer)).all(dim=1)
    return ~inside


def base_below_ground_height(env: StripeEnv, minimum_height: float,
                             asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Terminate when the base is lower than ``minimum_height`` above the ground under it (falls, on any hill)."""
    return base_height_above_ground(env, asset_cfg)[:, 0] < minimum_height


def physics_diverged(env: StripeEnv, max_root_speed: float = 50.0,
                     asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Terminate robots whose simulation diverged: non-finite state, or a root faster than ``max_root_speed``.

    Rare among millions of steps, but one NaN robot would otherwise stay NaN forever (every comparison with NaN is
    false, so no other term ends its episode) and poison the whole training batch; a reset restores it.
    """
    data = env.scene[asset_cfg.name].data
    speed = data.root_lin_vel_w.torch.norm(dim=1)
    state = torch.cat((data.root_pos_w.torch, data.joint_pos.torch, data.joint_vel.torch), dim=1)
    finite = torch.isfinite(state).all(dim=1)
    return ~(finite & (speed <= max_root_speed))


def goal_reached(env: StripeEnv, command_name: str = "goal", asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Terminate (successfully) when the base is within the command's success threshold of the goal."""
    command = env.command_manager.get_term(command_name)
    base = env.scene[asset_cfg.name].data.root_pos_w.torch[:, :2]
    reached = (command.pos_command_w[:, :2] - base).norm(dim=1) < command.cfg.position_success_threshold
    if isinstance(command, SceneGoalCommand):
        command.mark_reached(reached)
    return reached
