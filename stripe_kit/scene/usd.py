"""Writing generated scenes to USD: into any open stage (a usd-core file stage, or Isaac Sim's), or to a file.

The scene becomes one subtree under ``root_path``::

    StripeScene           Xform (stripe:seed, stripe:digest)
        Looks/            UsdPreviewSurface materials, one per mesh part (Bark, Foliage, Rock...)
        Terrain           Mesh with a collision API (stripe:terrain)
        Tree, Rock...     PointInstancer per asset type (stripe:asset), its mesh variants under Prototypes/
        Colliders/Tree/   Capsule, Sphere and Cube prims with a collision API, purpose "guide"
        SpawnPoints/      Xform per tile (stripe:spawnPoint)

Visual meshes are instanced (cheap to render); physics sees only the terrain and the primitive colliders.
:class:`stripe_kit.scene.usd_scene.UsdSceneSpec` reads such a subtree back, also after hand edits.
"""

from __future__ import annotations

import os
import re

import numpy as np
import trimesh
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade, Vt

from ..errors import SpecError
from ..files import atomic_path
from .assets import BOX, CAPSULE, SPHERE, AssetSpec, FileAssetSpec
from .meshes import USD_EXTENSIONS, mesh_parts
from .spec import GeneratedScene
from .terrain import terrain_mesh

ROOT_PATH = "/World/StripeScene"
"""Default path of the scene's root prim."""
SPAWN_POINT_ATTR = "stripe:spawnPoint"
"""Custom bool attribute marking an Xform as a spawn point."""
ASSET_ATTR = "stripe:asset"
"""Custom string attribute naming the asset type of an instancer or of a collider scope."""
TERRAIN_ATTR = "stripe:terrain"
"""Custom bool attribute marking a mesh as the ground."""

GROUND_COLOR = (112, 98, 72)
"""sRGB colour (0-255) of the terrain material."""

_COLLIDER_TYPES = {CAPSULE: "Capsule", SPHERE: "Sphere", BOX: "Cube"}


def write_scene(scene: GeneratedScene, stage: Usd.Stage, root_path: str = ROOT_PATH) -> Usd.Prim:
    """Author a generated scene into ``stage`` under ``root_path``, replacing what was there.

    A new stage gets metres, z up and the root's top-level ancestor as default prim; a stage already in other
    units or y up keeps its settings, and the root prim's transform compensates.

    Args:
        scene: The generated scene.
        stage: Any open stage.
        root_path: Absolute path of the scene's root prim.

    Returns:
        The root prim.
    """
    if not Sdf.Path.IsValidPathString(root_path) or not Sdf.Path(root_path).IsPrimPath() or root_path[0] != "/":
        raise SpecError("root_path", root_path, "an absolute prim path such as '/World/StripeScene'")
    path = Sdf.Path(root_path)
    clear_scene(stage, root_path)
    if not stage.HasAuthoredMetadata(UsdGeom.Tokens.upAxis):
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    if not stage.HasAuthoredMetadata(UsdGeom.Tokens.metersPerUnit):
        UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    for ancestor in reversed(path.GetParentPath().GetPrefixes()):
        if not stage.GetPrimAtPath(ancestor):
            UsdGeom.Xform.Define(stage, ancestor)
    root = UsdGeom.Xform.Define(stage, path)
    if not stage.HasDefaultPrim():
        stage.SetDefaultPrim(stage.GetPrimAtPath(path.GetPrefixes()[0]))
    _match_stage_units(stage, root)
    root.GetPrim().CreateAttribute("stripe:seed", Sdf.ValueTypeNames.Int64, custom=True).Set(scene.seed)
    root.GetPrim().CreateAttribute("stripe:digest", Sdf.ValueTypeNames.String, custom=True).Set(scene.digest())

    looks = _Looks(stage, path.AppendChild("Looks"))
    ground = terrain_mesh(scene.terrain, scene.spec.terrain.vertical_scale)
    _write_terrain(stage, path.AppendChild("Terrain"), ground, looks)
    palette = {asset.name: asset for asset in scene.spec.assets}
    for name, instances in scene.instances.items():
        asset = palette.get(name, AssetSpec(name=name))
        instancer = UsdGeom.PointInstancer.Define(stage, path.AppendChild(_instancer_name(name)))
        instancer.GetPrim().CreateAttribute(ASSET_ATTR, Sdf.ValueTypeNames.String, custom=True).Set(name)
        prototypes = _write_prototypes(stage, instancer.GetPath().AppendChild("Prototypes"), asset, looks)
        instancer.CreatePrototypesRel().SetTargets(prototypes)
        instancer.CreatePositionsAttr(Vt.Vec3fArray.FromNumpy(instances.positions.astype(np.float32)))
        # Gf.Quath stores (x, y, z, w) like Isaac Lab, so the array converts as it is
        instancer.CreateOrientationsAttr(Vt.QuathArray.FromNumpy(instances.orientations.astype(np.float16)))
        scales = np.repeat(instances.scale[:, None], 3, axis=1).astype(np.float32)
        instancer.CreateScalesAttr(Vt.Vec3fArray.FromNumpy(scales))
        instancer.CreateProtoIndicesAttr(Vt.IntArray.FromNumpy((instances.variant % len(prototypes)).astype(np.int32)))
        time = Usd.TimeCode.Default()
        extent = instancer.ComputeExtentAtTime(time, time) if len(instances) else None
        if extent:
            instancer.CreateExtentAttr(extent)
    _write_colliders(stage, path.AppendChild("Colliders"), scene)
    _write_spawn_points(stage, path.AppendChild("SpawnPoints"), scene.spawn_points)
    return root.GetPrim()


