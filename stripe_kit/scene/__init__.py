"""Scene interface: procedural generators of plausible environments (terrain plus a palette of asset types)."""

from .assets import (
    BOX,
    CAPSULE,
    COLLIDER_KINDS,
    SPHERE,
    AssetSpec,
    BushSpec,
    Colliders,
    FileAssetSpec,
    Instances,
    LogSpec,
    PlacementContext,
    RockSpec,
    TreeSpec,
    ground_spheres,
    make_colliders,
    upright_capsules,
)
from .preview import render_preview
from .spec import GeneratedScene, SceneSpec
from .terrain import IsaacLabTerrainSpec, NoiseTerrainSpec, TerrainData, TerrainSpec
from .usd import clear_scene, export_scene, write_scene
from .usd_scene import UsdSceneSpec

__all__ = [
    "BOX",
    "CAPSULE",
    "COLLIDER_KINDS",
    "SPHERE",
    "AssetSpec",
    "BushSpec",
    "Colliders",
    "FileAssetSpec",
    "GeneratedScene",
    "Instances",
    "IsaacLabTerrainSpec",
    "LogSpec",
    "NoiseTerrainSpec",
    "PlacementContext",
    "RockSpec",
    "SceneSpec",
    "TerrainData",
    "TerrainSpec",
    "TreeSpec",
    "UsdSceneSpec",
    "clear_scene",
    "export_scene",
    "ground_spheres",
    "make_colliders",
    "render_preview",
    "upright_capsules",
    "write_scene",
]
