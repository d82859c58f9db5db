"""Warp twins of :mod:`stripe_kit.task.mdp.rewards`: each writes one value per env into ``out``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import warp as wp
from isaaclab_experimental.managers import SceneEntityCfg

from .terminations import touches_obstacle

if TYPE_CHECKING:
    from ....task.env import StripeEnv


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
