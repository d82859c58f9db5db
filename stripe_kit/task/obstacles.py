"""Scene obstacles in physics: a fixed number of static primitive colliders per environment that follow its robot.

Every environment owns a few static capsules and spheres (the *slots*). Every policy step, and after every reset,
each environment's slots are moved onto the obstacles of the generated scene within reach of its robot, looked up
in a spatial index of the whole scene (:class:`~stripe_kit.task.obstacle_index.ObstacleIndex`) by one kernel that
writes Newton's shape transforms and sizes and MuJoCo-Warp's per-world copy of them; unused slots are parked far
below the ground, off the map. The physics therefore sees a few dozen cheap primitives per world, whatever the
size of the forest, instead of thousands of prims (STRIPE-kit v0.3) or obstacles folded into the height field
(measured at 0.37x of flat on the H100), and a robot meets every obstacle wherever it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
import warp as wp
from isaaclab.sim.spawners.spawner_cfg import SpawnerCfg
from isaaclab.sim.utils import clone, create_prim, get_current_stage
from isaaclab.utils import configclass
from pxr import Usd, UsdGeom, UsdPhysics

from ..errors import SpecError
from ..scene.assets import CAPSULE, SPHERE
from .kernels import follow_obstacles_kernel
from .obstacle_index import ObstacleIndex

if TYPE_CHECKING:
    from ..scene.spec import GeneratedScene
    from .env import StripeEnv

SLOT_KINDS: dict[str, str] = {CAPSULE: "Capsule", SPHERE: "Sphere"}
"""Collider kinds that have slots, and the USD prim type of their slots."""

PARKED_DEPTH = -50.0
"""Height [m] at which unused slots wait, far below any terrain."""
PARKED_POSITION = (1.0e4, 1.0e4, PARKED_DEPTH)
"""Where unused slots wait: below the ground and off the map, so distance-based terms never meet them."""
PHYSX_AMBIGUOUS_BODY_COUNTS = (6, 7, 9, 13)
"""Slot counts per env that PhysX slot collections avoid: ``isaaclab_ov`` 3.0 tells its test mock from a real
binding by ``binding.shape[1] == num_bodies``, so a collection of 7 bodies has its (N*7, 7) pose binding taken for
the mock's (N, 7) layout and fails (6: velocities, 9: wrenches, 13: states). A spare parked sphere avoids it."""
MAX_SLOTS = 256
"""Most slots of one kind an environment may have."""


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
            create_prim(path, prim_type, translation=PARKED_POSITION, attributes=sizes[kind], stage=stage)
            UsdPhysics.CollisionAPI.Apply(stage.GetPrimAtPath(path))
            UsdGeom.Imageable(stage.GetPrimAtPath(path)).CreatePurposeAttr(UsdGeom.Tokens.guide)
    return root


@configclass
class ColliderSlotsCfg(SpawnerCfg):
    """Spawner of the per-environment obstacle slots."""

    func: Callable = spawn_collider_slots
    slots: dict[str, int] = {CAPSULE: 8, SPHERE: 4}
    """Slots per collider kind and environment; set from the generated scene when the env is built."""
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


def physx_collider_slots(slots: dict[str, int], capsule_radius: float, capsule_half_height: float,
                         sphere_radius: float, root: str):
    """The obstacle slots of each env on PhysX: a collection of kinematic capsules and spheres under ``root``.

    A PhysX shape keeps the size it was spawned with, so every slot of a kind has that kind's largest size in the
    scene (:func:`slot_bounds`); :class:`ObstacleSlots` moves them as Newton's shapes, by their body poses.
    """
    from isaaclab.assets import RigidObjectCfg, RigidObjectCollectionCfg
    from isaaclab.sim import CapsuleCfg, CollisionBaseCfg, RigidBodyBaseCfg, SphereCfg

    body = RigidBodyBaseCfg(kinematic_enabled=True, disable_gravity=True)
    shapes = {
        CAPSULE: CapsuleCfg(radius=capsule_radius, height=2 * capsule_half_height, axis="Z", rigid_props=body,
                            collision_props=CollisionBaseCfg()),
        SPHERE: SphereCfg(radius=sphere_radius, rigid_props=body, collision_props=CollisionBaseCfg()),
    }
    slots = dict(slots)
    while sum(slots.values()) in PHYSX_AMBIGUOUS_BODY_COUNTS:
        slots[SPHERE] = slots.get(SPHERE, 0) + 1  # one more parked sphere
    objects = {}
    for kind, prim_type in SLOT_KINDS.items():
        for index in range(slots.get(kind, 0)):
            objects[f"{prim_type}_{index}"] = RigidObjectCfg(
                prim_path=f"{root}/{prim_type}_{index}", spawn=shapes[kind],
                init_state=RigidObjectCfg.InitialStateCfg(pos=PARKED_POSITION))
    return RigidObjectCollectionCfg(rigid_objects=objects)


