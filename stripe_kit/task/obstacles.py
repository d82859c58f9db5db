"""Scene obstacles in physics: a fixed number of static primitive colliders per environment that follow its robot.

Every environment owns a few static capsules and spheres (the *slots*). Every policy step, and after every reset,
each environment's slots are moved onto the obstacles of the generated scene within reach of its robot, looked up
in a spatial index of the whole scene (:class:`~stripe_kit.task.obstacle_index.ObstacleIndex`) by one kernel that
writes Newton's shape transforms and sizes and MuJoCo-Warp's per-world copy of them; unused slots are parked far
below the ground, off the map. The physics therefore sees a few dozen cheap primitives per world, whatever the
size of the forest, instead of thousands of prims (STRIPE-kit v0.3) or obstacles folded into the height field
(measured at 0.37x of flat on the H100), and a robot meets every obstacle wherever it goes.

On PhysX the slots are kinematic bodies moved by their poses, and a PhysX shape keeps the size it was spawned
with: each kind's obstacles are grouped into size buckets (:func:`in_size_buckets`), every obstacle takes its
bucket's size, everywhere (physics, ray casts, distance terms), and each bucket has slots of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import warp as wp
from isaaclab.sim.spawners.spawner_cfg import SpawnerCfg
from isaaclab.sim.utils import clone, create_prim, get_current_stage
from isaaclab.utils import configclass
from pxr import Usd, UsdGeom, UsdPhysics

from ..errors import SpecError
from ..scene.assets import CAPSULE, SPHERE, Colliders
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
PHYSX_SIZE_BUCKETS = 4
"""Default size buckets per obstacle kind on PhysX (:func:`in_size_buckets`; chosen by
``benchmarks.physx_size_buckets``)."""


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


@dataclasses.dataclass(frozen=True)
class SlotGroup:
    """Slots of one collider kind and size: a run of columns in every env's slots.

    Newton rewrites a slot's size every step, so it has one group per kind, spawned at the kind's largest size.
    A PhysX shape keeps the size it was spawned with, so there each size bucket of a kind
    (:func:`in_size_buckets`) is a group of its own, spawned at the bucket's size.
    """

    kind: str
    """Collider kind, one of :data:`SLOT_KINDS`."""
    radius: float
    """Radius the group's slots are spawned with [m]."""
    half_height: float
    """Half-height the group's capsule slots are spawned with [m] (0 for spheres)."""
    count: int
    """Slots of the group in each env."""


def slot_bounds(scene: GeneratedScene) -> dict[str, float]:
    """The largest sizes the slots take in ``scene``, as :class:`ColliderSlotsCfg` fields."""
    colliders = scene.colliders
    capsules, spheres = colliders.sizes[colliders.kind == CAPSULE], colliders.sizes[colliders.kind == SPHERE]
    return {
        "capsule_radius": float(capsules[:, 0].max(initial=0.01)),
        "capsule_half_height": float(capsules[:, 1].max(initial=0.01)),
        "sphere_radius": float(spheres[:, 0].max(initial=0.01)),
    }


def size_buckets(sizes: np.ndarray, buckets: int) -> np.ndarray:
    """Split the (radius, half-height) ``sizes`` (n, 2) of one kind's obstacles into at most ``buckets`` groups.

    Every obstacle of a group takes the group's largest radius and half-height, so a split aims at the smallest
    *overspill*: how far an obstacle's surface moves out (radius plus half-height grown). The group with the
    largest overspill is split in two along its wider size range, at the cut (of 32 tried) that leaves the
    smaller of the two halves' overspills, until ``buckets`` groups are reached or no obstacle spills over.

    Returns:
        The group (0 up to ``buckets`` - 1) of each obstacle, shape (n,).
    """
    groups = [np.arange(len(sizes))]
    while len(groups) < buckets:
        spills = [_overspill(sizes[group]).max(initial=0.0) for group in groups]
        worst = int(np.argmax(spills))
        if spills[worst] <= 0.0:
            break
        members = groups[worst]
        dim = int(np.argmax(np.ptp(sizes[members], axis=0)))
        ordered = members[np.argsort(sizes[members, dim], kind="stable")]
        values = sizes[ordered, dim]
        cuts = {int(c) for c in np.searchsorted(values, np.quantile(values, np.linspace(0, 1, 34)[1:-1]), "right")}
        cuts = [c for c in cuts if 0 < c < len(ordered) and values[c - 1] < values[c]]
        if not cuts:
            break
        best = min(cuts, key=lambda c: max(_overspill(sizes[ordered[:c]]).max(), _overspill(sizes[ordered[c:]]).max()))
        groups[worst:worst + 1] = [ordered[:best], ordered[best:]]
    labels = np.zeros(len(sizes), dtype=np.int64)
    for label, group in enumerate(groups):
        labels[group] = label
    return labels


