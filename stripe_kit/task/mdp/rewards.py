"""Reward terms that read the generated scene."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from isaaclab.managers import SceneEntityCfg

if TYPE_CHECKING:
    from ..env import StripeEnv


def obstacle_proximity(env: StripeEnv, body_radius: float, margin: float = 0.3,
                       asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Penalty rising from 0 to 1 as the base comes within ``margin`` of touching an obstacle (use a negative weight)."""
    base = env.scene[asset_cfg.name].data.root_pos_w.torch
    distance = (env.obstacles.obstacle_positions()[..., :2] - base[:, None, :2]).norm(dim=-1)
    gap = distance - env.obstacles.obstacle_radii() - body_radius
    return torch.clamp(1.0 - gap / margin, 0.0, 1.0).amax(dim=1)


def progress_along(env: StripeEnv, direction: tuple[float, float] = (1.0, 0.0),
                   asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> torch.Tensor:
    """Base velocity along a world direction [m/s]: rewards walking that way through the scene."""
    velocity = env.scene[asset_cfg.name].data.root_lin_vel_w.torch[:, :2]
    heading = torch.tensor(direction, device=env.device, dtype=velocity.dtype)
    return velocity @ (heading / heading.norm())