def physx_slot_counts(collection_cfg) -> dict[str, int]:
    """Slots per kind of a :func:`physx_collider_slots` collection."""
    names = list(collection_cfg.rigid_objects)
    return {kind: sum(name.startswith(f"{prim_type}_") for name in names) for kind, prim_type in SLOT_KINDS.items()}


def slot_obstacles(scene: GeneratedScene) -> np.ndarray:
    """Indices into ``scene.colliders`` of the obstacles that slots can hold (capsules and spheres)."""
    return np.flatnonzero(np.isin(scene.colliders.kind, list(SLOT_KINDS)))


def slot_obstacle_arrays(scene: GeneratedScene) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the follow kernel reads of the slot obstacles, in :func:`slot_obstacles` order.

    Returns:
        Poses (M + 1, 7) as x, y, z, qx, qy, qz, qw and sizes (M + 1, 3) as radius, half-height, 0, each with a
        last, parked row for empty slots; kind codes (M,) in :data:`SLOT_KINDS` order (one 0 when M is 0).
    """
    members = slot_obstacles(scene)
    colliders = scene.colliders
    poses = np.zeros((len(members) + 1, 7), dtype=np.float32)
    poses[:-1, :3] = colliders.positions[members]
    poses[:-1, 3:] = colliders.orientations[members]
    poses[-1] = (*PARKED_POSITION, 0.0, 0.0, 0.0, 1.0)
    sizes = np.zeros((len(members) + 1, 3), dtype=np.float32)
    sizes[:-1] = colliders.sizes[members]
    sizes[-1] = (0.01, 0.01, 0.0)
    kinds = np.zeros(max(len(members), 1), dtype=np.int32)
    for code, kind in enumerate(SLOT_KINDS):
        kinds[: len(members)][colliders.kind[members] == kind] = code
    return poses, sizes, kinds


def scene_obstacle_index(scene: GeneratedScene, reach: float, device: str,
                         field: str = "sim.obstacle_reach") -> ObstacleIndex:
    """Index of the scene's slot obstacles; its obstacle ids count along :func:`slot_obstacles`."""
    members = slot_obstacles(scene)
    colliders = scene.colliders
    return ObstacleIndex(colliders.positions[members, :2], colliders.footprint[members], reach,
                         scene.terrain.extent, device, field=field)


def slots_needed(scene: GeneratedScene, index: ObstacleIndex, slots: dict[str, int] | None) -> dict[str, int]:
    """Slots per kind: the most obstacles of the kind one index cell lists (at least one), or ``slots`` when they
    hold that many.

    Raises:
        SpecError: If a given slot count is smaller than the scene needs, or the scene needs more than
            :data:`MAX_SLOTS`.
    """
    kinds = scene.colliders.kind[slot_obstacles(scene)]
    needed = {kind: index.max_count_of(kinds == kind) for kind in SLOT_KINDS}
    for kind, count in needed.items():
        if count > MAX_SLOTS:
            raise SpecError("sim.obstacle_reach", index.reach,
                            f"a reach within which at most {MAX_SLOTS} {kind}s stand ({count} do in this scene)")
        if slots is not None and slots.get(kind, 0) < count:
            raise SpecError(f"sim.obstacle_slots.{kind}", slots.get(kind, 0),
                            f"at least {count}: up to {count} {kind}s of this scene lie within the obstacle reach "
                            f"({index.reach:.2f} m) of one point (None derives the count from the scene)")
    if slots is None:
        # at least one (parked) slot per kind, so terms that reduce over the slots never meet an empty dimension
        return {kind: max(count, 1) for kind, count in needed.items()}
    return {kind: int(slots.get(kind, 0)) for kind in SLOT_KINDS}


