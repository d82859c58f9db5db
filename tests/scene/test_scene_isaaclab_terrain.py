"""Scenes on Isaac Lab's own sub-terrains."""

from __future__ import annotations

import numpy as np
import pytest
from isaaclab.terrains import HfRandomUniformTerrainCfg, MeshPyramidStairsTerrainCfg
from pxr import Usd, UsdGeom

from stripe_kit.scene import IsaacLabTerrainSpec, RockSpec, SceneSpec, TreeSpec
from stripe_kit.scene.usd import export_scene

STAIRS = MeshPyramidStairsTerrainCfg(proportion=0.5, step_height_range=(0.05, 0.2), step_width=0.5, platform_width=2.0)
ROUGH = HfRandomUniformTerrainCfg(proportion=0.5, noise_range=(0.0, 0.06), noise_step=0.01)


def test_isaaclab_sub_terrains_generate_and_hold_objects(tmp_path):
    terrain = IsaacLabTerrainSpec(tile_size=(8.0, 8.0), num_rows=2, num_cols=2, horizontal_scale=0.1,
                                  sub_terrains={"stairs": STAIRS, "rough": ROUGH})
    spec = SceneSpec(terrain=terrain, assets=[TreeSpec(density_range=(0.2, 0.2)), RockSpec(max_slope=100.0)])
    scene = spec.generate(2)
    heights = scene.terrain.heights
    assert heights.shape == (161, 161) and np.ptp(heights) > 0.1
    assert scene.terrain.tile_origins.shape == (2, 2, 3)
    assert len(scene.instances["tree"]) > 5 and len(scene.instances["rock"]) > 0
    # objects stand on the sampled ground, outside the spawn clearings
    spawn = scene.spawn_points.reshape(-1, 3)[:, :2]
    for instances in scene.instances.values():
        assert np.allclose(instances.positions[:, 2], scene.terrain.height_at(instances.positions[:, :2]))
        gaps = np.linalg.norm(instances.positions[:, None, :2] - spawn[None], axis=-1)
        assert gaps.min() >= terrain.spawn_clearing_radius
    stage = Usd.Stage.Open(export_scene(scene, str(tmp_path / "stairs.usdc")))
    ground = UsdGeom.Mesh(stage.GetPrimAtPath("/World/StripeScene/Terrain"))
    assert len(ground.GetFaceVertexCountsAttr().Get()) == len(scene.terrain.mesh.faces)


def test_isaaclab_random_sub_terrains_are_seeded():
    """Isaac Lab's random height fields draw from numpy's global generator; the spec seeds and restores it."""
    terrain = IsaacLabTerrainSpec(tile_size=(8.0, 8.0), num_rows=1, num_cols=1, sub_terrains={"rough": ROUGH})
    assert np.array_equal(terrain.generate(2).heights, terrain.generate(2).heights)
