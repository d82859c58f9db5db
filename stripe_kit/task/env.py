"""The Isaac Lab environment of a STRIPE-kit task: a manager-based RL env that generates its scene when built.

Building the env config generates nothing. :class:`StripeEnv` generates the scene from the env's seed before
Isaac Lab builds the stage, hands the terrain to Isaac Lab's ``TerrainImporter`` (so terrain-based terms work),
and after the physics model exists binds the per-environment obstacle slots, which follow each robot through the
whole scene (refreshed every policy step and after resets). MDP terms reach the generated scene as
``env.generated_scene`` (device tensors in ``env.scene_data``) and the obstacles in physics as ``env.obstacles``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import MISSING

import numpy as np
import torch
import trimesh
import warp as wp
from isaaclab.assets import AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.terrains import TerrainImporter, TerrainImporterCfg
from isaaclab.terrains.utils import create_prim_from_mesh
from isaaclab.utils import configclass

from ..errors import SpecError
from ..scene.spec import GeneratedScene, SceneSpec
from ..scene.terrain import SceneTerrainGeneratorCfg, stage_terrain
from .kernels import run_stage, warp_view
from .mdp.terminations import physics_diverged
from .obstacle_index import ObstacleIndex
from .obstacles import (
    PHYSX_SIZE_BUCKETS,
    ColliderSlotsCfg,
    ObstacleSlots,
    SlotGroup,
    avoid_ambiguous_body_counts,
    in_size_buckets,
    physx_collider_slots,
    scene_obstacle_index,
    slot_bounds,
    slot_groups,
)
from .robots import check_robot_file, robot_radius
from .scene_data import SceneTensors
from .sensors import SceneRayCaster

OBSTACLES_PRIM = "Obstacles"
"""Name of the per-environment prim holding the obstacle slot colliders."""


def lift_heightfields_to_their_data(physics: object) -> None:
    """Give every Newton height field its lowest point's height in each world's MuJoCo-Warp model.

    Newton 1.6's ``SolverMuJoCo`` shifts a height field's geom by the field's ``min_z`` in the template MuJoCo model,
    but fills MuJoCo-Warp's per-world ``geom_pos`` from ``Model.shape_transform`` without that shift. On a terrain
    whose lowest point lay 0.275 m below zero the ground that robots stood on was 0.275 m above the terrain mesh, so
    robots spawned at the mesh height were launched (1.3 m/s at the first step with zero actions, 2 m of sliding in
    4 s). Writing the shift into the shape transform (``Heightfield.create_from_mesh`` leaves its z at 0) makes
    every world's ground match the mesh. Only MuJoCo's own contacts read that ``geom_pos``; Newton's collision
    pipeline applies ``min_z`` itself, so nothing changes when ``use_mujoco_contacts`` is off.

    Args:
        physics: The env's ``sim.physics`` config.
    """
    if not getattr(getattr(physics, "solver_cfg", None), "use_mujoco_contacts", False):
        return
    from isaaclab_newton.physics.newton_manager import NewtonManager
    from newton import GeoType, ModelFlags

    model = NewtonManager.get_model()
    fields = np.flatnonzero(model.shape_type.numpy() == GeoType.HFIELD)
    if not fields.size:
        return
    transforms = model.shape_transform.numpy()
    for shape in fields:
        transforms[shape][2] = model.shape_source[shape].min_z
    model.shape_transform.assign(transforms)
    NewtonManager.add_model_change(ModelFlags.SHAPE_PROPERTIES)


def physics_backend(physics: object) -> str:
    """``newton`` or ``physx`` for an env's ``sim.physics`` config; anything else fails in one line."""
    from isaaclab.physics import PhysxAutoCfg
    from isaaclab_newton.physics import NewtonCfg
    from isaaclab_physx.physics import PhysxCfg

    if isinstance(physics, NewtonCfg):
        return "newton"
    physx_types = (PhysxAutoCfg, PhysxCfg)
    try:
        from isaaclab_ov.physics import OvPhysxCfg

        physx_types += (OvPhysxCfg,)
    except ImportError:  # ovphysx not installed: Isaac Sim's PhysX only
        pass
    if isinstance(physics, physx_types):
        return "physx"
    raise SpecError("sim.physics", type(physics).__name__,
                    "NewtonCfg (physics='newton') or PhysxAutoCfg, PhysxCfg, OvPhysxCfg (physics='physx')")


