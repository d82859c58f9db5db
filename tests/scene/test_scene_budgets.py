"""Sizes that would exhaust memory are refused in one line; asset types that place nothing are reported once."""

from __future__ import annotations

import warnings

import pytest
from isaaclab.utils import configclass

from stripe_kit.errors import SpecError
from stripe_kit.scene import AssetSpec, NoiseTerrainSpec, SceneSpec, TreeSpec, upright_capsules
from stripe_kit.scene.budgets import DARTS, GRID_CELLS, NEIGHBOUR_PAIRS, NOISE_LATTICE_CELLS
from stripe_kit.scene.noise import fractal_noise
from stripe_kit.scene.spec import PlacementWarning

BIG = dict(tile_size=(200.0, 200.0), num_rows=20, num_cols=20, horizontal_scale=50.0, roughness_range=(0.0, 0.0))
"""A 4 km square terrain on a coarse grid: within the grid budget, so the asset budgets decide."""


@pytest.mark.parametrize(
    "make, field, limit",
    [
        (lambda: NoiseTerrainSpec(wavelength=1e-6), "terrain.wavelength", NOISE_LATTICE_CELLS),
        (lambda: NoiseTerrainSpec(horizontal_scale=1e-4), "terrain.horizontal_scale", GRID_CELLS),
        (lambda: NoiseTerrainSpec(tile_size=(1000.0, 1000.0), num_rows=1000, num_cols=1000, horizontal_scale=0.3),
         "terrain.horizontal_scale", GRID_CELLS),
        (lambda: NoiseTerrainSpec(tile_size=(500.0, 500.0), num_rows=8, num_cols=8, horizontal_scale=2.0),
         "terrain.roughness_range", NOISE_LATTICE_CELLS),
        (lambda: SceneSpec(assets=[TreeSpec(patch_wavelength=1e-6)]), "assets.tree.patch_wavelength",
         NOISE_LATTICE_CELLS),
        (lambda: SceneSpec(terrain=NoiseTerrainSpec(**BIG), assets=[TreeSpec(density_range=(1.0, 100.0))]),
         "assets.tree.density_range", DARTS),
        (lambda: SceneSpec(terrain=NoiseTerrainSpec(**BIG), assets=[TreeSpec(density_range=(0.5, 0.5), min_spacing=50)]),
         "assets.tree.min_spacing", NEIGHBOUR_PAIRS),
    ],
)
def test_sizes_beyond_the_budget_are_refused_in_one_line_at_construction(make, field, limit):
    with pytest.raises(SpecError) as error:
        make()
    message = str(error.value)
    assert message.startswith(f"{field}: got "), message
    assert str(limit) in message and "\n" not in message


def test_noise_refuses_a_lattice_beyond_the_budget_before_allocating():
    import numpy as np

    x, y = np.meshgrid(np.linspace(0, 32, 9), np.linspace(0, 32, 9))
    with pytest.raises(SpecError, match=rf"^noise wavelength: got 1e-06; .*{NOISE_LATTICE_CELLS}"):
        fractal_noise(x, y, 0, 1e-6)


def test_budgets_leave_the_documented_scenes_alone():
    from stripe_forest.scenes import ForestSceneSpec

    ForestSceneSpec()
    # the 1 km² benchmark forest of benchmarks/scene_generation.py
    terrain = NoiseTerrainSpec(tile_size=(62.5, 62.5), num_rows=16, num_cols=16, horizontal_scale=0.5)
    SceneSpec(terrain=terrain, assets=[TreeSpec()])


@configclass
class HouseSpec(AssetSpec):
    """A custom asset type whose collider is too wide to ever clear the spawn clearings of 8 m tiles."""

    name: str = "house"
    density_range: tuple[float, float] = (0.05, 0.1)

    def colliders(self, instances):
        return upright_capsules(instances, 5.0, 12.0)


def test_an_asset_type_that_can_never_place_warns_once_naming_it():
    spec = SceneSpec(assets=[TreeSpec(), HouseSpec()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for seed in range(3):
            scene = spec.generate(seed)
            assert len(scene.instances["house"]) == 0 and len(scene.instances["tree"]) > 0
    placement = [str(w.message) for w in caught if issubclass(w.category, PlacementWarning)]
    assert len(placement) == 1, placement
    assert placement[0].startswith("assets.house (HouseSpec) can never place an instance: its colliders reach 6 m")  # 5 m at the largest scale, 1.2


def test_asset_types_that_place_instances_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlacementWarning)
        SceneSpec(assets=[TreeSpec(), HouseSpec(avoid_spawn=False)]).generate(0)
