"""Scenes read from USD files: a stage exported by :func:`~stripe_kit.scene.usd.export_scene` and edited by hand,
or built in Isaac Sim's viewport, becomes a :class:`GeneratedScene` that the asset palette can add to.
"""

from __future__ import annotations

import dataclasses
import math
import os
import zlib
from dataclasses import MISSING

import numpy as np
import trimesh
from isaaclab.utils import configclass
from pxr import Usd, UsdGeom, UsdPhysics
from scipy.spatial.transform import Rotation

from ..errors import SpecError, check_number
from .assets import BOX, CAPSULE, SPHERE, Colliders, Instances, PlacementContext
from .meshes import USD_EXTENSIONS
from .spec import GeneratedScene, SceneSpec
from .terrain import TerrainData, TerrainSpec, _sample_mesh_heights
from .usd import ASSET_ATTR, SPAWN_POINT_ATTR, TERRAIN_ATTR, asset_name

STATIC_GROUP = "static"
"""Asset type of the file's colliders that lie under no prim naming one (``stripe:asset``)."""

_CAPSULE_AXES = {"X": Rotation.from_euler("y", 90, degrees=True), "Y": Rotation.from_euler("x", -90, degrees=True),
                 "Z": Rotation.identity()}
"""Rotation that turns the local z axis (the capsule axis of :class:`Colliders`) onto a USD capsule's axis."""


@configclass
class UsdSceneSpec(SceneSpec):
    """A scene read from a USD file, with the asset palette scattered on top, clear of what the file holds.

    From the file come:

    * the ground: the meshes marked ``stripe:terrain``, else the widest mesh with a collision API, sampled on a
      height grid of ``terrain.horizontal_scale``; tiles of ``terrain.tile_size`` cover it, centred on the origin
      as in Isaac Lab (``terrain.num_rows`` and ``num_cols`` are ignored);
    * colliders: Capsule, Sphere and Cube prims with a collision API, and any other collision geometry as its
      upright bounding capsule;
    * spawn points: prims with ``stripe:spawnPoint``; a tile without one spawns at its centre;
    * instances: each PointInstancer, as the asset type named by ``stripe:asset`` or by the prim name.

    A palette asset type with the same name as one from the file adds its instances to that type.
    """

    name: str = "usd_scene"
    usd_path: str = MISSING
    """USD file (``.usd``, ``.usda``, ``.usdc``) to read."""

    def __post_init__(self):
        super().__post_init__()
        if not isinstance(self.usd_path, str) or not self.usd_path.lower().endswith(USD_EXTENSIONS):
            raise SpecError("usd_path", self.usd_path, f"a file ending in {', '.join(USD_EXTENSIONS)}")
        if not os.path.isfile(self.usd_path):
            raise SpecError("usd_path", self.usd_path, "an existing USD file")

    def generate(self, seed: int | None = None) -> GeneratedScene:
        """Read the file, then let each palette asset type place its instances in order.

        Args:
            seed: Seed of the palette's placement; :attr:`seed` when None.

        Returns:
            The scene, an instance of :attr:`scene_class`: the file's asset types first, then the palette's.
        """
        seed = self.seed if seed is None else int(seed)
        check_number("seed", seed, 0, 2**63 - 1, integer=True)
        terrain, groups = read_usd_scene(self.usd_path, self.terrain)
        scene = self.scene_class(self, seed, terrain)
        for name, (instances, colliders) in groups.items():
            scene.add(name, instances, colliders)
        for asset in self.assets:
            asset_seed = int(np.random.SeedSequence([seed, zlib.crc32(asset.name.encode())]).generate_state(1)[0])
            ctx = PlacementContext(scene=scene, rng=np.random.default_rng(asset_seed), seed=asset_seed)
            instances = asset.place(ctx)
            if asset.name in scene.instances:
                _extend(scene, asset.name, instances, asset.colliders(instances))
            else:
                scene.add(asset.name, instances, asset.colliders(instances))
        return scene