def _overspill(sizes: np.ndarray) -> np.ndarray:
    """How far each obstacle's surface moves out when it takes the largest radius and half-height of ``sizes``."""
    return (sizes.max(axis=0, initial=0.0) - sizes).sum(axis=1) if len(sizes) else np.zeros(0)


def in_size_buckets(colliders: Colliders, buckets: int) -> Colliders:
    """``colliders`` with each slot kind's obstacles grown to the size of their bucket (:func:`size_buckets`):
    what PhysX holds, since its slot shapes keep the size they were spawned with."""
    sizes = colliders.sizes.copy()
    for kind in SLOT_KINDS:
        members = np.flatnonzero(colliders.kind == kind)
        labels = size_buckets(sizes[members, :2], buckets)
        for label in np.unique(labels):
            bucket = members[labels == label]
            sizes[bucket, :2] = sizes[bucket, :2].max(axis=0)
    return dataclasses.replace(colliders, sizes=sizes)


def size_bucket_error(colliders: Colliders, bucketed: Colliders) -> dict[str, dict[str, float]]:
    """How much :func:`in_size_buckets` grew each slot kind's obstacles [m]: the max and mean of the radius grown
    and of the half-height grown (capsules), and the count."""
    error = {}
    for kind in SLOT_KINDS:
        members = colliders.kind == kind
        grown = bucketed.sizes[members, :2] - colliders.sizes[members, :2]
        error[kind] = {"count": int(members.sum())}
        for i, name in enumerate(("radius", "half_height")[: 2 if kind == CAPSULE else 1]):
            error[kind][f"{name}_max"] = float(grown[:, i].max(initial=0.0))
            error[kind][f"{name}_mean"] = float(grown[:, i].mean()) if len(grown) else 0.0
    return error


def slot_groups(scene: GeneratedScene, index: ObstacleIndex, slots: dict[str, int] | None = None,
                by_size: bool = False) -> list[SlotGroup]:
    """The slot groups of ``scene``: one per kind, or one per kind and distinct size when ``by_size`` (PhysX, on
    a scene :func:`in_size_buckets`); each with the most of its obstacles that one index cell lists, or, per kind,
    the counts ``slots`` gives when they are enough.

    A kind without obstacles keeps one parked slot, so terms that reduce over the slots never meet an empty
    dimension.

    Raises:
        SpecError: If a given slot count is smaller than the scene needs, or the scene needs more than
            :data:`MAX_SLOTS` of a kind.
    """
    members = slot_obstacles(scene)
    kinds, sizes = scene.colliders.kind[members], scene.colliders.sizes[members, :2]
    groups = []
    for kind in SLOT_KINDS:
        of_kind = kinds == kind
        if not of_kind.any():
            count = 1 if slots is None else int(slots.get(kind, 0))
            groups.append(SlotGroup(kind, 0.01, 0.01 if kind == CAPSULE else 0.0, count))
            continue
        bounds = np.unique(sizes[of_kind], axis=0) if by_size else sizes[of_kind].max(axis=0, keepdims=True)
        kind_groups = []
        for radius, half_height in bounds:
            of_group = of_kind & (sizes == (radius, half_height)).all(axis=1) if by_size else of_kind
            kind_groups.append(SlotGroup(kind, float(radius), float(half_height), index.max_count_of(of_group)))
        needed = index.max_count_of(of_kind)
        if sum(group.count for group in kind_groups) > MAX_SLOTS:
            raise SpecError("sim.obstacle_reach", index.reach,
                            f"a reach within which at most {MAX_SLOTS} {kind}s stand ({needed} do in this scene)")
        if slots is not None:
            if slots.get(kind, 0) < needed:
                raise SpecError(f"sim.obstacle_slots.{kind}", slots.get(kind, 0),
                                f"at least {needed}: up to {needed} {kind}s of this scene lie within the obstacle "
                                f"reach ({index.reach:.2f} m) of one point (None derives the count from the scene)")
            kind_groups = [dataclasses.replace(kind_groups[0], count=int(slots[kind]))]
        groups += kind_groups
    return groups