def uses_ovphysx(physics: object) -> bool:
    """Whether a PhysX ``sim.physics`` config runs on the ``ovphysx`` wheel here: an ``OvPhysxCfg``, or a
    ``PhysxAutoCfg`` with an ovphysx choice outside Isaac Sim (inside Kit it resolves to Isaac Sim's PhysX)."""
    from isaaclab.physics import PhysxAutoCfg
    from isaaclab.utils.version import has_kit

    if isinstance(physics, PhysxAutoCfg):
        return physics.ovphysx is not None and not has_kit()
    try:
        from isaaclab_ov.physics import OvPhysxCfg
    except ImportError:
        return False
    return isinstance(physics, OvPhysxCfg)


def check_cpu_for_ovphysx(cpuinfo: str, machine: str) -> None:
    """Fail in one line where kitless PhysX cannot run: an x86-64 CPU whose flags lack AVX, which ovphysx's
    library needs (without it the process dies on an illegal instruction, deep in the physics start).

    Args:
        cpuinfo: The text of ``/proc/cpuinfo`` (its ``flags`` lines are read; none: nothing to check).
        machine: ``platform.machine()``; other architectures than x86-64 are not checked.
    """
    if machine.lower() not in ("x86_64", "amd64"):
        return
    flags = [value.split() for key, _, value in (line.partition(":") for line in cpuinfo.splitlines())
             if key.strip() == "flags"]
    if flags and not all("avx" in cpu for cpu in flags):
        raise SpecError("sim.physics", "physx", "'newton' on this CPU: kitless PhysX (ovphysx) needs AVX, which the "
                        "flags of /proc/cpuinfo lack")


def check_this_cpu_for_ovphysx() -> None:
    """:func:`check_cpu_for_ovphysx` for this machine (Linux: ``/proc/cpuinfo``; elsewhere nothing is checked)."""
    import platform
    from pathlib import Path

    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        check_cpu_for_ovphysx(cpuinfo.read_text(errors="replace"), platform.machine())


OVPHYSX_LIBRARIES = ("libGL.so.1",)
"""System libraries that ovstage's ``libovstage.so`` loads (Linux): without ``libGL.so.1`` (Mesa's ``libgl1``) it
fails deep in Isaac Lab's PhysX start with ``ovstage_create_instance failed during version probe (code 99)``, as on
the H200 machine of 2026-12-01."""


def check_libraries_for_ovphysx(load: Callable[[str], object] | None = None) -> None:
    """Fail in one line where kitless PhysX cannot load: a system library ovstage needs is missing (Linux only).

    Args:
        load: Loads a shared library by name, raising ``OSError`` when it is missing; ``ctypes.CDLL`` when None.
    """
    import sys

    if not sys.platform.startswith("linux"):
        return
    if load is None:
        import ctypes

        load = ctypes.CDLL
    for library in OVPHYSX_LIBRARIES:
        try:
            load(library)
        except OSError:
            raise SpecError("sim.physics", "physx", f"'newton' on this machine: kitless PhysX (ovstage) needs "
                            f"{library}, which is not installed (Debian/Ubuntu: apt-get install libgl1)") from None


def allow_cpu_warp_without_cuda() -> None:
    """Let ovphysx run on a machine without a CUDA driver.

    ``isaaclab_ov`` allocates Warp's pinned CPU memory, which needs the CUDA driver ("Failed to allocate 16 bytes
    on device 'cpu'" without it); with no CUDA, plain CPU memory is what pinned memory would be, so the CPU device's
    pinned allocator becomes its default one. Nothing changes where CUDA is available.
    """
    import warp as wp

    wp.init()
    if not wp.is_cuda_available():
        cpu = wp.get_device("cpu")
        cpu.pinned_allocator = cpu.default_allocator


