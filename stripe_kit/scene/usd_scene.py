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
from pxr import Sdf, Usd, UsdGeom, UsdPhysics
from scipy.spatial.transform import Rotation

from ..errors import SpecError, check_number
from .assets import BOX, CAPSULE, SPHERE, Colliders, Instances, PlacementContext
from .meshes import USD_EXTENSIONS
from .spec import GeneratedScene, SceneSpec
from .terrain import TerrainData, TerrainSpec, _sample_mesh_heights
from .usd import ASSET_ATTR, SPAWN_POINT_ATTR, TERRAIN_ATTR, asset_name

STATIC_GROUP = "static"
"""Asset type of the file's colliders that lie under no prim naming one (``stripe:asset``)."""

_CAPSULE_AXES = {"X": Rotation.from_euler("y", 90, degrees=True).as_quat(),
                 "Y": Rotation.from_euler("x", -90, degrees=True).as_quat(),
                 "Z": Rotation.identity().as_quat()}
"""Rotation (x, y, z, w) turning the local z axis (the capsule axis of :class:`Colliders`) onto a USD capsule's axis."""


@configclass
class UsdSceneSpec(SceneSpec):
    """A scene read from a USD file, with the asset palette scattered on top, clear of the file's colliders.

    From the file come:

    * the ground: the meshes marked ``stripe:terrain``, else the widest mesh with a collision API, sampled on a
      height grid of ``terrain.horizontal_scale``; tiles of ``terrain.tile_size`` cover it, centred on the origin
      as in Isaac Lab (``terrain.num_rows`` and ``num_cols`` are ignored);
    * colliders: Capsule, Sphere and Cube prims with a collision API, and any other collision geometry as its
      upright bounding capsule;
    * spawn points: prims with ``stripe:spawnPoint``; a tile without one spawns at its centre;
    * instances: each PointInstancer, as the asset type named by ``stripe:asset`` or by the prim name.

    A palette asset type with the same name as one from the file adds its instances to that type, and gives the
    type its meshes when the scene is written (a type without a palette entry is written with marker meshes; an
    entry such as ``TreeSpec(density_range=(0.0, 0.0))`` adds no instances but brings the meshes).
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

    names: dict[Sdf.Path, str] = {}
    groups: dict[str, list[Instances]] = {}
    for prim in instancers:
        name = _group_name(prim, asset_name(prim.GetName()), names)
        groups.setdefault(name, []).append(_instances(prim, xforms, terrain))
    colliders = _colliders(obstacles, xforms)
    collider_group = np.array([_group_name(prim, STATIC_GROUP, names) for prim in obstacles], dtype=object)
    for name in dict.fromkeys(collider_group):
        groups.setdefault(name, [])
    return terrain, {
        name: (_concatenate_instances(instances), _select(colliders, collider_group == name))
        for name, instances in groups.items()
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


def _colliders(prims: list[Usd.Prim], xforms: UsdGeom.XformCache) -> Colliders:
    """Primitive colliders of collision prims: Capsule, Sphere and Cube prims as they are, other geometry as its
    upright bounding capsule.

    Attributes are read prim by prim; transforms become sizes and orientations for all prims at once.
    """
    kinds, matrices, sizes, axes = [], [], [], []
    for prim in prims:
        axis, matrix = "Z", _world(xforms, prim)
        if prim.IsA(UsdGeom.Capsule):
            capsule = UsdGeom.Capsule(prim)
            kind, axis = CAPSULE, capsule.GetAxisAttr().Get()
            size = (capsule.GetRadiusAttr().Get(), capsule.GetHeightAttr().Get() / 2, 0.0)
        elif prim.IsA(UsdGeom.Sphere):
            kind, size = SPHERE, (UsdGeom.Sphere(prim).GetRadiusAttr().Get(), 0.0, 0.0)
        elif prim.IsA(UsdGeom.Cube):
            kind, size = BOX, (UsdGeom.Cube(prim).GetSizeAttr().Get() / 2,) * 3
        else:
            # other geometry: its upright bounding capsule, as an unrotated, unscaled capsule prim at its centre
            kind = CAPSULE
            centre, size = _bounding_capsule(_world_points(prim, xforms))
            matrix = np.eye(4)
            matrix[3, :3] = centre
        kinds.append(kind)
        matrices.append(matrix)
        sizes.append(size)
        axes.append(axis)
    if not prims:
        return Colliders.concatenate([])
    matrices = np.array(matrices)
    kind = np.array(kinds, dtype="<U8")
    # USD matrices are row-vector: row i is the world image of local axis i
    scale = np.linalg.norm(matrices[:, :3, :3], axis=2)
    rotation = Rotation.from_matrix(np.swapaxes(matrices[:, :3, :3] / scale[:, :, None], 1, 2))
    turn = Rotation.from_quat(np.array([_CAPSULE_AXES[axis] for axis in axes]))
    along = np.array(["XYZ".index(axis) for axis in axes])
    scale_along = scale[np.arange(len(prims)), along]
    scale_across = (scale.sum(axis=1) - scale_along) / 2
    sizes = np.array(sizes, dtype=np.float64)
    capsule, sphere, box = kind == CAPSULE, kind == SPHERE, kind == BOX
    sizes[capsule] *= np.column_stack([scale_across, scale_along, scale_along])[capsule]
    sizes[sphere, 0] *= scale[sphere].max(axis=1)
    sizes[box] *= scale[box]
    return Colliders(kind, matrices[:, 3, :3].copy(), (rotation * turn).as_quat(), sizes)


def _world_points(prim: Usd.Prim, xforms: UsdGeom.XformCache) -> np.ndarray:
    """Points bounding a prim's geometry in the world frame: a mesh's vertices, else its bounding box corners."""
    if prim.IsA(UsdGeom.Mesh):
        return _mesh(prim, xforms).vertices
    purposes = [UsdGeom.Tokens.default_, UsdGeom.Tokens.render, UsdGeom.Tokens.proxy, UsdGeom.Tokens.guide]
    box = UsdGeom.BBoxCache(Usd.TimeCode.Default(), purposes).ComputeWorldBound(prim).ComputeAlignedRange()
    return np.array([list(box.GetCorner(i)) for i in range(8)])


def _bounding_capsule(points: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float]]:
    """Centre and sizes of the upright capsule around ``points``, centred on their bounding box."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    radius = float(np.hypot(*(points[:, :2] - centre[:2]).T).max())
    return centre, (radius, max((high[2] - low[2]) / 2 - radius, 0.0), 0.0)


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


def _group_name(prim: Usd.Prim, fallback: str, known: dict[Sdf.Path, str]) -> str:
    """Asset type of a prim: the ``stripe:asset`` of the prim or its nearest ancestor naming one.

    ``known`` memoises the answer for ancestors (without the fallback), so siblings cost one look-up.
    """
    path = prim.GetPath()
    if path not in known:
        attribute = prim.GetAttribute(ASSET_ATTR)
        if attribute and attribute.Get():
            known[path] = str(attribute.Get())
        else:
            parent = prim.GetParent()
            known[path] = "" if parent.IsPseudoRoot() else _group_name(parent, "", known)
    return known[path] or fallback


def _select(colliders: Colliders, mask: np.ndarray) -> Colliders:
    """The colliders where ``mask`` is set."""
    return Colliders(*(getattr(colliders, f.name)[mask] for f in dataclasses.fields(Colliders)))


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
