"""USD export of generated scenes, and scenes read back from USD files."""

from __future__ import annotations

import os

import numpy as np
import pytest
import trimesh
from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade
from scene_helpers import forest, forest_spec

from stripe_kit.errors import SpecError
from stripe_kit.scene import FileAssetSpec, NoiseTerrainSpec, RockSpec, TreeSpec
from stripe_kit.scene.usd import clear_scene, export_scene, write_scene
from stripe_kit.scene.usd_scene import UsdSceneSpec

ROOT = "/World/StripeScene"


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> str:
    """The shared forest, exported once."""
    return export_scene(forest(), str(tmp_path_factory.mktemp("usd") / "forest.usda"))


def test_export_is_byte_identical_for_the_same_scene_only(exported, tmp_path):
    again = export_scene(forest_spec().generate(3), str(tmp_path / "again.usda"))
    other = export_scene(forest(4), str(tmp_path / "other.usda"))
    with open(exported, "rb") as a, open(again, "rb") as b, open(other, "rb") as c:
        first = a.read()
        assert first == b.read()
        assert first != c.read()


def test_exported_stage_holds_the_scene(exported):
    scene = forest()
    stage = Usd.Stage.Open(exported)
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z
    assert stage.GetDefaultPrim().GetPath() == Sdf.Path("/World")
    terrain = stage.GetPrimAtPath(f"{ROOT}/Terrain")
    assert terrain.HasAPI(UsdPhysics.CollisionAPI)
    assert len(UsdGeom.Mesh(terrain).GetPointsAttr().Get()) == scene.terrain.heights.size

    for name, instances in scene.instances.items():
        instancer = UsdGeom.PointInstancer(stage.GetPrimAtPath(f"{ROOT}/{name.capitalize()}"))
        positions = np.array(instancer.GetPositionsAttr().Get())
        assert len(positions) == len(instancer.GetOrientationsAttr().Get()) == len(instances)
        assert np.allclose(positions, instances.positions, atol=1e-4)
        prototypes = instancer.GetPrototypesRel().GetTargets()
        assert len(prototypes) == 3 and all(stage.GetPrimAtPath(p).IsA(UsdGeom.Mesh) for p in prototypes)
        assert set(instancer.GetProtoIndicesAttr().Get()) <= {0, 1, 2}

    colliders = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.CollisionAPI) and p.GetName() != "Terrain"]
    assert len(colliders) == len(scene.colliders)
    assert all(UsdGeom.Imageable(p).ComputePurpose() == UsdGeom.Tokens.guide for p in colliders)
    kinds = sorted(p.GetTypeName() for p in colliders)
    assert kinds == sorted({"capsule": "Capsule", "sphere": "Sphere", "box": "Cube"}[k] for k in scene.colliders.kind)
    capsule = UsdGeom.Capsule(stage.GetPrimAtPath(f"{ROOT}/Colliders/Tree/Capsule_0"))
    first_tree = np.flatnonzero(scene.collider_asset == 0)[0]
    assert capsule.GetAxisAttr().Get() == "Z"
    assert capsule.GetHeightAttr().Get() == pytest.approx(2 * scene.colliders.sizes[first_tree, 1])

    spawn = [p for p in stage.Traverse() if p.GetAttribute("stripe:spawnPoint").Get()]
    assert len(spawn) == scene.terrain.num_rows * scene.terrain.num_cols


def test_every_mesh_part_has_a_bound_preview_material(exported):
    stage = Usd.Stage.Open(exported)
    looks = {p.GetName(): UsdShade.Material(p) for p in stage.GetPrimAtPath(f"{ROOT}/Looks").GetChildren()}
    assert {"Ground", "Bark", "Foliage", "Needles", "Rock", "Deadwood", "Heartwood"} <= set(looks)
    shader = UsdShade.Shader(stage.GetPrimAtPath(f"{ROOT}/Looks/Bark/PreviewSurface"))
    assert shader.GetIdAttr().Get() == "UsdPreviewSurface"
    bark = shader.GetInput("diffuseColor").Get()
    assert bark[0] > bark[1] > bark[2] > 0  # brown
    tree = UsdGeom.Mesh(stage.GetPrimAtPath(f"{ROOT}/Tree/Prototypes/Variant0"))
    subsets = UsdShade.MaterialBindingAPI(tree.GetPrim()).GetMaterialBindSubsets()
    bound = {UsdShade.MaterialBindingAPI(s.GetPrim()).ComputeBoundMaterial()[0].GetPath().name for s in subsets}
    assert bound == {"Bark", "Foliage"}
    faces = sum(len(s.GetIndicesAttr().Get()) for s in subsets)
    assert faces == len(tree.GetFaceVertexCountsAttr().Get())


