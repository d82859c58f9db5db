"""A user's asset type written with the public collider kinds and helpers of :mod:`stripe_kit.scene`."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from isaaclab.utils import configclass
from pxr import Usd, UsdGeom

from stripe_kit.errors import SpecError
from stripe_kit.scene import (
    BOX,
    CAPSULE,
    COLLIDER_KINDS,
    SPHERE,
    AssetSpec,
    Colliders,
    NoiseTerrainSpec,
    SceneSpec,
    TreeSpec,
    export_scene,
    ground_spheres,
    make_colliders,
    upright_capsules,
)


@configclass
class PostSpec(AssetSpec):
    """A post with a stone on top: an upright capsule, a sphere and a box (the box collides in USD only)."""

    name: str = "post"
    density_range: tuple[float, float] = (0.1, 0.3)
    radius: float = 0.1
    height: float = 1.2

    def colliders(self, instances):
        plate = make_colliders(BOX, instances.positions + [0.0, 0.0, 0.05], instances.orientations,
                               np.tile([0.3, 0.3, 0.05], (len(instances), 1)) * instances.scale[:, None])
        return Colliders.concatenate([upright_capsules(instances, self.radius, self.height),
                                      ground_spheres(instances, 0.2, sink=0.5), plate])

    def mesh_variants(self):
        post = trimesh.creation.cylinder(radius=self.radius, height=self.height)
        post.apply_translation((0.0, 0.0, self.height / 2))
        post.visual.face_colors = (150, 110, 70, 255)
        return [post]


def test_collider_kinds_are_public():
    assert COLLIDER_KINDS == (CAPSULE, SPHERE, BOX) == ("capsule", "sphere", "box")


def test_a_custom_asset_type_collides_as_its_helpers_say_and_keeps_its_colour(tmp_path):
    spec = SceneSpec(name="posts", terrain=NoiseTerrainSpec(style="flat", tile_size=(8.0, 8.0), num_rows=2, num_cols=2),
                     assets=[PostSpec(scale_range=(1.0, 2.0))])
    scene = spec.generate(1)
    posts = scene.instances["post"]
    n = len(posts)
    assert n > 5
    colliders = scene.colliders
    assert list(colliders.kind) == [CAPSULE] * n + [SPHERE] * n + [BOX] * n
    capsule, sphere = slice(0, n), slice(n, 2 * n)
    # capsules stand on the ground, as tall as the post at each instance's scale
    radius, half = colliders.sizes[capsule, 0], colliders.sizes[capsule, 1]
    assert np.allclose(radius, 0.1 * posts.scale)
    assert np.allclose(colliders.positions[capsule, 2] - half - radius, posts.positions[:, 2])
    assert np.allclose(colliders.positions[capsule, 2] + half + radius, posts.positions[:, 2] + 1.2 * posts.scale)
    # spheres sunk by half their radius: centre at ground level
    assert np.allclose(colliders.sizes[sphere, 0], 0.2 * posts.scale)
    assert np.allclose(colliders.positions[sphere, 2], posts.positions[:, 2])
    # the footprint the placement keeps clear counts the widest shape (the plate)
    assert PostSpec(scale_range=(1.0, 2.0)).max_footprint() == pytest.approx(np.hypot(0.6, 0.6))

    path = export_scene(scene, tmp_path / "posts.usda")
    stage = Usd.Stage.Open(str(path))
    paths = [str(prim.GetPath()) for prim in stage.Traverse()]
    assert any(p.endswith("/Looks/Color966e46") for p in paths)  # the face colour (150, 110, 70), as a material
    cubes = [prim for prim in stage.Traverse() if prim.IsA(UsdGeom.Cube)]
    assert len(cubes) == n


def test_the_built_in_trunk_is_an_upright_capsule():
    scene = SceneSpec(terrain=NoiseTerrainSpec(tile_size=(8.0, 8.0), num_rows=2, num_cols=2),
                      assets=[TreeSpec()]).generate(2)
    trees = scene.instances["tree"]
    expected = upright_capsules(trees, TreeSpec().trunk_radius, TreeSpec().collider_height)
    assert len(trees) and np.array_equal(scene.colliders.positions, expected.positions)
    assert np.array_equal(scene.colliders.sizes, expected.sizes)


@pytest.mark.parametrize(
    "args, field, value",
    [
        (("cone", np.zeros((1, 3)), np.zeros((1, 4)), np.zeros((1, 3))), "collider kind", "cone"),
        ((CAPSULE, np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 2))), "colliders.sizes", "(2, 2)"),
        ((SPHERE, np.zeros((2, 3)), np.zeros((1, 4)), np.zeros((2, 3))), "colliders.orientations", "(1, 4)"),
    ],
)
def test_bad_colliders_are_one_line_naming_what_is_wrong(args, field, value):
    with pytest.raises(SpecError) as error:
        make_colliders(*args)
    assert error.value.field == field and value in str(error.value) and "\n" not in str(error.value)