def export_scene(scene: GeneratedScene, path: str) -> str:
    """Write a generated scene to a USD file, atomically: a failed export leaves no file behind.

    The same scene always gives the same bytes.

    Args:
        scene: The generated scene.
        path: ``.usda`` (text), ``.usdc`` or ``.usd`` (binary) file.

    Returns:
        The absolute path written.
    """
    stage = Usd.Stage.CreateInMemory()
    write_scene(scene, stage)
    return _export_layer(stage.GetRootLayer(), path)


def save_stage(stage: Usd.Stage, path: str) -> str:
    """Write what a stage shows (all its layers flattened) to a USD file, atomically.

    This is how a scene built or edited by hand in Isaac Sim's viewport becomes a file that
    :class:`~stripe_kit.scene.usd_scene.UsdSceneSpec` loads.

    Returns:
        The absolute path written.
    """
    return _export_layer(stage.Flatten(), path)


def _export_layer(layer: Sdf.Layer, path: str) -> str:
    """Export ``layer`` to a temporary file beside ``path`` and rename it, so no half-written file is left."""
    path = os.path.abspath(os.fspath(path))
    extension = os.path.splitext(path)[1].lower()
    if extension not in USD_EXTENSIONS:
        raise SpecError("path", path, f"a file ending in {', '.join(USD_EXTENSIONS)}")
    folder = os.path.dirname(path)
    if not os.path.isdir(folder) or os.path.isdir(path):
        raise SpecError("path", path, "a file path in an existing directory")
    with atomic_path(path, suffix=f".tmp{extension}") as temporary:
        if not layer.Export(str(temporary)):
            raise OSError(f"USD could not write {temporary}")
    return path


def clear_scene(stage: Usd.Stage, root_path: str = ROOT_PATH) -> bool:
    """Remove a scene written by :func:`write_scene` from the stage's edit target.

    Returns:
        Whether there was a prim to remove.
    """
    return bool(stage.GetPrimAtPath(root_path)) and stage.RemovePrim(root_path)


def prim_name(asset_name: str) -> str:
    """Prim name of an asset type: ``tree`` gives ``Tree``, ``big_rock`` gives ``BigRock``."""
    return "".join(word[:1].upper() + word[1:] for word in asset_name.split("_") if word) or "Asset"


def asset_name(name: str) -> str:
    """Asset type of a prim name, the inverse of :func:`prim_name`: ``BigRock`` gives ``big_rock``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _instancer_name(asset_name: str) -> str:
    """Prim name of an asset type's instancer, clear of the scene's own prims (``stripe:asset`` keeps the name)."""
    name = prim_name(asset_name)
    return f"{name}Asset" if name in ("Looks", "Terrain", "Colliders", "SpawnPoints") else name


class _Looks:
    """The scene's materials: one UsdPreviewSurface per part name, made when first used."""

    def __init__(self, stage: Usd.Stage, path: Sdf.Path):
        self.stage = stage
        self.path = path
        self.materials: dict[str, UsdShade.Material] = {}
        UsdGeom.Scope.Define(stage, path)

    def bind(self, prim: Usd.Prim, part: str, color: tuple[int, int, int]) -> None:
        """Bind the material of ``part`` (created with ``color`` if new) to ``prim``."""
        if part not in self.materials:
            material = UsdShade.Material.Define(self.stage, self.path.AppendChild(prim_name(part)))
            shader = UsdShade.Shader.Define(self.stage, material.GetPath().AppendChild("PreviewSurface"))
            shader.CreateIdAttr("UsdPreviewSurface")
            shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*_linear(color)))
            shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.85)
            shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.0)
            material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
            self.materials[part] = material
        UsdShade.MaterialBindingAPI.Apply(prim).Bind(self.materials[part])