def read_usd_scene(path: str, terrain_spec: TerrainSpec) -> tuple[TerrainData, dict[str, tuple[Instances, Colliders]]]:
    """Read the ground, colliders, spawn points and instances of a USD file (see :class:`UsdSceneSpec`).

    Args:
        path: USD file.
        terrain_spec: Tile size, grid resolution and difficulty range of the ground.

    Returns:
        The ground, and the instances and colliders of each asset type in the file's order.

    Raises:
        SpecError: If the file cannot be opened or has no ground mesh.
    """
    try:
        stage = Usd.Stage.Open(path)
    except Exception as error:  # pxr raises Tf.ErrorException with the parser's message
        reason = str(error).rsplit(" : ", 1)[-1].strip(" '\n")
        raise SpecError("usd_path", path, f"a readable USD file ({reason})") from error
    if stage is None:
        raise SpecError("usd_path", path, "a readable USD file")
    xforms = UsdGeom.XformCache()
    instancers, spawn_points, collision_prims = [], [], []
    prims = iter(Usd.PrimRange(stage.GetPseudoRoot()))
    for prim in prims:
        if prim.IsA(UsdGeom.PointInstancer):
            instancers.append(prim)
            prims.PruneChildren()  # prototypes are not scene objects
            continue
        marker = prim.GetAttribute(SPAWN_POINT_ATTR)
        if marker and marker.Get():
            spawn_points.append(_world(xforms, prim)[3, :3])
        if prim.HasAPI(UsdPhysics.CollisionAPI) and prim.IsA(UsdGeom.Gprim):
            collision_prims.append(prim)
    ground, obstacles = _split_ground(path, collision_prims, xforms)
    terrain = _terrain_data(ground, terrain_spec, np.array(spawn_points).reshape(-1, 3))

    groups: dict[str, tuple[list, list]] = {}
    for prim in instancers:
        name = _group_name(prim, fallback=asset_name(prim.GetName()))
        groups.setdefault(name, ([], []))[0].append(_instances(prim, xforms, terrain))
    for prim in obstacles:
        groups.setdefault(_group_name(prim, fallback=STATIC_GROUP), ([], []))[1].append(_collider(prim, xforms))
    return terrain, {
        name: (_concatenate_instances(instances), Colliders.concatenate(colliders))
        for name, (instances, colliders) in groups.items()
    }


def _split_ground(
    path: str, prims: list[Usd.Prim], xforms: UsdGeom.XformCache
) -> tuple[trimesh.Trimesh, list[Usd.Prim]]:
    """The ground mesh (world frame) and the other collision prims."""
    meshes = [prim for prim in prims if prim.IsA(UsdGeom.Mesh)]
    marked = [prim for prim in meshes if prim.GetAttribute(TERRAIN_ATTR) and prim.GetAttribute(TERRAIN_ATTR).Get()]
    if not marked and meshes:
        areas = [np.prod(np.ptp(_mesh(prim, xforms).vertices[:, :2], axis=0)) for prim in meshes]
        marked = [meshes[int(np.argmax(areas))]]
    if not marked:
        accepted = f"a USD file with a ground Mesh (marked {TERRAIN_ATTR} or with a collision API)"
        raise SpecError("usd_path", path, accepted)
    ground = trimesh.util.concatenate([_mesh(prim, xforms) for prim in marked])
    return ground, [prim for prim in prims if prim not in marked]