def check_command_ranges(commands: object | None, field: str = "commands") -> None:
    """Fail in one line, naming the field, when a command term's range has min > max (or is not a pair of numbers).

    Checked: every field of each term's ``ranges`` (Isaac Lab's ``UniformVelocityCommandCfg.Ranges``:
    ``lin_vel_x``, ``lin_vel_y``, ``ang_vel_z``, ``heading``; pose ranges alike) and each field of the term named
    ``*_range`` (``resampling_time_range``, ``SceneGoalCommandCfg.distance_range`` ...) that holds a pair; None is
    left alone (an unused heading range). Isaac Lab would draw from such a range with ``uniform_(max, min)``, which
    fails mid-reset or, on some devices, samples outside it silently.

    Args:
        commands: The ``@configclass`` of command term configs, or None.
        field: Name of the commands config in the message.
    """
    from isaaclab.managers import CommandTermCfg

    for name, term in _config_items(commands):
        if not isinstance(term, CommandTermCfg):
            continue
        ranges = [(f"{field}.{name}.ranges.{key}", value) for key, value in _config_items(getattr(term, "ranges", None))]
        ranges += [(f"{field}.{name}.{key}", value) for key, value in _config_items(term) if key.endswith("_range")]
        for range_field, value in ranges:
            if not isinstance(value, (tuple, list)):
                continue
            numbers = len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            if not numbers or math.isnan(value[0]) or math.isnan(value[1]) or value[0] > value[1]:
                # infinite ends are fine: Isaac Lab's NullCommandCfg never resamples with (inf, inf)
                raise SpecError(range_field, tuple(value), "a pair (min, max) with min <= max")


def _config_items(config: object | None) -> list[tuple[str, object]]:
    """The (name, value) fields of a ``@configclass`` instance; none for None, a class or a plain value."""
    if config is None or isinstance(config, type) or not hasattr(config, "__dict__"):
        return []
    return [(key, value) for key, value in vars(config).items() if not key.startswith("_")]


class SceneTerrainImporter(TerrainImporter):
    """Isaac Lab's terrain importer, with the ground in blocks.

    - **Blocks.** A terrain wider than :attr:`HEIGHTFIELD_BLOCK` is imported as a grid of meshes, each tagged for
      its own Newton height field. MuJoCo-Warp collides a height field in the field's own frame in float32; robots
      over 100 m from the centre of one large field were flung off at reset (measured on CPU on a 256 m terrain;
      the dense-forest GPU run diverged the same way), while a 64 m block keeps every robot within 46 m of its centre.
    """

    HEIGHTFIELD_BLOCK = 64.0
    """Largest side of one ground block [m]."""

    def __init__(self, cfg: TerrainImporterCfg):
        self._blocks: list[str] = []  # prim paths of the ground blocks, filled by import_mesh during __init__
        super().__init__(cfg)

    def import_mesh(self, name: str, mesh: trimesh.Trimesh):
        """Import the mesh as Isaac Lab does, or as blocks of at most :attr:`HEIGHTFIELD_BLOCK` per side.

        Blocks split at lines of the terrain's grid, and every triangle goes whole to the block holding its centre,
        so the blocks tile the ground without gaps or overlaps.
        """
        low, high = mesh.bounds[0, :2], mesh.bounds[1, :2]
        counts = np.ceil((high - low) / self.HEIGHTFIELD_BLOCK).astype(int)
        if name != "terrain" or counts.max() <= 1:
            super().import_mesh(name, mesh)
            return
        prim_path = f"{self.cfg.prim_path}/{name}"
        self.terrain_prim_paths.append(prim_path)
        cell = self.cfg.terrain_generator.horizontal_scale
        centres = mesh.triangles_center[:, :2]
        block = []
        for axis in range(2):
            edges = np.round(np.arange(1, counts[axis]) * (high[axis] - low[axis]) / counts[axis] / cell) * cell
            block.append(np.searchsorted(low[axis] + edges, centres[:, axis]))
        for i, j in np.ndindex(*counts):
            faces = np.flatnonzero((block[0] == i) & (block[1] == j))
            if faces.size:
                self._blocks.append(f"{prim_path}/block_{i}_{j}")
                create_prim_from_mesh(self._blocks[-1], mesh.submesh([faces], append=True),
                                      visual_material=self.cfg.visual_material,
                                      physics_material=self.cfg.physics_material)

    def _tag_heightfield_collider(self, prim_path: str, horizontal_scale: float):
        """Tag each ground block for its own height field (or the whole terrain when it is one block)."""
        for path in self._blocks or [prim_path]:
            super()._tag_heightfield_collider(path, horizontal_scale)


