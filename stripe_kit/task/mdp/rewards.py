"""Reward terms that read the generated scene."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg

from .observations import base_heading, device_constant, heading_to_target, walk_direction, walk_heading_angle

if TYPE_CHECKING:
    from ..env import StripeEnv


def obstacle_proximity(env: StripeEnv, body_radius: float, margin: float = 0.3,
                       asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Penalty rising from 0 to 1 as the base comes within ``margin`` of touching an obstacle (use a negative weight)."""
    base = env.scene[asset_cfg.name].data.root_pos_w.torch
    distance = (env.obstacles.positions[..., :2] - base[:, None, :2]).norm(dim=-1)
    gap = distance - env.obstacles.radii - body_radius
    return torch.clamp(1.0 - gap / margin, 0.0, 1.0).amax(dim=1)


def progress_along(env: StripeEnv, direction: tuple[float, float] = (1.0, 0.0),
                   asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Base velocity along a world direction [m/s]: rewards walking that way through the scene."""
    velocity = env.scene[asset_cfg.name].data.root_lin_vel_w.torch[:, :2]
    norm = (direction[0] ** 2 + direction[1] ** 2) ** 0.5
    return velocity @ device_constant((direction[0] / norm, direction[1] / norm), str(env.device))


def progress_along_walk(env: StripeEnv, max_speed: float = math.inf,
                        asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Base velocity along each env's :func:`~.observations.walk_direction` [m/s], at most ``max_speed``.

    A cap makes speed beyond it worth nothing, so that a faster gait no longer outweighs the time to steer around
    trees.
    """
    velocity = env.scene[asset_cfg.name].data.root_lin_vel_w.torch[:, :2]
    return (velocity * walk_direction(env)).sum(dim=1).clamp(max=max_speed)


def walk_heading_bonus(env: StripeEnv, threshold: float = 0.8,
                       asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """:func:`heading_to_goal` for the walk direction: 1 when facing it within ``acos(threshold)``."""
    return _alignment_bonus(torch.cos(walk_heading_angle(env, asset_cfg)), threshold)


def velocity_toward_goal(env: StripeEnv, command_name: str = "goal",
                         asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Base velocity toward the commanded goal [m/s]."""
    robot = env.scene[asset_cfg.name]
    to_goal = env.command_manager.get_term(command_name).pos_command_w[:, :2] - robot.data.root_pos_w.torch[:, :2]
    direction = to_goal / to_goal.norm(dim=1, keepdim=True).clamp(min=1e-6)
    return (robot.data.root_lin_vel_w.torch[:, :2] * direction).sum(dim=1)


def termination_term(env: StripeEnv, term_name: str) -> torch.Tensor:
    """1 on the step a given termination term fires (reward a goal, penalise a fall), else 0."""
    return env.termination_manager.get_term(term_name).float()


def heading_to_goal(env: StripeEnv, command_name: str = "goal", threshold: float = 0.8,
                    asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """1 when the base's forward axis points within ``acos(threshold)`` of the goal, less the farther it turns away."""
    robot = env.scene[asset_cfg.name]
    to_goal = env.command_manager.get_term(command_name).pos_command_w[:, :2] - robot.data.root_pos_w.torch[:, :2]
    direction = to_goal / to_goal.norm(dim=1, keepdim=True).clamp(min=1e-6)
    return _alignment_bonus((base_heading(env, asset_cfg) * direction).sum(dim=1), threshold)


def heading_to_target_bonus(env: StripeEnv, target_pos: tuple[float, float, float], threshold: float = 0.8,
                            asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """:func:`heading_to_goal` for a fixed target relative to the env origin: Isaac Lab's ``move_to_target_bonus``
    measured on the heading the policy observes (:func:`heading_to_target`)."""
    return _alignment_bonus(heading_to_target(env, target_pos, asset_cfg)[:, 0], threshold)


def _alignment_bonus(alignment: torch.Tensor, threshold: float) -> torch.Tensor:
    """1 above ``threshold`` (the cosine of the heading error), falling linearly below it."""
    return torch.where(alignment > threshold, 1.0, alignment / threshold)