def _terrain_data(mesh: trimesh.Trimesh, spec: TerrainSpec, spawn_points: np.ndarray) -> TerrainData:
    """Height grid and tiles covering the ground mesh; tiles holding a spawn point spawn there."""
    sx, sy = spec.tile_size
    reach = np.abs(mesh.bounds[:, :2]).max(axis=0)
    # the smallest tile grid centred on the origin that covers the mesh (tolerant of float round-off)
    rows, cols = (max(1, math.ceil(2 * r / s - 1e-6)) for r, s in zip(reach, (sx, sy)))
    x0, y0 = -rows * sx / 2, -cols * sy / 2
    x = x0 + np.arange(round(rows * sx / spec.horizontal_scale) + 1) * spec.horizontal_scale
    y = y0 + np.arange(round(cols * sy / spec.horizontal_scale) + 1) * spec.horizontal_scale
    low, high = spec.difficulty_range
    difficulty = low + (high - low) * (np.arange(rows) + 0.5) / rows
    data = TerrainData(
        heights=_sample_mesh_heights(mesh, x, y),
        x0=x0,
        y0=y0,
        resolution=spec.horizontal_scale,
        tile_size=(sx, sy),
        tile_origins=np.zeros((rows, cols, 3)),
        tile_difficulty=np.repeat(difficulty[:, None], cols, axis=1),
        mesh=mesh,
    )
    cx, cy = x0 + (np.arange(rows) + 0.5) * sx, y0 + (np.arange(cols) + 0.5) * sy
    centres = np.stack(np.meshgrid(cx, cy, indexing="ij"), axis=-1)
    data.tile_origins[..., :2] = centres
    data.tile_origins[..., 2] = data.height_at(centres.reshape(-1, 2)).reshape(rows, cols)
    # a tile with several marked points spawns at the one nearest its centre
    row, col = data.tile_of(spawn_points[:, :2])
    offset = np.hypot(*(spawn_points[:, :2] - centres[row, col]).T)
    for index in np.lexsort((offset, col, row))[::-1]:
        data.tile_origins[row[index], col[index]] = spawn_points[index]
    return data


def _instances(prim: Usd.Prim, xforms: UsdGeom.XformCache, terrain: TerrainData) -> Instances:
    """The instances of a PointInstancer: position, yaw and uniform scale of each, in the world frame."""
    instancer = UsdGeom.PointInstancer(prim)
    time = Usd.TimeCode.Default()
    local = instancer.ComputeInstanceTransformsAtTime(time, time, UsdGeom.PointInstancer.ExcludeProtoXform)
    if not local:
        return Instances.empty()
    matrices = np.array(local) @ _world(xforms, prim)
    x_axis = matrices[:, 0, :3]
    xy = matrices[:, 3, :2]
    return Instances(
        positions=matrices[:, 3, :3].copy(),
        yaw=np.arctan2(x_axis[:, 1], x_axis[:, 0]),
        scale=np.linalg.norm(x_axis, axis=1),
        variant=np.array(instancer.GetProtoIndicesAttr().Get(), dtype=np.int64),
        tile=np.column_stack(terrain.tile_of(xy)),
    )


def _collider(prim: Usd.Prim, xforms: UsdGeom.XformCache) -> Colliders:
    """The primitive collider of a collision prim: itself for a Capsule, Sphere or Cube, else its bounding capsule."""
    matrix = _world(xforms, prim)
    scale = np.linalg.norm(matrix[:3, :3], axis=1)
    rotation = Rotation.from_matrix((matrix[:3, :3] / scale[:, None]).T)
    centre = matrix[3, :3]
    if prim.IsA(UsdGeom.Capsule):
        capsule = UsdGeom.Capsule(prim)
        axis = capsule.GetAxisAttr().Get()
        along = "XYZ".index(axis)
        across = np.delete(scale, along).mean()
        sizes = [capsule.GetRadiusAttr().Get() * across, capsule.GetHeightAttr().Get() / 2 * scale[along], 0.0]
        return _one(CAPSULE, centre, (rotation * _CAPSULE_AXES[axis]).as_quat(), sizes)
    if prim.IsA(UsdGeom.Sphere):
        radius = UsdGeom.Sphere(prim).GetRadiusAttr().Get() * scale.max()
        return _one(SPHERE, centre, rotation.as_quat(), [radius, 0.0, 0.0])
    if prim.IsA(UsdGeom.Cube):
        return _one(BOX, centre, rotation.as_quat(), UsdGeom.Cube(prim).GetSizeAttr().Get() / 2 * scale)
    if prim.IsA(UsdGeom.Mesh):
        points = _mesh(prim, xforms).vertices
    else:
        purposes = [UsdGeom.Tokens.default_, UsdGeom.Tokens.render, UsdGeom.Tokens.proxy, UsdGeom.Tokens.guide]
        box = UsdGeom.BBoxCache(Usd.TimeCode.Default(), purposes).ComputeWorldBound(prim).ComputeAlignedRange()
        points = np.array([[box.GetCorner(i)[k] for k in range(3)] for i in range(8)])
    return _bounding_capsule(points)