def obstacle_group_arrays(scene: GeneratedScene, groups: Sequence[SlotGroup]) -> tuple[np.ndarray, np.ndarray]:
    """What the follow kernel reads of the slot groups: the group of each slot obstacle, in :func:`slot_obstacles`
    order (shape (max(M, 1),)), and each group's first column, then the column count (shape (G + 1,)).

    An obstacle goes to the group of its kind and size, else to its kind's only group (Newton).
    """
    members = slot_obstacles(scene)
    kinds, sizes = scene.colliders.kind[members], scene.colliders.sizes[members, :2]
    labels = np.full(max(len(members), 1), -1, dtype=np.int32)
    for exact in (True, False):
        for g, group in enumerate(groups):
            fits = (kinds == group.kind) & (labels[: len(members)] < 0)
            if exact:
                fits &= np.isclose(sizes, (group.radius, group.half_height)).all(axis=1)
            labels[: len(members)][fits] = g
    if (labels[: len(members)] < 0).any():
        raise SpecError("scene.obstacles", "slot groups", "a slot group for every capsule and sphere of the scene")
    starts = np.concatenate([[0], np.cumsum([group.count for group in groups])]).astype(np.int32)
    return labels, starts


def avoid_ambiguous_body_counts(groups: list[SlotGroup]) -> list[SlotGroup]:
    """``groups`` with one more parked sphere slot while their total is one of
    :data:`PHYSX_AMBIGUOUS_BODY_COUNTS`."""
    groups = list(groups)
    while sum(group.count for group in groups) in PHYSX_AMBIGUOUS_BODY_COUNTS:
        last = max(i for i, group in enumerate(groups) if group.kind == SPHERE)
        groups[last] = dataclasses.replace(groups[last], count=groups[last].count + 1)
    return groups


def physx_collider_slots(groups: Sequence[SlotGroup], root: str):
    """The obstacle slots of each env on PhysX: a collection of kinematic capsules and spheres under ``root``, each
    group's slots spawned at the group's size; :class:`ObstacleSlots` moves them by their body poses."""
    from isaaclab.assets import RigidObjectCfg, RigidObjectCollectionCfg
    from isaaclab.sim import CapsuleCfg, CollisionBaseCfg, RigidBodyBaseCfg, SphereCfg

    body = RigidBodyBaseCfg(kinematic_enabled=True, disable_gravity=True)
    objects = {}
    for kind, prim_type in SLOT_KINDS.items():
        names = (f"{prim_type}_{index}" for index in range(MAX_SLOTS + len(PHYSX_AMBIGUOUS_BODY_COUNTS)))
        for group in (group for group in groups if group.kind == kind):
            if kind == CAPSULE:
                shape = CapsuleCfg(radius=group.radius, height=2 * group.half_height, axis="Z", rigid_props=body,
                                   collision_props=CollisionBaseCfg())
            else:
                shape = SphereCfg(radius=group.radius, rigid_props=body, collision_props=CollisionBaseCfg())
            for _ in range(group.count):
                name = next(names)
                objects[name] = RigidObjectCfg(prim_path=f"{root}/{name}", spawn=shape,
                                               init_state=RigidObjectCfg.InitialStateCfg(pos=PARKED_POSITION))
    return RigidObjectCollectionCfg(rigid_objects=objects)


def slot_obstacles(scene: GeneratedScene) -> np.ndarray:
    """Indices into ``scene.colliders`` of the obstacles that slots can hold (capsules and spheres)."""
    return np.flatnonzero(np.isin(scene.colliders.kind, list(SLOT_KINDS)))