@configclass
class StripeSceneCfg(InteractiveSceneCfg):
    """Interactive scene of a STRIPE-kit task: generated terrain, obstacle slots, plus the robot and sensors."""

    terrain: TerrainImporterCfg = TerrainImporterCfg(
        class_type=SceneTerrainImporter, prim_path="/World/ground", terrain_type="generator", max_init_terrain_level=0,
        debug_vis=False,
    )
    """Ground; its generator is filled in from the scene spec when the env is built."""
    obstacles: AssetBaseCfg = AssetBaseCfg(prim_path="{ENV_REGEX_NS}/" + OBSTACLES_PRIM, spawn=ColliderSlotsCfg())
    """Static collider slots of each environment, moved onto the scene's obstacles around its robot."""


@configclass
class StripeEnvCfg(ManagerBasedRLEnvCfg):
    """Env config of a STRIPE-kit task: an Isaac Lab manager-based config plus the scene spec to generate."""

    scene_spec: SceneSpec = MISSING
    """Generator of the scene, run when the env is built."""
    scene: StripeSceneCfg = MISSING
    obstacle_reach: float | None = None
    """Distance from a robot's root within which every obstacle collides [m]; None: the robot's horizontal radius
    plus ``robot_top_speed`` times the policy step (see :class:`~stripe_kit.task.SimSettings`)."""
    robot_top_speed: float = 5.0
    """Fastest a robot's root is expected to move [m/s], for the default reach."""
    obstacle_slots: dict[str, int] | None = None
    """Newton: collider slots per kind in each env; None: as many as the scene needs within the reach."""
    physx_size_buckets: int = PHYSX_SIZE_BUCKETS
    """PhysX: size buckets per collider kind (see :class:`~stripe_kit.task.SimSettings`)."""
    manager_call_config: dict[str, int] | None = None
    """Isaac Lab's Warp frontend only: how each manager's stages run (0 torch, 1 Warp, 2 Warp captured in CUDA
    graphs; Isaac Lab's ``MANAGER_CALL_CONFIG``). None: captured on CUDA; on a CPU, where Isaac Lab's captured path
    fails (``docs/isaaclab-warp-frontend-cpu.md``), Warp without capture, unless ``MANAGER_CALL_CONFIG`` says."""


def divergence_terms(env: ManagerBasedRLEnv, funcs: Sequence = (physics_diverged,)) -> list[str]:
    """Names of the env's termination terms that end a diverged simulation: those whose function is one of
    ``funcs`` (:func:`~.mdp.physics_diverged`, and its Warp twin on the Warp frontend), read from the env's config,
    which both frontends' termination managers are built from."""
    return [name for name in env.termination_manager.active_terms
            if getattr(env.cfg.terminations, name).func in funcs]


def zero_rewards_of_diverged(env: ManagerBasedRLEnv, terms: Sequence[str]) -> None:
    """Zero this step's reward of robots that a divergence term ended, and their logged episode sums, so their NaN
    reaches neither the learner nor the logs (the reset that follows restores their state)."""
    if getattr(env, "reward_buf", None) is None:  # set by the first step, not by the initial reset
        return
    for name in terms:
        diverged = env.termination_manager.get_term(name)
        env.reward_buf.masked_fill_(diverged, 0.0)
        # Isaac Lab keeps the per-term episode sums it logs at reset in this dict
        for episode_sum in env.reward_manager._episode_sums.values():
            episode_sum.masked_fill_(diverged, 0.0)


