"""Warp twins of :mod:`stripe_kit.task.mdp.observations`: each writes its values per env into ``out``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import warp as wp
from isaaclab_experimental.envs.utils.io_descriptors import generic_io_descriptor_warp, record_dtype, record_shape
from isaaclab_experimental.managers import SceneEntityCfg

from ....task.kernels import ground_height

if TYPE_CHECKING:
    from ....task.env import StripeEnv


@wp.kernel
def _base_height_above_ground_kernel(root_pos: wp.array(dtype=wp.vec3f), heights: wp.array2d(dtype=wp.float32),
                                     x0: wp.float32, y0: wp.float32, resolution: wp.float32,
                                     out: wp.array2d(dtype=wp.float32)):
    e = wp.tid()
    p = root_pos[e]
    out[e, 0] = p[2] - ground_height(heights, x0, y0, resolution, p[0], p[1])


@generic_io_descriptor_warp(out_dim=1, units="m", observation_type="RootState", on_inspect=[record_shape, record_dtype])
def base_height_above_ground(env: StripeEnv, out, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Height of the robot base above the generated ground under it [m], shape (num_envs, 1)."""
    scene = env.scene_data
    wp.launch(_base_height_above_ground_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_pos_w.warp, scene.heights_wp, *scene.grid, out],
              device=env.device)
