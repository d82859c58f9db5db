"""Generated scenes: determinism, placement constraints, tile variety and difficulty, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scene_helpers import forest, forest_spec
from scipy.spatial import cKDTree

from stripe_kit.errors import SpecError
from stripe_kit.scene import (
    FileAssetSpec,
    IsaacLabTerrainSpec,
    LogSpec,
    NoiseTerrainSpec,
    RockSpec,
    SceneSpec,
    TreeSpec,
)
from stripe_kit.scene.placement import clear_of, spaced_subset
from stripe_kit.scene.usd_scene import UsdSceneSpec


def test_same_seed_same_scene_other_seed_other_scene():
    again = forest_spec().generate(3)
    assert again.digest() == forest(3).digest()
    assert forest(4).digest() != forest(3).digest()


def test_every_type_keeps_its_spacing():
    scene = forest()
    for asset in scene.spec.assets:
        xy = scene.instances[asset.name].positions[:, :2]
        assert len(xy) > 1, asset.name
        nearest = cKDTree(xy).query(xy, k=2)[0][:, 1]
        assert nearest.min() >= asset.min_spacing, asset.name


def test_every_object_keeps_clear_of_earlier_colliders():
    scene = forest()
    checked = 0
    for index, asset in enumerate(scene.spec.assets):
        earlier = scene.collider_asset < index
        if not earlier.any():
            continue
        obstacles = scene.colliders.positions[earlier, :2]
        reach = scene.colliders.footprint[earlier] + asset.clearance
        xy = scene.instances[asset.name].positions[:, :2]
        gaps = np.linalg.norm(xy[:, None, :] - obstacles[None, :, :], axis=-1) - reach[None, :]
        assert gaps.min() >= 0.0, asset.name
        checked += len(xy)
    assert checked > 100


def test_no_object_or_collider_in_a_spawn_clearing():
    scene = forest()
    radius = scene.spec.terrain.spawn_clearing_radius
    spawn = scene.spawn_points.reshape(-1, 3)[:, :2]
    for name, instances in scene.instances.items():
        distance = np.linalg.norm(instances.positions[:, None, :2] - spawn[None], axis=-1)
        assert distance.min() >= radius, name
    distance = np.linalg.norm(scene.colliders.positions[:, None, :2] - spawn[None], axis=-1)
    assert (distance - scene.colliders.footprint[:, None]).min() >= radius


def test_every_tile_differs():
    scene = forest()
    terrain = scene.terrain
    cells = round(terrain.tile_size[0] / terrain.resolution)
    tiles = {}
    for row, col in itertools.product(range(terrain.num_rows), range(terrain.num_cols)):
        patch = terrain.heights[row * cells:(row + 1) * cells, col * cells:(col + 1) * cells]
        origin = terrain.tile_origins[row, col]
        objects = [inst.positions[(inst.tile == (row, col)).all(axis=1)] - origin for inst in scene.instances.values()]
        tiles[row, col] = (patch - patch.mean()).tobytes() + b"".join(np.round(o, 6).tobytes() for o in objects)
    assert len(set(tiles.values())) == terrain.num_rows * terrain.num_cols


@pytest.mark.parametrize("seed", [0, 1])
def test_difficulty_raises_object_density_and_relief_along_rows(seed):
    scene = forest_spec(num_rows=5, num_cols=4, tile=12.0).generate(seed)
    terrain = scene.terrain
    objects = np.zeros(terrain.num_rows)
    for instances in scene.instances.values():
        np.add.at(objects, instances.tile[:, 0], 1)
    cells = round(terrain.tile_size[0] / terrain.resolution)
    relief = [terrain.heights[row * cells:(row + 1) * cells].std(axis=0).mean() for row in range(terrain.num_rows)]
    assert np.all(np.diff(terrain.tile_difficulty[:, 0]) > 0)
    assert np.all(np.diff(objects) > 0), objects
    assert np.all(np.diff(relief) > 0), relief


def test_default_palette_reaches_a_hundred_thousand_objects_per_square_kilometre():
    terrain = NoiseTerrainSpec(tile_size=(50.0, 50.0), num_rows=4, num_cols=4, horizontal_scale=0.5)
    scene = forest_spec().replace(terrain=terrain).generate(0)
    assert scene.num_objects / (200.0 * 200.0) * 1e6 >= 100_000


def test_clear_of_and_spaced_subset_match_brute_force():
    rng = np.random.default_rng(0)
    points = rng.uniform(0.0, 20.0, (400, 2))
    obstacles = rng.uniform(0.0, 20.0, (60, 2))
    reach = rng.uniform(0.0, 2.5, 60)
    reach[:3] = [0.0, 6.0, 9.0]  # no reach, and a few large clearings of their own reach class
    distance = np.linalg.norm(points[:, None] - obstacles[None], axis=-1)
    assert np.array_equal(clear_of(points, obstacles, reach), np.all(distance >= reach, axis=1))
    kept = spaced_subset(points, 1.5, np.random.default_rng(1))
    pairwise = np.linalg.norm(points[kept][:, None] - points[kept][None], axis=-1) + np.eye(len(kept)) * 99
    assert pairwise.min() >= 1.5
    # maximal: every dropped point has a kept neighbour closer than the spacing
    dropped = np.setdiff1d(np.arange(len(points)), kept)
    assert np.all(np.linalg.norm(points[dropped][:, None] - points[kept][None], axis=-1).min(axis=1) < 1.5)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: NoiseTerrainSpec(tile_size=(-8.0, 8.0)), "terrain.tile_size"),
        (lambda: NoiseTerrainSpec(num_rows=-2), "terrain.num_rows"),
        (lambda: TreeSpec(trunk_radius=-0.1), "assets.tree.trunk_radius"),
        (lambda: RockSpec(min_spacing=math.nan), "assets.rock.min_spacing"),
        (lambda: NoiseTerrainSpec(amplitude_range=(0.1, math.nan)), "terrain.amplitude_range"),
        (lambda: SceneSpec(terrain=NoiseTerrainSpec(tile_size=(2.0, 2.0)), assets=[LogSpec()]),
         "assets.log.min_spacing"),
        (lambda: IsaacLabTerrainSpec(sub_terrains={}), "terrain.sub_terrains"),
        (lambda: UsdSceneSpec(usd_path="/nonexistent/scene.usda"), "usd_path"),
        (lambda: FileAssetSpec(name="crate", path="/nonexistent/crate.obj"), "assets.crate.path"),
        (lambda: forest_spec().generate(-1), "seed"),
    ],
)
def test_bad_input_names_field_value_and_accepted_range(make, field):
    with pytest.raises(SpecError) as error:
        make()
    assert error.value.field == field
    message = str(error.value)
    assert "\n" not in message and message.startswith(f"{field}: got ") and "; expected " in message