class StripeEnvMixin:
    """What a STRIPE-kit env adds to Isaac Lab's manager-based RL env, on either frontend: the scene generated at
    construction from the env's seed, the obstacles that follow the robots and the sensors that see them.

    Mixed before the env class: :class:`StripeEnv` (Isaac Lab's torch managers) and
    :class:`~stripe_kit.warp.env.StripeEnvWarp` (its Warp frontend).
    """

    cfg: StripeEnvCfg
    divergence_funcs: tuple = (physics_diverged,)
    """Termination functions that end a diverged simulation, whose robots' rewards are zeroed at their reset."""

    def __init__(self, cfg: StripeEnvCfg, render_mode: str | None = None, **kwargs):
        backend = physics_backend(cfg.sim.physics)
        check_robot_file(cfg.scene.robot, "scene.robot")
        check_command_ranges(cfg.commands)
        if backend == "physx":
            if uses_ovphysx(cfg.sim.physics):
                check_this_cpu_for_ovphysx()
                check_libraries_for_ovphysx()
            allow_cpu_warp_without_cuda()
        seed = cfg.seed if cfg.seed is not None else cfg.scene_spec.seed
        self.generated_scene: GeneratedScene = cfg.scene_spec.generate(seed)
        """The scene this env runs in: terrain, instances, colliders, spawn points and any extra data. On PhysX its
        capsules and spheres have the sizes of their size buckets, as PhysX holds them."""
        if backend == "physx":
            self.generated_scene.colliders = in_size_buckets(self.generated_scene.colliders, cfg.physx_size_buckets)
        key = f"{cfg.scene_spec.name}-{seed}-{id(self)}"
        stage_terrain(key, self.generated_scene.terrain)
        cfg.scene.terrain.terrain_generator = SceneTerrainGeneratorCfg(
            terrain_key=key, seed=seed, **cfg.scene_spec.terrain.generator_fields()
        )
        self.obstacle_index: ObstacleIndex = scene_obstacle_index(self.generated_scene, self.obstacle_reach(cfg),
                                                                  cfg.sim.device)
        """Every slot obstacle of the scene by grid cell, listed within the obstacle reach of each cell."""
        if backend == "physx":
            groups = avoid_ambiguous_body_counts(slot_groups(self.generated_scene, self.obstacle_index, by_size=True))
            cfg.scene.obstacles = physx_collider_slots(groups, root="{ENV_REGEX_NS}/" + OBSTACLES_PRIM)
        else:
            groups = slot_groups(self.generated_scene, self.obstacle_index, cfg.obstacle_slots)
            slots = {group.kind: group.count for group in groups}
            cfg.scene.obstacles.spawn = cfg.scene.obstacles.spawn.replace(slots=slots,
                                                                          **slot_bounds(self.generated_scene))
        self.slot_groups: list[SlotGroup] = groups
        """Obstacle slot groups of every env: one per kind on Newton, one per kind and size bucket on PhysX."""
        self.obstacles: ObstacleSlots | None = None
        """Per-environment obstacle colliders around each robot, bound once the physics model exists."""
        self.scene_data: SceneTensors | None = None
        """The generated scene as device tensors (ground heights, tile difficulty, spawn points)."""
        self._reset_mask: torch.Tensor | None = None
        super().__init__(cfg, render_mode, **kwargs)

    def load_managers(self):
        """Bind the obstacle slots to the physics model, and set its ground right, before the managers run."""
        if physics_backend(self.cfg.sim.physics) == "newton":
            lift_heightfields_to_their_data(self.cfg.sim.physics)
        self.scene_data = SceneTensors(self.generated_scene, self.device)
        self.obstacles = ObstacleSlots(self, self.generated_scene, self.obstacle_index, self.slot_groups,
                                       OBSTACLES_PRIM)
        self.obstacles.follow()
        for name, sensor in self.scene.sensors.items():
            if isinstance(sensor, SceneRayCaster):
                sensor.bind(self, name)
        try:
            super().load_managers()
        except (ValueError, KeyError) as error:
            # Isaac Lab names the term in its message; keep that, on one line, without the stack below it
            detail = " ".join(str(error).split())
            term, _, problem = detail.removeprefix("Error while parsing ").partition(". ")
            raise SpecError(f"TrainingSpec term {term}", term, "an existing scene entity or body", problem or detail) from None
        self._check_observations_finite()
        self._divergence_terms = divergence_terms(self, self.divergence_funcs)

    def _check_observations_finite(self) -> None:
        """Fail at build, naming the term, when an observation term produces NaN or infinity."""
        manager = self.observation_manager
        observations = manager.compute()
        for group, names in manager.active_terms.items():
            values = observations[group]
            if not isinstance(values, torch.Tensor):
                values = torch.cat([values[name].reshape(self.num_envs, -1) for name in names], dim=1)
            start = 0
            for name, dims in zip(names, manager.group_obs_term_dim[group]):
                width = int(torch.tensor(dims).prod())
                if not torch.isfinite(values[:, start:start + width]).all():
                    raise SpecError(f"observations.{group}.{name}", "NaN or infinite values", "finite observations")
                start += width

    @staticmethod
    def obstacle_reach(cfg: StripeEnvCfg) -> float:
        """The obstacle reach of a config: its own, or the robot's radius plus its top speed times the policy step."""
        if cfg.obstacle_reach is not None:
            return cfg.obstacle_reach
        return robot_radius(cfg.scene.robot) + cfg.robot_top_speed * cfg.sim.dt * cfg.decimation

    def step(self, action: torch.Tensor):
        """Step as Isaac Lab does, with every obstacle within reach of each robot in its world for this step."""
        self._follow_obstacles()
        return super().step(action)

    def _reset_idx(self, env_ids, **kwargs):
        """Reset as Isaac Lab does, then put the obstacles around the robots where the reset placed them.

        Robots whose simulation diverged (``physics_diverged``) get zero reward for this step, so their NaN reaches
        neither the learner nor the logged episode sums; the reset below restores their state.
        """
        self._zero_rewards_of_diverged()
        super()._reset_idx(env_ids, **kwargs)  # the Warp frontend passes its reset mask too
        self._follow_obstacles()

    def _follow_obstacles(self) -> None:
        """Put the obstacles around the robots (one kernel launch; on the Warp frontend a captured stage)."""
        run_stage(self, "Obstacles_follow", self.obstacles.follow)

    def _zero_rewards_of_diverged(self) -> None:
        zero_rewards_of_diverged(self, self._divergence_terms)

    def reset_mask(self, env_ids: Sequence[int] | torch.Tensor | slice | None) -> wp.array:
        """The envs being reset as a Warp bool mask over all envs, for terms that reset them in one fixed-shape kernel
        launch (a captured stage on the Warp frontend). Valid while the env resets them (in ``_reset_idx``): there the
        Warp frontend's own reset mask holds them; here a mask is filled from ``env_ids``."""
        if self._reset_mask is None:
            self._reset_mask = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        self._reset_mask.zero_()
        self._reset_mask[self.env_id_tensor(env_ids)] = True
        return warp_view(self._reset_mask, wp.bool)

    def env_id_tensor(self, env_ids: Sequence[int] | torch.Tensor | slice | None) -> torch.Tensor:
        """Environment ids as a long tensor on the sim device (Isaac Lab passes lists, tensors or slices)."""
        if env_ids is None or isinstance(env_ids, slice):
            return torch.arange(self.num_envs, device=self.device)[env_ids if env_ids is not None else slice(None)]
        return torch.as_tensor(env_ids, device=self.device, dtype=torch.long)


class StripeEnv(StripeEnvMixin, ManagerBasedRLEnv):
    """Manager-based RL env whose scene is generated at construction, from the env's seed."""