def _write_terrain(stage: Usd.Stage, path: Sdf.Path, mesh: trimesh.Trimesh, looks: _Looks) -> None:
    """The ground as a triangle mesh that collides as it is (no convex approximation)."""
    usd_mesh = _define_mesh(stage, path, mesh)
    usd_mesh.GetPrim().CreateAttribute(TERRAIN_ATTR, Sdf.ValueTypeNames.Bool, custom=True).Set(True)
    UsdPhysics.CollisionAPI.Apply(usd_mesh.GetPrim())
    UsdPhysics.MeshCollisionAPI.Apply(usd_mesh.GetPrim()).CreateApproximationAttr(UsdPhysics.Tokens.none)
    looks.bind(usd_mesh.GetPrim(), "ground", GROUND_COLOR)


def _write_prototypes(stage: Usd.Stage, path: Sdf.Path, asset: AssetSpec, looks: _Looks) -> list[Sdf.Path]:
    """The variants of an asset type as prototype prims under ``path``: meshes, or a reference to its USD file."""
    UsdGeom.Scope.Define(stage, path)
    if isinstance(asset, FileAssetSpec) and asset.references_usd:
        # a typeless prim, so that the referenced prim's type (Xform, Mesh...) comes through
        prototype = stage.DefinePrim(path.AppendChild("Variant0"))
        prototype.GetReferences().AddReference(os.path.abspath(asset.path), _referenced_prim(asset))
        return [prototype.GetPath()]
    paths = []
    for index, mesh in enumerate(asset.mesh_variants()):
        usd_mesh = _define_mesh(stage, path.AppendChild(f"Variant{index}"), mesh)
        parts = mesh_parts(mesh)
        if len(parts) == 1:
            looks.bind(usd_mesh.GetPrim(), *parts[0][:2])
        else:
            binding = UsdShade.MaterialBindingAPI.Apply(usd_mesh.GetPrim())
            for part, color, faces in parts:
                indices = Vt.IntArray.FromNumpy(faces.astype(np.int32))
                subset = binding.CreateMaterialBindSubset(prim_name(part), indices)
                looks.bind(subset.GetPrim(), part, color)
            binding.SetMaterialBindSubsetsFamilyType(UsdGeom.Tokens.partition)
        paths.append(usd_mesh.GetPath())
    return paths


def _referenced_prim(asset: FileAssetSpec) -> Sdf.Path:
    """Prim of a USD asset file to reference: its default prim, else its first root prim."""
    layer = Sdf.Layer.FindOrOpen(asset.path)
    roots = list(layer.rootPrims) if layer else []
    if not roots:
        raise SpecError(f"assets.{asset.name}.path", asset.path, "a readable USD file with a root prim")
    return Sdf.Path.absoluteRootPath.AppendChild(layer.defaultPrim or roots[0].name)


def _define_mesh(stage: Usd.Stage, path: Sdf.Path, mesh: trimesh.Trimesh) -> UsdGeom.Mesh:
    """A polygonal (not subdivided) USD mesh of a triangle mesh."""
    usd_mesh = UsdGeom.Mesh.Define(stage, path)
    faces = np.asarray(mesh.faces, dtype=np.int32)
    usd_mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(mesh.vertices, dtype=np.float32)))
    usd_mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(faces), 3, dtype=np.int32)))
    usd_mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(faces.ravel()))
    usd_mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
    usd_mesh.CreateExtentAttr(Vt.Vec3fArray.FromNumpy(np.asarray(mesh.bounds, dtype=np.float32)))
    return usd_mesh


