"""Ray-cast sensors that see the generated scene: its ground, of any size, and every obstacle around the robot.

Isaac Lab's ``RayCaster`` casts against one ground mesh (at most 64 m here, see ``SceneTerrainImporter``) and sees
none of the obstacles, which live in per-env collider slots. :class:`SceneRayCaster` casts against the scene
itself: the ground's height grid and the primitive colliders (capsules, spheres) that a spatial index lists
within the sensor's reach, in one Warp kernel over every env and ray. Its config speaks Isaac Lab's ray-caster
vocabulary (``offset``, ``ray_alignment``, ``pattern_cfg``, ``max_distance``), its data has the fields Isaac Lab's
``height_scan`` observation reads, and it takes Isaac Lab's patterns: ``GridPatternCfg`` for a height scan,
:class:`RingPatternCfg` for a horizontal ring of range rays (a 2D lidar).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import MISSING
from typing import TYPE_CHECKING, Literal

import torch
import warp as wp
from isaaclab.sensors import SensorBase, SensorBaseCfg
from isaaclab.sensors.ray_caster.patterns import PatternBaseCfg
from isaaclab.utils import configclass
from isaaclab.utils.warp import ProxyArray

from ..errors import SpecError, check_number
from .kernels import cast_scene_rays_kernel

if TYPE_CHECKING:
    from .env import StripeEnv

ALIGNMENTS = {"world": 0, "yaw": 1, "base": 2}
"""Ray alignment modes, as Isaac Lab's ``RayCasterCfg.ray_alignment``."""


