"""Scene obstacles in physics: a fixed number of static primitive colliders per environment.

Every environment owns a few static capsules and spheres (the *slots*). When an environment is placed on a tile,
its slots are moved onto the obstacles of the generated scene nearest to its spawn point, by writing Newton's
per-world shape transforms and sizes; unused slots are parked far below the ground. The physics therefore sees a
dozen cheap primitives per world, whatever the size of the forest, instead of thousands of prims (STRIPE-kit
v0.3) or obstacles folded into the height field (measured at 0.37x of flat on the H100).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from isaaclab.sim.spawners.spawner_cfg import SpawnerCfg
from isaaclab.sim.utils import clone, create_prim, get_current_stage
from isaaclab.utils import configclass
from pxr import Usd, UsdGeom, UsdPhysics
from scipy.spatial import cKDTree

from ..errors import SpecError
from ..scene.assets import CAPSULE, SPHERE

if TYPE_CHECKING:
    from ..scene.spec import GeneratedScene
    from .env import StripeEnv

SLOT_KINDS: dict[str, str] = {CAPSULE: "Capsule", SPHERE: "Sphere"}
"""Collider kinds that have slots, and the USD prim type of their slots."""

PARKED_DEPTH = -50.0
"""Height [m] at which unused slots wait, far below any terrain."""


@clone
def spawn_collider_slots(
    prim_path: str,
    cfg: ColliderSlotsCfg,
    translation: tuple[float, float, float] | None = None,
    orientation: tuple[float, float, float, float] | None = None,
    **kwargs,
) -> Usd.Prim:
    """Author the slot colliders of one environment: static capsules and spheres, parked below the ground."""
    stage = get_current_stage()
    root = create_prim(prim_path, prim_type="Xform", translation=translation, orientation=orientation, stage=stage)
    # authored at the largest size a slot takes: the broadphase bounds (MuJoCo's geom_rbound) come from it
    sizes = {
        CAPSULE: {"radius": cfg.capsule_radius, "height": 2 * cfg.capsule_half_height, "axis": "Z"},
        SPHERE: {"radius": cfg.sphere_radius},
    }
    for kind, prim_type in SLOT_KINDS.items():
        for index in range(cfg.slots[kind]):
            path = f"{prim_path}/{prim_type}_{index}"
            create_prim(path, prim_type, translation=(0.0, 0.0, PARKED_DEPTH - index), attributes=sizes[kind], stage=stage)
            UsdPhysics.CollisionAPI.Apply(stage.GetPrimAtPath(path))
            UsdGeom.Imageable(stage.GetPrimAtPath(path)).CreatePurposeAttr(UsdGeom.Tokens.guide)
    return root


@configclass
class ColliderSlotsCfg(SpawnerCfg):
    """Spawner of the per-environment obstacle slots."""

    func: Callable = spawn_collider_slots
    slots: dict[str, int] = {CAPSULE: 8, SPHERE: 4}
    """Slots per collider kind and environment: how many of the obstacles nearest the spawn point collide."""
    capsule_radius: float = 0.5
    """Largest capsule radius a slot takes [m]; set from the generated scene when the env is built."""
    capsule_half_height: float = 2.0
    """Largest capsule half-height a slot takes [m]; set from the generated scene when the env is built."""
    sphere_radius: float = 1.0
    """Largest sphere radius a slot takes [m]; set from the generated scene when the env is built."""


def slot_bounds(scene: GeneratedScene) -> dict[str, float]:
    """The largest sizes the slots take in ``scene``, as :class:`ColliderSlotsCfg` fields."""
    colliders = scene.colliders
    capsules, spheres = colliders.sizes[colliders.kind == CAPSULE], colliders.sizes[colliders.kind == SPHERE]
    return {
        "capsule_radius": float(capsules[:, 0].max(initial=0.01)),
        "capsule_half_height": float(capsules[:, 1].max(initial=0.01)),
        "sphere_radius": float(spheres[:, 0].max(initial=0.01)),
    }


class ObstacleSlots:
    """Moves each environment's collider slots onto the scene obstacles around its spawn point.

    The nearest obstacles of every tile are computed once with a KD-tree; a reset then costs one gather and one
    write into Newton's shape arrays for the reset environments.
    """

    def __init__(self, env: StripeEnv, scene: GeneratedScene, slots_root: str):
        from isaaclab_newton.physics import NewtonManager

        self._env = env
        self._manager = NewtonManager
        model = NewtonManager.get_model()
        self.device = env.device
        self._transforms = _as_torch(model.shape_transform)
        self._scales = _as_torch(model.shape_scale)
        labels = list(model.shape_label)
        num_envs = env.num_envs
        self.slots = env.cfg.scene.obstacles.spawn.slots
        self._placed_tile = torch.full((num_envs, 2), -1, dtype=torch.long, device=self.device)
        self.shape_ids: dict[str, torch.Tensor] = {}
        self.tile_obstacles: dict[str, torch.Tensor] = {}
        self._poses: dict[str, torch.Tensor] = {}
        self._sizes: dict[str, torch.Tensor] = {}
        colliders = scene.colliders
        spawn_xy = scene.spawn_points[..., :2].reshape(-1, 2)
        rows, cols = scene.spawn_points.shape[:2]
        for kind, prim_type in SLOT_KINDS.items():
            ids = np.full((num_envs, self.slots[kind]), -1, dtype=np.int64)
            for shape_id, label in enumerate(labels):
                env_id, slot = _parse_slot_label(label, slots_root, prim_type)
                if env_id is not None and slot < self.slots[kind]:
                    ids[env_id, slot] = shape_id
            if (ids < 0).any():
                raise SpecError("scene.obstacles", slots_root, f"{prim_type} slot colliders in every environment of the physics model")
            self.shape_ids[kind] = torch.as_tensor(ids, device=self.device)
            members = np.flatnonzero(colliders.kind == kind)
            # pose rows: x, y, z, qx, qy, qz, qw; one parked row at the end for empty slots
            poses = np.zeros((len(members) + 1, 7), dtype=np.float32)
            poses[:-1, :3] = colliders.positions[members]
            poses[:-1, 3:] = colliders.orientations[members]
            poses[-1] = (0.0, 0.0, PARKED_DEPTH, 0.0, 0.0, 0.0, 1.0)
            sizes = np.zeros((len(members) + 1, 3), dtype=np.float32)
            sizes[:-1] = colliders.sizes[members]
            sizes[-1] = (0.01, 0.01, 0.0)
            nearest = np.full((rows * cols, self.slots[kind]), len(members), dtype=np.int64)
            if len(members):
                k = min(self.slots[kind], len(members))
                _, idx = cKDTree(colliders.positions[members, :2]).query(spawn_xy, k=k)
                nearest[:, :k] = np.asarray(idx).reshape(rows * cols, k)
            self.tile_obstacles[kind] = torch.as_tensor(nearest.reshape(rows, cols, -1), device=self.device)
            self._poses[kind] = torch.as_tensor(poses, device=self.device)
            self._sizes[kind] = torch.as_tensor(sizes, device=self.device)
        total = sum(self.slots[kind] for kind in SLOT_KINDS)
        self.positions = torch.zeros((num_envs, total, 3), device=self.device)
        """World position of every environment's slot obstacles, shape (num_envs, slots, 3); parked ones far below."""
        self.radii = torch.zeros((num_envs, total), device=self.device)
        """Horizontal radius of every environment's slot obstacles [m], shape (num_envs, slots)."""

    def place(self, env_ids: torch.Tensor) -> None:
        """Move the slots of those ``env_ids`` whose spawn tile changed onto the obstacles nearest the new tile.

        Called whenever the terrain moves environments between tiles; environments left on their tile keep their
        slots, so the solver is told of a model change only when a slot actually moved. The obstacle tensors that
        MDP terms read are updated here too, so a step reads them without gathering.
        """
        terrain = self._env.scene.terrain
        tiles = torch.stack([terrain.terrain_levels[env_ids], terrain.terrain_types[env_ids]], dim=1)
        moved = (tiles != self._placed_tile[env_ids]).any(dim=1)
        if not bool(moved.any()):
            return
        env_ids, tiles = env_ids[moved], tiles[moved]
        self._placed_tile[env_ids] = tiles
        levels, types = tiles[:, 0], tiles[:, 1]
        first = 0
        for kind, ids in self.shape_ids.items():
            obstacle = self.tile_obstacles[kind][levels, types]
            poses, sizes = self._poses[kind][obstacle], self._sizes[kind][obstacle]
            shapes = ids[env_ids].reshape(-1)
            self._transforms[shapes] = poses.reshape(-1, 7)
            self._scales[shapes] = sizes.reshape(-1, 3)
            last = first + self.slots[kind]
            self.positions[env_ids, first:last] = poses[..., :3]
            self.radii[env_ids, first:last] = sizes[..., 0]
            first = last
        from newton import ModelFlags

        self._manager.add_model_change(ModelFlags.SHAPE_PROPERTIES)


def _parse_slot_label(label: str, slots_root: str, prim_type: str) -> tuple[int | None, int]:
    """Environment index and slot index of a Newton shape label like ``/World/envs/env_3/Obstacles/Capsule_7``."""
    prefix = "/World/envs/env_"
    if not label.startswith(prefix):
        return None, -1
    env_part, _, rest = label[len(prefix):].partition("/")
    if not rest.startswith(f"{slots_root}/{prim_type}_"):
        return None, -1
    slot = rest[len(slots_root) + len(prim_type) + 2:].partition("/")[0]
    if not (env_part.isdigit() and slot.isdigit()):
        return None, -1
    return int(env_part), int(slot)


def _as_torch(array) -> torch.Tensor:
    """Zero-copy torch view of a Warp array of vectors or transforms, flattened to (N, components)."""
    import warp as wp

    tensor = wp.to_torch(array)
    return tensor.reshape(tensor.shape[0], -1)