class ObstacleSlots:
    """Keeps every scene obstacle within reach of each robot in that robot's world, as the robot moves.

    Each env owns a fixed number of static capsules and spheres (the slots). :meth:`follow` looks up the index
    cell under each robot's root and writes the obstacles it lists into the env's slots, into Newton's model
    (shape transforms and sizes) and into MuJoCo-Warp's per-world copy of it, in one kernel launch; leftover
    slots are parked. :attr:`positions`, :attr:`radii` and :attr:`obstacle_ids` are the public, always-current
    view of what is in physics.
    """

    def __init__(self, env: StripeEnv, scene: GeneratedScene, index: ObstacleIndex, slots_root: str):
        self._env = env
        self.index = index
        self.device = env.device
        self.reach = index.reach
        """Distance from a robot's root within which every obstacle is in its world [m]."""
        self._collection = env.scene.rigid_object_collections.get("obstacles")
        if self._collection is not None:  # PhysX: kinematic slot bodies
            self.slots = physx_slot_counts(env.cfg.scene.obstacles)
        else:
            self.slots = {kind: int(env.cfg.scene.obstacles.spawn.slots.get(kind, 0)) for kind in SLOT_KINDS}
        num_envs = env.num_envs
        columns = [(kind, slot) for kind in SLOT_KINDS for slot in range(self.slots[kind])]
        width = max(len(columns), 1)
        shape_ids = np.full((num_envs, width), -1, dtype=np.int32)
        if self._collection is None:
            from isaaclab_newton.physics import NewtonManager

            model = NewtonManager.get_model()
            column_of = {column: i for i, column in enumerate(columns)}
            for shape_id, label in enumerate(model.shape_label):
                env_id, kind, slot = _parse_slot_label(label, slots_root)
                if env_id is not None and env_id < num_envs and (kind, slot) in column_of:
                    shape_ids[env_id, column_of[kind, slot]] = shape_id
            if columns and (shape_ids < 0).any():
                raise SpecError("scene.obstacles", slots_root, "slot colliders in every environment of the physics model")
            self._slot_geom, self._geoms = _mujoco_geoms(NewtonManager, shape_ids, self.device) if columns else (None, [])
            self._shape_arrays = [model.shape_transform, model.shape_scale]
        else:
            names = [f"{SLOT_KINDS[kind]}_{slot}" for kind, slot in columns]
            missing = [name for name in names if name not in self._collection.body_names]
            if missing:
                raise SpecError("scene.obstacles", missing[0], "a kinematic slot body of the obstacle collection")
            self._slot_bodies = wp.array([self._collection.body_names.index(name) for name in names] or [0],
                                         dtype=wp.int32, device=self.device)
            self._slot_geom, self._geoms = _mujoco_geoms(None, shape_ids, self.device)
            self._shape_arrays = [wp.zeros(1, dtype=wp.transformf, device=self.device),
                                  wp.zeros(1, dtype=wp.vec3f, device=self.device)]
        self._slot_pose = wp.zeros((num_envs, width), dtype=wp.transformf, device=self.device)
        members = slot_obstacles(scene)
        poses, sizes, kinds = slot_obstacle_arrays(scene)
        self.collider_ids = members
        """Index into ``scene.colliders`` of each obstacle id in :attr:`obstacle_ids`."""
        self.obstacle_pose = wp.array(poses, dtype=wp.transformf, device=self.device)
        """Pose of every slot obstacle (a capsule's axis is its local z), then the parked pose (Warp)."""
        self.obstacle_size = wp.array(sizes, dtype=wp.vec3f, device=self.device)
        """Radius and half-height (0 for a sphere) of every slot obstacle, then the parked size (Warp)."""
        self._obstacle_kind = wp.array(kinds, dtype=wp.int32, device=self.device)
        self._slot_shape = wp.array(shape_ids, dtype=wp.int32, device=self.device)
        self._positions = wp.zeros((num_envs, width), dtype=wp.vec3f, device=self.device)
        self._radii = wp.zeros((num_envs, width), dtype=wp.float32, device=self.device)
        self._obstacle_ids = wp.full((num_envs, width), -1, dtype=wp.int32, device=self.device)
        self.positions = wp.to_torch(self._positions)[:, : len(columns)]
        """World position of every env's slot obstacles, shape (num_envs, slots, 3); parked ones off the map."""
        self.radii = wp.to_torch(self._radii)[:, : len(columns)]
        """Radius of every env's slot obstacles [m], shape (num_envs, slots); capsules first, then spheres."""
        self.obstacle_ids = wp.to_torch(self._obstacle_ids)[:, : len(columns)]
        """Obstacle id in each slot (an index into :attr:`collider_ids`), -1 where the slot is parked."""
        self._robot = env.scene["robot"]
        self._obstacle_xy = torch.as_tensor(poses[:, :2], device=self.device)
        self._obstacle_radius = torch.as_tensor(sizes[:, 0], device=self.device)

    def around(self, xy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every obstacle within reach of points ``xy`` (..., 2), anywhere in the scene, from the index.

        Returns:
            Obstacle centres (..., K, 2) and radii (..., K); entries beyond a point's obstacles are parked off the
            map with zero radius.
        """
        ids, valid = self.index.around(xy)
        parked = len(self._obstacle_xy) - 1
        ids = torch.where(valid, ids, parked)
        return self._obstacle_xy[ids], torch.where(valid, self._obstacle_radius[ids], 0.0)

    def follow(self) -> None:
        """Put each env's slots on the obstacles within reach of its robot's root, now (one kernel launch)."""
        if not self.positions.shape[1]:
            return
        index = self.index
        wp.launch(
            follow_obstacles_kernel,
            dim=self._env.num_envs,
            inputs=[
                self._robot.data.root_link_pose_w.warp, wp.vec2f(*index.origin), index.cell, index.nx, index.ny,
                index.cell_start, index.cell_items, self._obstacle_kind, self.obstacle_pose, self.obstacle_size,
                self.slots[CAPSULE], self.slots[SPHERE], self._slot_shape, self._slot_geom, *self._shape_arrays,
                *self._geoms, self._positions, self._radii, self._obstacle_ids, self._slot_pose,
            ],
            device=self.device,
        )
        if self._collection is not None:
            # PhysX: every slot body of every env in one write (writing some slots before the first read of the
            # others logged 'setGlobalPose: pose is not valid')
            self._collection.write_body_pose_to_sim_index(body_poses=self._slot_pose, body_ids=self._slot_bodies)


def _mujoco_geoms(manager, shape_ids: np.ndarray, device: str) -> tuple[wp.array, list[wp.array]]:
    """MuJoCo-Warp geom index of each slot shape in its world, and the per-world geom arrays to write.

    Writing the slots' ``geom_pos``, ``geom_quat`` and ``geom_size`` directly is what Newton's
    ``notify_model_changed(SHAPE_PROPERTIES)`` does for them, without rewriting every geom of every world each
    step. Without a MuJoCo-Warp model (geoms -1) only Newton's model is written.
    """
    solver = getattr(manager, "_solver", None) if manager is not None else None
    mapping = getattr(solver, "mjc_geom_to_newton_shape", None)
    mjw = getattr(solver, "mjw_model", None)
    geoms = np.full(shape_ids.shape, -1, dtype=np.int32)
    if mapping is None or mjw is None:
        dummy = [wp.zeros((1, 1), dtype=dtype, device=device) for dtype in (wp.vec3f, wp.quatf, wp.vec3f)]
        return wp.array(geoms, dtype=wp.int32, device=device), dummy
    table = mapping.numpy()  # (worlds, geoms) -> Newton shape
    for env_id in range(shape_ids.shape[0]):
        geom_of = {int(shape): geom for geom, shape in enumerate(table[env_id]) if shape >= 0}
        geoms[env_id] = [geom_of.get(int(shape), -1) for shape in shape_ids[env_id]]
    if (geoms < 0).any():
        raise SpecError("scene.obstacles", "MuJoCo-Warp model", "a MuJoCo geom for every obstacle slot")
    return wp.array(geoms, dtype=wp.int32, device=device), [mjw.geom_pos, mjw.geom_quat, mjw.geom_size]


def _parse_slot_label(label: str, slots_root: str) -> tuple[int | None, str, int]:
    """Env index, collider kind and slot index of a Newton shape label like ``/World/envs/env_3/Obstacles/Capsule_7``."""
    prefix = "/World/envs/env_"
    if not label.startswith(prefix):
        return None, "", -1
    env_part, _, rest = label[len(prefix):].partition("/")
    if not env_part.isdigit() or not rest.startswith(f"{slots_root}/"):
        return None, "", -1
    name = rest[len(slots_root) + 1:].partition("/")[0]
    for kind, prim_type in SLOT_KINDS.items():
        slot = name.removeprefix(f"{prim_type}_")
        if name.startswith(f"{prim_type}_") and slot.isdigit():
            return int(env_part), kind, int(slot)
    return None, "", -1
