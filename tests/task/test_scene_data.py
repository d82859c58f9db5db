"""The generated scene as device tensors agrees with the generator's own queries."""

from __future__ import annotations

import numpy as np
import torch

from stripe_kit.scene import NoiseTerrainSpec, SceneSpec
from stripe_kit.task.scene_data import SceneTensors


def test_ground_height_matches_the_terrain_everywhere_and_at_its_edges():
    # a non-square grid, so swapped axes cannot pass
    scene = SceneSpec(name="hills", terrain=NoiseTerrainSpec(tile_size=(10.0, 10.0), num_rows=4, num_cols=3)).generate(7)
    terrain = scene.terrain
    xmin, xmax, ymin, ymax = terrain.extent
    rng = np.random.default_rng(0)
    # points over the whole terrain and up to 2 m beyond it, where both read the edge
    xy = np.column_stack([rng.uniform(xmin - 2, xmax + 2, 5000), rng.uniform(ymin - 2, ymax + 2, 5000)])
    expected = terrain.height_at(xy)
    heights = SceneTensors(scene, "cpu").height_at(torch.as_tensor(xy, dtype=torch.float32))
    assert np.ptp(expected) > 0.3  # hilly, so an interpolation error would show
    assert np.abs(heights.numpy() - expected).max() < 1e-4


def test_ground_height_of_a_diverged_robot_stays_finite():
    scene = SceneSpec(name="hills", terrain=NoiseTerrainSpec(tile_size=(10.0, 10.0), num_rows=2, num_cols=2)).generate(7)
    heights = SceneTensors(scene, "cpu").height_at(torch.tensor([[float("nan"), 0.0], [float("inf"), float("nan")]]))
    assert torch.isfinite(heights).all()
