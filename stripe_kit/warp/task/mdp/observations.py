"""Warp twins of :mod:`stripe_kit.task.mdp.observations`: each writes its values per env into ``out``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import warp as wp
from isaaclab.envs.utils.io_descriptors import GenericObservationIODescriptor
from isaaclab_experimental.envs.utils.io_descriptors import generic_io_descriptor_warp, record_dtype, record_shape
from isaaclab_experimental.managers import ManagerTermBase, ObservationTermCfg, SceneEntityCfg

from ....task.kernels import ground_height
from ....task.mdp import observations as torch_terms

if TYPE_CHECKING:
    from ....task.env import StripeEnv
    from ....task.sensors import SceneRayCaster


@wp.func
def heading_of(pose: wp.transformf) -> wp.float32:
    """Yaw of a pose's forward (x) axis [rad], as Isaac Lab's ``heading_w``."""
    forward = wp.quat_rotate(wp.transform_get_rotation(pose), wp.vec3f(1.0, 0.0, 0.0))
    return wp.atan2(forward[1], forward[0])


@wp.func
def walk_heading_error(pose: wp.transformf, direction: wp.vec2f) -> wp.float32:
    """Angle from the walk direction to the base's heading [rad], as :func:`~.observations.walk_heading_angle`."""
    return heading_of(pose) - wp.atan2(direction[1], direction[0])


_FIXED_WALK_DIRECTIONS: WeakKeyDictionary = WeakKeyDictionary()


def walk_direction_array(env: StripeEnv, command_name: str = "walk") -> wp.array:
    """:func:`~stripe_kit.task.mdp.walk_direction` as a Warp array of ``vec2f`` whose memory lives as long as the
    env (a captured step keeps its pointer): a view of the walk command, or the fixed direction of each env."""
    if env.command_manager is not None and command_name in env.command_manager.active_terms:
        return wp.from_torch(env.command_manager.get_command(command_name), dtype=wp.vec2f)
    if env not in _FIXED_WALK_DIRECTIONS:
        fixed = torch_terms.walk_direction(env, command_name).contiguous()
        _FIXED_WALK_DIRECTIONS[env] = (fixed, wp.from_torch(fixed, dtype=wp.vec2f))
    return _FIXED_WALK_DIRECTIONS[env][1]


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


@wp.kernel
def _walk_heading_kernel(root_pose: wp.array(dtype=wp.transformf), direction: wp.array(dtype=wp.vec2f),
                         out: wp.array2d(dtype=wp.float32)):
    e = wp.tid()
    angle = walk_heading_error(root_pose[e], direction[e])
    out[e, 0] = wp.cos(angle)
    out[e, 1] = wp.sin(angle)


@generic_io_descriptor_warp(out_dim=2, observation_type="RootState", on_inspect=[record_shape, record_dtype])
def walk_heading(env: StripeEnv, out, asset_cfg: SceneEntityCfg = SceneEntityCfg("robot")) -> None:
    """Cosine and sine of the angle from the base's heading to the walk direction, shape (num_envs, 2)."""
    wp.launch(_walk_heading_kernel, dim=env.num_envs,
              inputs=[env.scene[asset_cfg.name].data.root_link_pose_w.warp, walk_direction_array(env), out],
              device=env.device)


@wp.kernel
def _copy_rows_kernel(values: wp.array2d(dtype=wp.float32), out: wp.array2d(dtype=wp.float32)):
    e, r = wp.tid()
    out[e, r] = values[e, r]


@wp.kernel
def _height_scan_kernel(pos_w: wp.array(dtype=wp.vec3f), hits_w: wp.array2d(dtype=wp.vec3f), offset: wp.float32,
                        out: wp.array2d(dtype=wp.float32)):
    e, r = wp.tid()
    out[e, r] = pos_w[e][2] - hits_w[e, r][2] - offset


class _RayTerm(ManagerTermBase):
    """A term that casts a :class:`~stripe_kit.task.sensors.SceneRayCaster`'s rays and writes one value per ray.

    The cast happens inside the term (:meth:`SceneRayCaster.cast`), so a captured observation stage replays it;
    the term's width, the sensor's ray count, is known once the env has bound its sensors, so it is declared here
    rather than on a decorator.
    """

    def __init__(self, cfg: ObservationTermCfg, env: StripeEnv):
        super().__init__(cfg, env)
        self.sensor: SceneRayCaster = env.scene.sensors[cfg.params["sensor_cfg"].name]
        self._descriptor = GenericObservationIODescriptor(observation_type="Sensor")
        self._descriptor.extras = {}
        self._descriptor.out_dim = self.sensor.num_rays


class ray_distances(_RayTerm):
    """Distance along each ray of a :class:`~stripe_kit.task.sensors.SceneRayCaster` to what it hit [m], shape
    (num_envs, rays); ``max_distance`` on a miss."""

    def __call__(self, env: StripeEnv, out, sensor_cfg: SceneEntityCfg) -> None:
        self.sensor.cast()
        wp.launch(_copy_rows_kernel, dim=out.shape, inputs=[self.sensor.data.distances.warp, out], device=env.device)


class height_scan(_RayTerm):
    """Height of the sensor above each ray's hit, less ``offset`` [m], shape (num_envs, rays): Isaac Lab's
    ``height_scan`` read from a :class:`~stripe_kit.task.sensors.SceneRayCaster`."""

    def __call__(self, env: StripeEnv, out, sensor_cfg: SceneEntityCfg, offset: float = 0.5) -> None:
        self.sensor.cast()
        data = self.sensor.data
        wp.launch(_height_scan_kernel, dim=out.shape, inputs=[data.pos_w.warp, data.ray_hits_w.warp, float(offset), out],
                  device=env.device)