def test_write_scene_into_an_open_stage_in_centimetres_and_clear_it():
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageMetersPerUnit(stage, 0.01)
    stage.SetDefaultPrim(UsdGeom.Xform.Define(stage, "/Env").GetPrim())
    root = write_scene(forest(), stage, "/Env/Forest")
    assert stage.GetDefaultPrim().GetPath() == Sdf.Path("/Env")
    assert UsdGeom.GetStageMetersPerUnit(stage) == 0.01
    world = UsdGeom.Xformable(root).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    assert world.Transform(Gf.Vec3d(1, 0, 0))[0] == pytest.approx(100.0)
    write_scene(forest(), stage, "/Env/Forest")  # writing again replaces the scene
    assert len(stage.GetPrimAtPath("/Env").GetChildren()) == 1
    assert clear_scene(stage, "/Env/Forest")
    assert not stage.GetPrimAtPath("/Env/Forest")
    assert not clear_scene(stage, "/Env/Forest")
    y_up = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(y_up, UsdGeom.Tokens.y)
    root = write_scene(forest(), y_up)
    world = UsdGeom.Xformable(root).ComputeLocalToWorldTransform(Usd.TimeCode.Default())
    assert np.allclose(world.TransformDir(Gf.Vec3d(0, 0, 1)), (0, 1, 0))  # the scene's up is the stage's up


def test_file_assets_become_meshes_or_references(tmp_path):
    crate = tmp_path / "crate.obj"
    trimesh.creation.box(extents=(0.5, 0.5, 0.5)).export(crate)
    statue = tmp_path / "statue.usda"
    stage = Usd.Stage.CreateNew(str(statue))
    UsdGeom.Sphere.Define(stage, "/Statue")
    stage.GetRootLayer().Save()
    spec = forest_spec().replace(assets=[
        FileAssetSpec(name="crate", path=str(crate), collider_radius=0.25, collider_height=0.6,
                      density_range=(0.1, 0.1)),
        FileAssetSpec(name="statue", path=str(statue), density_range=(0.02, 0.02), min_spacing=2.0),
    ])
    out = Usd.Stage.Open(export_scene(spec.generate(0), str(tmp_path / "files.usdc")))
    crate_proto = out.GetPrimAtPath(f"{ROOT}/Crate/Prototypes/Variant0")
    assert crate_proto.IsA(UsdGeom.Mesh) and len(UsdGeom.Mesh(crate_proto).GetFaceVertexCountsAttr().Get()) == 12
    statue_proto = out.GetPrimAtPath(f"{ROOT}/Statue/Prototypes/Variant0")
    assert statue_proto.HasAuthoredReferences() and statue_proto.GetTypeName() == "Sphere"


def test_failed_export_leaves_no_file(tmp_path):
    with pytest.raises(SpecError, match="^path: "):
        export_scene(forest(), str(tmp_path / "missing" / "scene.usda"))
    assert not (tmp_path / "missing").exists()
    target = tmp_path / "scene.usda"
    target.write_text("previous export")
    broken = tmp_path / "broken.obj"
    broken.write_text("this is not a mesh\n")
    spec = forest_spec().replace(assets=[FileAssetSpec(name="broken", path=str(broken), density_range=(0.1, 0.1))])
    with pytest.raises(SpecError, match="^assets.broken.path: "):
        export_scene(spec.generate(0), str(target))
    assert target.read_text() == "previous export"
    assert sorted(os.listdir(tmp_path)) == ["broken.obj", "scene.usda"]
    with pytest.raises(SpecError, match="^path: "):
        export_scene(forest(), str(tmp_path / "scene.txt"))


def test_exported_scene_reads_back_with_the_same_colliders(exported):
    scene = forest()
    loaded = UsdSceneSpec(usd_path=exported, terrain=scene.spec.terrain).generate(0)
    assert len(loaded.colliders) == len(scene.colliders)
    assert np.allclose(loaded.colliders.positions, scene.colliders.positions, atol=1e-6)
    assert np.array_equal(loaded.colliders.kind, scene.colliders.kind)
    assert np.allclose(loaded.colliders.sizes, scene.colliders.sizes, atol=1e-6)
    alignment = np.abs(np.sum(loaded.colliders.orientations * scene.colliders.orientations, axis=1))
    assert np.allclose(alignment, 1.0, atol=1e-6)  # the same rotations (q and -q alike)
    assert loaded.asset_names == scene.asset_names
    for name, instances in scene.instances.items():
        assert np.allclose(loaded.instances[name].positions, instances.positions, atol=1e-4)
        assert np.array_equal(loaded.instances[name].tile, instances.tile)
    assert np.allclose(loaded.spawn_points, scene.spawn_points)
    assert np.allclose(loaded.terrain.heights, scene.terrain.heights, atol=1e-4)