def _bounding_capsule(points: np.ndarray) -> Colliders:
    """The upright capsule around ``points`` (world frame), centred on their bounding box."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    radius = float(np.hypot(*(points[:, :2] - centre[:2]).T).max())
    half_height = max((high[2] - low[2]) / 2 - radius, 0.0)
    return _one(CAPSULE, centre, np.array([0.0, 0.0, 0.0, 1.0]), [radius, half_height, 0.0])


def _mesh(prim: Usd.Prim, xforms: UsdGeom.XformCache) -> trimesh.Trimesh:
    """A USD mesh as a triangle mesh in the world frame (polygons fanned into triangles)."""
    mesh = UsdGeom.Mesh(prim)
    points = np.array(mesh.GetPointsAttr().Get(), dtype=np.float64).reshape(-1, 3)
    counts = np.array(mesh.GetFaceVertexCountsAttr().Get(), dtype=np.int64)
    indices = np.array(mesh.GetFaceVertexIndicesAttr().Get(), dtype=np.int64)
    fans = np.maximum(counts - 2, 0)
    face = np.repeat(np.arange(len(counts)), fans)
    start = (np.cumsum(counts) - counts)[face]
    corner = np.arange(fans.sum()) - np.repeat(np.cumsum(fans) - fans, fans)
    triangles = np.column_stack([indices[start], indices[start + corner + 1], indices[start + corner + 2]])
    matrix = _world(xforms, prim)
    return trimesh.Trimesh(points @ matrix[:3, :3] + matrix[3, :3], triangles, process=False)


def _world(xforms: UsdGeom.XformCache, prim: Usd.Prim) -> np.ndarray:
    """Local-to-world matrix of a prim, in USD's row-vector convention (``p_world = p @ M``)."""
    return np.array(xforms.GetLocalToWorldTransform(prim))


def _group_name(prim: Usd.Prim, fallback: str) -> str:
    """Asset type of a prim: the ``stripe:asset`` of the prim or its nearest ancestor naming one."""
    while prim and not prim.IsPseudoRoot():
        attribute = prim.GetAttribute(ASSET_ATTR)
        if attribute and attribute.Get():
            return str(attribute.Get())
        prim = prim.GetParent()
    return fallback


def _one(kind: str, centre: np.ndarray, orientation: np.ndarray, sizes: list[float]) -> Colliders:
    """One primitive collider."""
    return Colliders(np.array([kind], dtype="<U8"), np.array([centre], dtype=np.float64),
                     np.array([orientation], dtype=np.float64), np.array([sizes], dtype=np.float64))


def _concatenate_instances(parts: list[Instances]) -> Instances:
    """Join instances of one asset type (several instancers, or the file's and the palette's)."""
    parts = [Instances.empty()] + parts
    return Instances(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in dataclasses.fields(Instances)))


def _extend(scene: GeneratedScene, name: str, instances: Instances, colliders: Colliders) -> None:
    """Add a palette type's instances and colliders to the type of the same name read from the file."""
    scene.instances[name] = _concatenate_instances([scene.instances[name], instances])
    scene.colliders = Colliders.concatenate([scene.colliders, colliders])
    index = scene.asset_names.index(name)
    scene.collider_asset = np.concatenate([scene.collider_asset, np.full(len(colliders), index)])