def ring_pattern(cfg: RingPatternCfg, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Ray starts (all at the sensor) and directions of a horizontal ring, evenly over the field of view."""
    fov = math.radians(cfg.fov_deg)
    full = math.isclose(cfg.fov_deg, 360.0)
    # a full circle does not repeat its first ray at its end
    angles = torch.linspace(-fov / 2, fov / 2, cfg.count + (1 if full else 0), device=device)[: cfg.count]
    if cfg.count == 1:
        angles = torch.zeros(1, device=device)
    directions = torch.stack([torch.cos(angles), torch.sin(angles), torch.zeros_like(angles)], dim=1)
    return torch.zeros_like(directions), directions


@configclass
class RingPatternCfg(PatternBaseCfg):
    """A horizontal ring of rays in the sensor frame: a 2D lidar. Ray 0 points to the right end of the view."""

    func: Callable = ring_pattern
    count: int = 32
    """Number of rays."""
    fov_deg: float = 360.0
    """Field of view [deg], centred on the sensor's forward axis."""


class SceneRayCasterData:
    """What a :class:`SceneRayCaster` measured, as Isaac Lab's ``RayCasterData`` (``.torch`` / ``.warp`` views)."""

    def __init__(self, num_envs: int, num_rays: int, device: str):
        self._pos_w = wp.zeros(num_envs, dtype=wp.vec3f, device=device)
        self._quat_w = wp.zeros(num_envs, dtype=wp.quatf, device=device)
        self._ray_hits_w = wp.zeros((num_envs, num_rays), dtype=wp.vec3f, device=device)
        self._distances = wp.zeros((num_envs, num_rays), dtype=wp.float32, device=device)
        self.pos_w = ProxyArray(self._pos_w)
        """Position of the body the sensor is attached to [m], (num_envs, 3), as Isaac Lab's ray caster reports it
        (the offset moves the rays, not this)."""
        self.quat_w = ProxyArray(self._quat_w)
        """Orientation (x, y, z, w) of that body in the world, (num_envs, 4)."""
        self.ray_hits_w = ProxyArray(self._ray_hits_w)
        """Hit point of each ray in the world [m], (num_envs, num_rays, 3); a miss ends at ``max_distance``."""
        self.distances = ProxyArray(self._distances)
        """Distance along each ray to its hit [m], (num_envs, num_rays); ``max_distance`` on a miss."""


class SceneRayCaster(SensorBase):
    """Rays from a robot body against the generated ground and the scene's obstacles (see the module docstring).

    The env binds it once the physics model exists (:meth:`bind`); the data is computed lazily, at most once per
    step, when read, or now by :meth:`cast` (what a captured step replays). A sensor on the robot's root body casts
    from the root pose Isaac Lab writes and the physics steps (always current, resets included); on another body,
    from Isaac Lab's body poses, which its forward kinematics refresh after a reset.
    """

    cfg: SceneRayCasterCfg

    def __init__(self, cfg: SceneRayCasterCfg):
        super().__init__(cfg)
        self._env: StripeEnv | None = None
        self._data: SceneRayCasterData | None = None

    @property
    def data(self) -> SceneRayCasterData:
        self._update_outdated_buffers()
        return self._data

    @property
    def num_rays(self) -> int:
        """Rays per env."""
        return self._ray_starts.shape[0]

    def bind(self, env: StripeEnv, name: str) -> None:
        """Attach to the env's robot, ground and obstacles; fail in one line on a bad setting.

        Args:
            env: The env whose scene the rays see.
            name: The sensor's scene-entity name, for error messages.
        """
        from .obstacles import scene_obstacle_index

        cfg = self.cfg
        field = f"sensors.{name}"
        check_number(f"{field}.max_distance", cfg.max_distance, 0.0, 1.0e4, low_open=True)
        if cfg.ray_alignment not in ALIGNMENTS:
            raise SpecError(f"{field}.ray_alignment", cfg.ray_alignment, f"one of {', '.join(ALIGNMENTS)}")
        if cfg.asset_name not in env.scene.keys():
            raise SpecError(f"{field}.asset_name", cfg.asset_name, f"a scene entity ({', '.join(env.scene.keys())})")
        robot = env.scene[cfg.asset_name]
        if cfg.body_name is None:
            self._body = 0
        else:
            ids, names = robot.find_bodies(cfg.body_name) if cfg.body_name in robot.body_names else ([], [])
            if len(ids) != 1:
                raise SpecError(f"{field}.body_name", cfg.body_name, f"one body of '{cfg.asset_name}' "
                                f"({', '.join(robot.body_names)})")
            self._body = int(ids[0])
        starts, directions = cfg.pattern_cfg.func(cfg.pattern_cfg, env.device)
        if len(directions) == 0:
            raise SpecError(f"{field}.pattern_cfg", type(cfg.pattern_cfg).__name__, "a pattern with at least one ray")
        self._ray_starts = wp.from_torch(starts.float().contiguous(), dtype=wp.vec3f)
        self._ray_directions = wp.from_torch(directions.float().contiguous(), dtype=wp.vec3f)
        # farthest any ray's hit can lie from the sensor on the ground plane: the obstacles to list around it
        offset = torch.tensor(cfg.offset.pos, device=env.device)
        if cfg.ray_alignment == "base":
            reach = (starts + offset).norm(dim=1) + cfg.max_distance
        else:
            reach = (starts[:, :2] + offset[:2]).norm(dim=1) + cfg.max_distance * directions[:, :2].norm(dim=1)
        self.index = scene_obstacle_index(env.generated_scene, max(float(reach.max()), 0.05), env.device,
                                          field=f"{field}.max_distance")
        """Obstacles listed within the sensor's reach of every cell."""
        terrain = env.generated_scene.terrain
        self._heights = wp.array(terrain.heights.astype("float32"), dtype=wp.float32, device=env.device)
        self._ground = (float(terrain.x0), float(terrain.y0), float(terrain.resolution))
        self._robot = robot
        self._env = env
        self._data = SceneRayCasterData(env.num_envs, len(directions), env.device)
        self._data_dirty = True

    def cast(self) -> None:
        """Cast every env's rays now: fixed-shape kernel launches without a host synchronisation, so a captured
        step that calls this replays the cast (reading :attr:`data` in a capture records it only when it is due)."""
        self._update_outdated_buffers(force_recompute=True)

    def _initialize_impl(self):
        """Device, env count and timestamps, as every Isaac Lab sensor; the rest waits for :meth:`bind`."""
        super()._initialize_impl()

    def _update_buffers_impl(self, env_mask: wp.array):
        """Cast every env's rays (all envs: one fixed-shape launch is cheaper than selecting the due ones)."""
        if self._env is None:
            raise RuntimeError(f"{type(self).__name__} is read before the env bound it")
        obstacles, index = self._env.obstacles, self.index
        cfg = self.cfg
        data = self._robot.data
        body_pose = data.root_link_pose_w.warp if self._body == 0 else data.body_link_pose_w.warp[:, self._body]
        wp.launch(
            cast_scene_rays_kernel,
            dim=(self._env.num_envs, self.num_rays),
            inputs=[
                body_pose, wp.vec3f(*cfg.offset.pos),
                wp.quatf(*cfg.offset.rot), ALIGNMENTS[cfg.ray_alignment], self._ray_starts, self._ray_directions,
                float(cfg.max_distance), self._heights, *self._ground, wp.vec2f(*index.origin), index.cell,
                index.nx, index.ny, index.cell_start, index.cell_items, obstacles.obstacle_pose,
                obstacles.obstacle_size,
            ],
            outputs=[self._data._pos_w, self._data._quat_w, self._data._ray_hits_w, self._data._distances],
            device=self._device,
        )

    def reset(self, env_ids: Sequence[int] | None = None, env_mask: wp.array | None = None):
        super().reset(env_ids, env_mask)
        self._data_dirty = True


@configclass
class SceneRayCasterCfg(SensorBaseCfg):
    """Config of :class:`SceneRayCaster`: rays from a robot body against the generated ground and obstacles."""

    @configclass
    class OffsetCfg:
        """Pose of the sensor frame in the body frame."""

        pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
        """Translation [m]."""
        rot: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
        """Rotation (x, y, z, w)."""

    class_type: type = SceneRayCaster
    prim_path: str = "{ENV_REGEX_NS}/Robot"
    """The robot's prim expression (one sensor per env)."""
    asset_name: str = "robot"
    """Scene entity of the robot carrying the sensor."""
    body_name: str | None = None
    """Body the sensor is attached to; None: the root body."""
    offset: OffsetCfg = OffsetCfg()
    ray_alignment: Literal["base", "yaw", "world"] = "yaw"
    """Turn the rays with the sensor ('base'), with its yaw only ('yaw', for height scans and level rings) or not."""
    pattern_cfg: PatternBaseCfg = MISSING
    """Ray pattern: Isaac Lab's ``GridPatternCfg`` (height scan), :class:`RingPatternCfg` (range ring), or any."""
    max_distance: float = 100.0
    """Longest ray [m]. Obstacles are looked up as far from the sensor as a ray reaches on the ground plane, so
    keep it near the range a horizontal ring needs (a downward height scan reaches no farther than its grid)."""