def test_usd_scene_palette_adds_objects_clear_of_the_file(exported):
    scene = forest()
    loaded = UsdSceneSpec(usd_path=exported, terrain=scene.spec.terrain,
                          assets=[TreeSpec(density_range=(0.3, 0.3)), RockSpec(name="boulder")]).generate(5)
    assert len(loaded.instances["tree"]) > len(scene.instances["tree"])
    assert len(loaded.instances["boulder"]) > 0
    new_trees = loaded.instances["tree"].positions[len(scene.instances["tree"]):, :2]
    distance = np.linalg.norm(new_trees[:, None] - scene.colliders.positions[None, :, :2], axis=-1)
    gaps = distance - scene.colliders.footprint
    assert gaps.min() >= TreeSpec().clearance


def test_usd_scene_reads_a_hand_made_stage(tmp_path):
    path = str(tmp_path / "hand_made.usda")
    stage = Usd.Stage.CreateNew(path)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    ground = UsdGeom.Mesh.Define(stage, "/World/Ground")  # a 30 m x 20 m ramp of two quads, unmarked
    ground.CreatePointsAttr([(-15, -10, 0), (0, -10, 1), (15, -10, 2), (-15, 10, 0), (0, 10, 1), (15, 10, 2)])
    ground.CreateFaceVertexCountsAttr([4, 4])
    ground.CreateFaceVertexIndicesAttr([0, 1, 4, 3, 1, 2, 5, 4])
    UsdPhysics.CollisionAPI.Apply(ground.GetPrim())
    box = UsdGeom.Cube.Define(stage, "/World/Crate")
    box.AddTranslateOp().Set(Gf.Vec3d(3, 4, 1.5))
    box.AddRotateZOp().Set(30.0)
    box.AddScaleOp().Set(Gf.Vec3d(1, 2, 0.5))
    UsdPhysics.CollisionAPI.Apply(box.GetPrim())
    pillar = UsdGeom.Cylinder.Define(stage, "/World/Pillar")
    pillar.AddTranslateOp().Set(Gf.Vec3d(-6, 2, 2))
    UsdPhysics.CollisionAPI.Apply(pillar.GetPrim())
    marker = UsdGeom.Xform.Define(stage, "/World/Start")
    marker.AddTranslateOp().Set(Gf.Vec3d(-9, -3, 0.5))
    marker.GetPrim().CreateAttribute("stripe:spawnPoint", Sdf.ValueTypeNames.Bool, custom=True).Set(True)
    stage.GetRootLayer().Save()

    terrain = NoiseTerrainSpec(tile_size=(10.0, 10.0), horizontal_scale=0.25)
    scene = UsdSceneSpec(usd_path=path, terrain=terrain).generate(0)
    assert (scene.terrain.num_rows, scene.terrain.num_cols) == (3, 2)
    assert scene.terrain.height_at(np.array([[0.0, 0.0], [7.5, 5.0]])) == pytest.approx([1.0, 1.5], abs=1e-3)
    assert np.allclose(scene.spawn_points[0, 0], [-9, -3, 0.5])  # the marked tile spawns at its marker
    assert np.allclose(scene.spawn_points[1, 1], [0, 5, scene.terrain.height_at(np.array([[0.0, 5.0]]))[0]])
    assert scene.asset_names == ["static"]
    kinds = dict(zip(scene.colliders.kind, range(2)))
    crate, pillar = kinds["box"], kinds["capsule"]
    assert np.allclose(scene.colliders.sizes[crate], [1, 2, 0.5])
    assert np.allclose(scene.colliders.positions[crate], [3, 4, 1.5])
    x_axis = trimesh.transformations.quaternion_matrix(np.roll(scene.colliders.orientations[crate], 1))[:3, 0]
    assert np.allclose(x_axis, [np.cos(np.pi / 6), np.sin(np.pi / 6), 0])
    assert np.allclose(scene.colliders.positions[pillar], [-6, 2, 2])
    assert scene.colliders.sizes[pillar, 0] == pytest.approx(np.sqrt(2))  # the bounding capsule of a 2 x 2 x 2 cylinder


def test_unreadable_usd_file_names_usd_path(tmp_path):
    broken = tmp_path / "broken.usda"
    broken.write_text("#usda 1.0\ndef Xform \"A\" {{{\n")
    with pytest.raises(SpecError, match="^usd_path: "):
        UsdSceneSpec(usd_path=str(broken)).generate(0)
    empty = tmp_path / "empty.usda"
    stage = Usd.Stage.CreateNew(str(empty))
    stage.GetRootLayer().Save()
    with pytest.raises(SpecError, match="^usd_path: .*ground Mesh"):
        UsdSceneSpec(usd_path=str(empty)).generate(0)
    with pytest.raises(SpecError, match="^usd_path: "):
        UsdSceneSpec(usd_path=str(tmp_path / "scene.obj"))