def slot_obstacle_arrays(scene: GeneratedScene) -> tuple[np.ndarray, np.ndarray]:
    """What the follow kernel and the ray casts read of the slot obstacles, in :func:`slot_obstacles` order.

    Returns:
        Poses (M + 1, 7) as x, y, z, qx, qy, qz, qw and sizes (M + 1, 3) as radius, half-height, 0, each with a
        last, parked row for empty slots.
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
    return poses, sizes


def scene_obstacle_index(scene: GeneratedScene, reach: float, device: str,
                         field: str = "sim.obstacle_reach") -> ObstacleIndex:
    """Index of the scene's slot obstacles; its obstacle ids count along :func:`slot_obstacles`."""
    members = slot_obstacles(scene)
    colliders = scene.colliders
    return ObstacleIndex(colliders.positions[members, :2], colliders.footprint[members], reach,
                         scene.terrain.extent, device, field=field)


class ObstacleSlots:
    """Keeps every scene obstacle within reach of each robot in that robot's world, as the robot moves.

    Each env owns a fixed number of static capsules and spheres (the slots). :meth:`follow` looks up the index
    cell under each robot's root and writes the obstacles it lists into the env's slots, into Newton's model
    (shape transforms and sizes) and into MuJoCo-Warp's per-world copy of it, or into the poses of PhysX's
    kinematic slot bodies, in one kernel launch; leftover slots are parked. :attr:`positions`, :attr:`radii` and :attr:`obstacle_ids` are the public, always-current
    view of what is in physics.
    """

    def __init__(self, env: StripeEnv, scene: GeneratedScene, index: ObstacleIndex, groups: Sequence[SlotGroup],
                 slots_root: str):
        self._env = env
        self.index = index
        self.device = env.device
        self.reach = index.reach
        """Distance from a robot's root within which every obstacle is in its world [m]."""
        self.groups = list(groups)
        """Slot groups (kind, spawned size, slots per env), in column order."""
        self.slots = {kind: sum(group.count for group in groups if group.kind == kind) for kind in SLOT_KINDS}
        """Slots per kind in each env."""
        self._collection = env.scene.rigid_object_collections.get("obstacles")
        num_envs = env.num_envs
        columns = [(kind, slot) for kind in SLOT_KINDS for slot in range(self.slots[kind])]
        width = max(len(columns), 1)
        shape_ids = np.full((num_envs, width), -1, dtype=np.int32)
        if self._collection is None:  # Newton: the slots are shapes of its model
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
        else:  # PhysX: kinematic slot bodies
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
        poses, sizes = slot_obstacle_arrays(scene)
        labels, starts = obstacle_group_arrays(scene, self.groups)
        self.collider_ids = members
        """Index into ``scene.colliders`` of each obstacle id in :attr:`obstacle_ids`."""
        self.obstacle_pose = wp.array(poses, dtype=wp.transformf, device=self.device)
        """Pose of every slot obstacle (a capsule's axis is its local z), then the parked pose (Warp)."""
        self.obstacle_size = wp.array(sizes, dtype=wp.vec3f, device=self.device)
        """Radius and half-height (0 for a sphere) of every slot obstacle, then the parked size (Warp)."""
        self._obstacle_group = wp.array(labels, dtype=wp.int32, device=self.device)
        self._group_start = wp.array(starts, dtype=wp.int32, device=self.device)
        self._slot_shape = wp.array(shape_ids, dtype=wp.int32, device=self.device)
        self.positions_wp = wp.zeros((num_envs, width), dtype=wp.vec3f, device=self.device)
        """:attr:`positions` as the Warp array behind it, shape (num_envs, max(slots, 1)), for Warp terms."""
        self.radii_wp = wp.zeros((num_envs, width), dtype=wp.float32, device=self.device)
        """:attr:`radii` as the Warp array behind it, shape (num_envs, max(slots, 1)); read its first
        :attr:`slot_count` columns."""
        self._obstacle_ids = wp.full((num_envs, width), -1, dtype=wp.int32, device=self.device)
        self.slot_count = len(columns)
        """Slots per env, all kinds together."""
        self.positions = wp.to_torch(self.positions_wp)[:, : len(columns)]
        """World position of every env's slot obstacles, shape (num_envs, slots, 3); parked ones off the map."""
        self.radii = wp.to_torch(self.radii_wp)[:, : len(columns)]
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
                index.cell_start, index.cell_items, self._obstacle_group, self.obstacle_pose, self.obstacle_size,
                self._group_start, self._slot_shape, self._slot_geom, *self._shape_arrays,
                *self._geoms, self.positions_wp, self.radii_wp, self._obstacle_ids, self._slot_pose,
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
