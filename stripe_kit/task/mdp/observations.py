"""Observation terms that read the generated scene."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg
from isaaclab.utils.math import euler_xyz_from_quat

if TYPE_CHECKING:
    from ..env import StripeEnv


def nearest_obstacles(env: StripeEnv, count: int = 4, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """The ``count`` nearest obstacles in the robot's heading frame: (forward, left, clearance) each [m].

    Clearance is the distance from the base to the obstacle's surface. Computed from the slot obstacles of each
    environment with a top-k over a few dozen candidates, so it costs a small fraction of a physics step.
    """
    robot = env.scene[asset_cfg.name]
    base = robot.data.root_pos_w.torch
    offsets = env.obstacles.obstacle_positions()[..., :2] - base[:, None, :2]
    clearance = offsets.norm(dim=-1) - env.obstacles.obstacle_radii()
    nearest = torch.topk(clearance, count, dim=1, largest=False).indices
    offsets = torch.gather(offsets, 1, nearest[..., None].expand(-1, -1, 2))
    _, _, yaw = euler_xyz_from_quat(robot.data.root_quat_w.torch)
    cos, sin = torch.cos(yaw)[:, None], torch.sin(yaw)[:, None]
    forward = cos * offsets[..., 0] + sin * offsets[..., 1]
    left = -sin * offsets[..., 0] + cos * offsets[..., 1]
    features = torch.stack([forward, left, torch.gather(clearance, 1, nearest)], dim=-1)
    # far obstacles (parked slots included) carry no information: saturate them
    return features.clamp(-10.0, 10.0).reshape(env.num_envs, -1)


def base_height_above_ground(env: StripeEnv, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Height of the robot base above the generated ground under it [m], shape (num_envs, 1)."""
    base = env.scene[asset_cfg.name].data.root_pos_w.torch
    return (base[:, 2] - env.scene_data.height_at(base[:, :2]))[:, None]