def _write_colliders(stage: Usd.Stage, path: Sdf.Path, scene: GeneratedScene) -> None:
    """The primitive colliders as Capsule, Sphere and Cube prims in a guide (unrendered) scope per asset type.

    Written with the Sdf API in one change block: tens of thousands of prims take seconds, not minutes.
    """
    scope = UsdGeom.Scope.Define(stage, path)
    scope.CreatePurposeAttr(UsdGeom.Tokens.guide)  # inherited by every collider: physics only, never rendered
    layer = stage.GetEditTarget().GetLayer()
    colliders = scene.colliders
    groups = []
    for index, name in enumerate(scene.asset_names):
        members = np.flatnonzero(scene.collider_asset == index)
        if len(members):
            group = UsdGeom.Scope.Define(stage, path.AppendChild(prim_name(name)))
            group.GetPrim().CreateAttribute(ASSET_ATTR, Sdf.ValueTypeNames.String, custom=True).Set(name)
            groups.append((group.GetPath(), members))
    with Sdf.ChangeBlock():
        for group_path, members in groups:
            parent = layer.GetPrimAtPath(group_path)
            for number, index in enumerate(members):
                kind = str(colliders.kind[index])
                type_name = _COLLIDER_TYPES[kind]
                spec = Sdf.PrimSpec(parent, f"{type_name}_{number}", Sdf.SpecifierDef, type_name)
                spec.SetInfo("apiSchemas", Sdf.TokenListOp.Create(prependedItems=["PhysicsCollisionAPI"]))
                centre = Gf.Vec3d(*colliders.positions[index].tolist())
                _set(spec, "xformOp:translate", Sdf.ValueTypeNames.Double3, centre)
                x, y, z, w = colliders.orientations[index].tolist()
                _set(spec, "xformOp:orient", Sdf.ValueTypeNames.Quatf, Gf.Quatf(w, x, y, z))
                sizes = colliders.sizes[index].tolist()
                order = ["xformOp:translate", "xformOp:orient"]
                if kind == CAPSULE:
                    _set(spec, "axis", Sdf.ValueTypeNames.Token, UsdGeom.Tokens.z, uniform=True)
                    _set(spec, "radius", Sdf.ValueTypeNames.Double, sizes[0])
                    _set(spec, "height", Sdf.ValueTypeNames.Double, 2 * sizes[1])
                elif kind == SPHERE:
                    _set(spec, "radius", Sdf.ValueTypeNames.Double, sizes[0])
                else:
                    # a Cube of size 2 scaled by the half extents
                    _set(spec, "size", Sdf.ValueTypeNames.Double, 2.0)
                    _set(spec, "xformOp:scale", Sdf.ValueTypeNames.Double3, Gf.Vec3d(*sizes))
                    order.append("xformOp:scale")
                _set(spec, "xformOpOrder", Sdf.ValueTypeNames.TokenArray, Vt.TokenArray(order), uniform=True)


def _write_spawn_points(stage: Usd.Stage, path: Sdf.Path, spawn_points: np.ndarray) -> None:
    """One marked Xform per tile at its spawn point."""
    UsdGeom.Scope.Define(stage, path)
    for row, col in np.ndindex(spawn_points.shape[:2]):
        point = UsdGeom.Xform.Define(stage, path.AppendChild(f"Spawn_{row}_{col}"))
        point.AddTranslateOp().Set(Gf.Vec3d(*spawn_points[row, col].tolist()))
        point.GetPrim().CreateAttribute(SPAWN_POINT_ATTR, Sdf.ValueTypeNames.Bool, custom=True).Set(True)
        point.GetPrim().CreateAttribute("stripe:tile", Sdf.ValueTypeNames.Int2, custom=True).Set(Gf.Vec2i(row, col))


def _match_stage_units(stage: Usd.Stage, root: UsdGeom.Xform) -> None:
    """Scale (and turn, for a y-up stage) the root so that the scene keeps metres and z up on any stage."""
    metres_per_unit = UsdGeom.GetStageMetersPerUnit(stage)
    if UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y:
        root.AddRotateXOp().Set(-90.0)
    if not np.isclose(metres_per_unit, 1.0):
        root.AddScaleOp().Set(Gf.Vec3d(1.0 / metres_per_unit))


def _set(spec: Sdf.PrimSpec, name: str, type_name: Sdf.ValueTypeName, value: object, uniform: bool = False) -> None:
    """Author one attribute value on a prim spec; ``uniform`` for attributes that the schema declares so."""
    variability = Sdf.VariabilityUniform if uniform else Sdf.VariabilityVarying
    Sdf.AttributeSpec(spec, name, type_name, variability).default = value


def _linear(color: tuple[int, int, int]) -> tuple[float, float, float]:
    """Linear RGB in [0, 1] of an sRGB colour (0-255), as UsdPreviewSurface expects."""
    srgb = np.asarray(color, dtype=np.float64) / 255.0
    return tuple(np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4).tolist())
