"""Scene interface: procedural generators of plausible environments (terrain plus a palette of asset types)."""

from .assets import (
    AssetSpec,
    BushSpec,
    Colliders,
    FileAssetSpec,
    Instances,
    LogSpec,
    PlacementContext,
    RockSpec,
    TreeSpec,
)
from .spec import GeneratedScene, SceneSpec
from .terrain import IsaacLabTerrainSpec, NoiseTerrainSpec, TerrainData, TerrainSpec

__all__ = [
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
]
