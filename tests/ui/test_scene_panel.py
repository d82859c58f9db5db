"""Scene panel view-model: fields made from the forest spec, validated by the spec itself, generate, USD, observers.

Runs on the real stack (configclass specs, generation, pxr in-memory stages); no Kit.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import sys
from pathlib import Path

import pytest

if importlib.util.find_spec("stripe_forest") is None:  # not pip-installed: use the showcase from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "exts"))

from stripe_forest.scenes import ForestSceneSpec  # noqa: E402

from stripe_kit.errors import SpecError  # noqa: E402
from stripe_kit.scene import SceneSpec  # noqa: E402
from stripe_kit.ui import ScenePanelModel, SpecFields  # noqa: E402


def _expected_names(spec: SceneSpec) -> set[str]:
    """Dotted names of every value field of a scene spec, walked independently of the code under test."""
    names = set()
    for f in dataclasses.fields(spec):
        value = getattr(spec, f.name)
        if f.name == "terrain":
            names |= {f"terrain.{t.name}" for t in dataclasses.fields(value)}
        elif f.name == "assets":
            names |= {f"assets.{a.name}.{af.name}" for a in value for af in dataclasses.fields(a)}
        elif not isinstance(value, type):  # scene_class is a class, not a value to edit
            names.add(f.name)
    return names


@pytest.fixture
def model() -> ScenePanelModel:
    model = ScenePanelModel()
    assert model.selected == "forest", model.spec_names
    return model


@pytest.fixture
def small(model: ScenePanelModel) -> ScenePanelModel:
    """The forest on a 2 x 3 tile grid, quick to generate."""
    assert model.set_field("terrain.num_rows", 2) and model.set_field("terrain.num_cols", "3"), model.error
    return model


def test_every_forest_field_is_listed(model: ScenePanelModel):
    spec = ForestSceneSpec()
    assert set(model.form.names) == _expected_names(spec)
    assert len(model.form.names) == len(set(model.form.names))
    for field in model.fields:
        assert field.label and field.tooltip, field.name
        assert field.kind in ("float", "int", "bool", "str", "range")
    assert model.field("terrain.num_rows").kind == "int" and model.field("terrain.num_rows").value == 6
    assert model.field("terrain.style").kind == "str" and model.field("terrain.style").value == "hills"
    assert model.field("terrain.tile_size").kind == "range" and model.field("terrain.tile_size").value == (8.0, 8.0)
    spacing = model.field("assets.tree.min_spacing")
    assert spacing.value == 1.6 and spacing.label == "Min spacing" and spacing.group == "assets.tree"
    assert model.field("assets.bush.avoid_spawn").kind == "bool"
    assert model.field("assets.tree.name").read_only
    # tooltips are the attribute docstrings, inherited where a subclass overrides the default only
    assert model.field("terrain.num_rows").tooltip.startswith("Tiles along x")
    assert model.field("assets.tree.density_range").tooltip.startswith("Instances per square metre")
    assert set(model.form.groups()) == {"", "terrain", "assets.tree", "assets.rock", "assets.log", "assets.bush"}


def test_text_round_trips_for_every_field(model: ScenePanelModel):
    for field in model.fields:
        if field.read_only:
            continue
        before = field.value
        assert field.set(field.text), f"{field.name}: {field.error}"
        assert field.value == before and type(field.value) is type(before), field.name


def test_valid_edits_rebuild_the_spec(model: ScenePanelModel):
    old_spec = model.spec
    assert model.set_field("terrain.tile_size", "(6, 7.5)")
    assert model.set_field("assets.tree.min_spacing", 2)
    assert model.set_field("assets.bush.avoid_spawn", "false")
    assert model.set_field("terrain.style", "ridges")
    spec = model.spec
    assert spec is not old_spec and isinstance(spec, ForestSceneSpec)
    assert spec.terrain.tile_size == (6.0, 7.5) and spec.terrain.style == "ridges"
    assert spec.assets[0].min_spacing == 2.0 and isinstance(spec.assets[0].min_spacing, float)
    assert spec.assets[3].avoid_spawn is False
    assert old_spec.terrain.tile_size == (8.0, 8.0)  # the old spec is untouched
    assert model.error is None and model.form.errors == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("terrain.tile_size", "-8, 8"),
        ("terrain.tile_size", (8.0, 2000.0)),
        ("terrain.num_rows", -1),
        ("terrain.num_rows", "2.5"),
        ("terrain.wavelength", "nan"),
        ("terrain.wavelength", float("nan")),
        ("terrain.style", "swamp"),
        ("terrain.spawn_clearing_radius", 5.0),
        ("assets.tree.min_spacing", "-1"),
        ("assets.tree.min_spacing", 9.0),  # larger than a tile: refused by the scene spec, not the asset spec
        ("assets.tree.density_range", "0.5, 0.1"),
        ("assets.tree.patchiness", "abc"),
        ("assets.rock.radius", 0.0),
        ("assets.log.length", "0.1"),
        ("assets.bush.avoid_spawn", "maybe"),
        ("assets.tree.name", "oak"),
        ("seed", -1),
    ],
)
def test_invalid_edit_is_refused_with_the_field_and_keeps_the_old_value(model: ScenePanelModel, name: str, value):
    field = model.field(name)
    old_value, old_spec = field.value, model.spec
    events = []
    model.subscribe(events.append)
    assert not model.set_field(name, value)
    assert field.value == old_value and model.spec is old_spec
    assert field.error and model.error == field.error and "\n" not in field.error
    assert name.rsplit(".", 1)[-1] in field.error
    assert events == ["error"]
    # a later valid edit of the same field clears its error
    assert field.set(field.text) and field.error is None and model.error is None


def test_errors_are_the_specs_own_messages(model: ScenePanelModel):
    spec = model.spec
    cases = [
        ("terrain.num_rows", -3, lambda: spec.terrain.replace(num_rows=-3)),
        ("terrain.style", "swamp", lambda: spec.terrain.replace(style="swamp")),
        ("assets.rock.sink", 2.0, lambda: spec.assets[1].replace(sink=2.0)),
        ("assets.tree.min_spacing", 9.0, lambda: spec.replace(assets=[spec.assets[0].replace(min_spacing=9.0)])),
        ("seed", -1, lambda: spec.replace(seed=-1)),
    ]
    for name, value, build in cases:
        with pytest.raises(SpecError) as exc:
            build()
        assert not model.set_field(name, value)
        assert model.field(name).error == str(exc.value)


def test_every_number_refuses_nan(model: ScenePanelModel):
    for field in model.fields:
        if field.kind not in ("float", "int", "range"):
            continue
        text = "nan, 1" if field.kind == "range" else "nan"
        before = field.value
        assert not field.set(text), field.name
        assert field.name.rsplit(".", 1)[-1] in field.error and "nan" in field.error, field.error
        assert field.value == before or (isinstance(before, float) and math.isnan(before))


def test_spec_fields_on_a_plain_spec():
    form = SpecFields(SceneSpec(), exclude=("seed",))
    assert "seed" not in form and "terrain.num_rows" in form and "scene_class" not in form
    assert not form.set("nope", 1) and "nope" in form.error
    with pytest.raises(TypeError):
        SpecFields(SceneSpec)


def test_registry_selection_and_reset(model: ScenePanelModel):
    events = []
    model.subscribe(events.append)
    model.register(SceneSpec(name="plain"))
    assert model.spec_names == ["forest", "plain"] and model.selected == "forest"
    assert model.set_field("terrain.num_rows", 3)
    assert model.select("plain") and model.spec.name == "plain" and model.field("terrain.num_rows").value == 4
    assert not model.select("jungle") and "jungle" in model.error and model.selected == "plain"
    assert model.select("forest") and model.field("terrain.num_rows").value == 3  # edits kept per spec
    model.reset()
    assert model.field("terrain.num_rows").value == 6
    model.unregister("forest")
    assert model.spec_names == ["plain"] and model.selected == "plain"
    assert events[:3] == ["specs", "field", "selection"] and "error" in events
    with pytest.raises(TypeError):
        model.register(object())
    assert ScenePanelModel([SceneSpec(name="only")], register_showcase=False).spec_names == ["only"]
    assert ScenePanelModel(register_showcase=False).spec_names == ["scene"]  # never empty


def test_generate_summarizes_the_scene(small: ScenePanelModel):
    assert small.summary is None and not small.is_current
    assert small.set_seed("5") and small.seed == 5
    scene = small.generate()
    assert scene is not None and small.error is None and small.is_current
    summary = small.summary
    assert summary.grid == (2, 3) and summary.seed == 5 and summary.tile_size == (8.0, 8.0)
    assert summary.counts == {name: len(inst) for name, inst in scene.instances.items()}
    assert list(summary.counts) == ["tree", "rock", "log", "bush"]
    assert summary.num_objects == scene.num_objects > 0 and summary.num_colliders == len(scene.colliders)
    assert any("2 x 3 tiles" in line for line in summary.lines())
    assert small.generate().digest() == scene.digest()  # seeded: the same scene again
    assert small.set_seed(6) and not small.is_current
    assert small.set_field("assets.tree.min_spacing", 2.0) and not small.is_current


def test_observers(small: ScenePanelModel):
    seen, other = [], []

    def broken(event: str) -> None:
        raise RuntimeError("front end bug")

    small.subscribe(broken)
    unsubscribe = small.subscribe(seen.append)
    small.subscribe(other.append)
    small.set_field("terrain.octaves", 3)
    small.set_field("terrain.octaves", 99)
    small.generate()
    assert seen == other == ["field", "error", "scene"]  # a failing observer does not stop the others
    unsubscribe()
    small.unsubscribe(broken)
    small.unsubscribe(broken)  # no-op
    small.generate()
    assert seen == ["field", "error", "scene"] and other[-1] == "scene"


def test_stage_actions_report_errors_instead_of_raising(small: ScenePanelModel):
    assert not small.write_to_stage(None) and "stage" in small.error
    assert not small.clear(None) and "stage" in small.error


def test_write_to_stage_and_clear(small: ScenePanelModel):
    Usd = pytest.importorskip("pxr.Usd")
    stage = Usd.Stage.CreateInMemory()
    events = []
    small.subscribe(events.append)
    assert small.write_to_stage(stage), small.error
    assert small.is_current and small.summary is not None  # generated on demand
    root = stage.GetPrimAtPath(small.root_path)
    assert root.IsValid() and len(list(Usd.PrimRange(root))) > 1
    assert events == ["scene", "stage"]
    assert small.write_to_stage(stage), small.error  # writing again replaces the scene
    assert small.clear(stage), small.error
    assert not stage.GetPrimAtPath(small.root_path).IsValid()
    assert small.clear(stage), small.error  # clearing an empty stage is fine
    assert small.status.startswith("nothing to clear")
    assert not small.write_to_stage(stage, "not a path") and small.error.startswith("root_path: got 'not a path'")
    assert small.write_to_stage(stage, "/Other/Forest"), small.error
    assert stage.GetPrimAtPath("/Other/Forest").IsValid()
    assert small.clear(stage, "/Other/Forest") and not stage.GetPrimAtPath("/Other/Forest").IsValid()


def test_save_as_scene_keeps_viewport_edits(small: ScenePanelModel, tmp_path):
    """A scene written into the stage, edited there (a collider and a spawn point moved), saved, loads back."""
    from pxr import Gf, Usd, UsdGeom, UsdPhysics

    from stripe_kit.scene import UsdSceneSpec

    stage = Usd.Stage.CreateInMemory()
    assert small.write_to_stage(stage), small.error
    written = small.scene
    colliders = [prim for prim in Usd.PrimRange(stage.GetPrimAtPath(small.root_path)) if prim.HasAPI(UsdPhysics.CollisionAPI)
                 and prim.GetTypeName() in ("Capsule", "Sphere", "Cube")]
    moved = UsdGeom.Xformable(colliders[0])
    moved.ClearXformOpOrder()
    moved.AddTranslateOp().Set(Gf.Vec3d(1.5, -2.5, 0.7))
    spawn = next(prim for prim in Usd.PrimRange(stage.GetPrimAtPath(small.root_path))
                 if prim.GetAttribute("stripe:spawnPoint").IsValid())
    start = UsdGeom.Xformable(spawn).ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation()
    target = (start[0] + 0.5, start[1] + 0.5)  # moved within its tile
    UsdGeom.Xformable(spawn).ClearXformOpOrder()
    UsdGeom.Xformable(spawn).AddTranslateOp().Set(Gf.Vec3d(target[0], target[1], start[2]))

    path = tmp_path / "edited.usda"
    assert small.save_as_scene(stage, str(path)), small.error
    assert small.status.startswith(f"saved {path}")
    loaded = UsdSceneSpec(usd_path=str(path), terrain=small.spec.terrain).generate(0)
    assert len(loaded.colliders) == len(written.colliders)
    assert (abs(loaded.colliders.positions - [1.5, -2.5, 0.7]).sum(axis=1) < 1e-5).any()
    assert (abs(loaded.spawn_points[..., :2].reshape(-1, 2) - target).sum(axis=1) < 1e-5).any()
    assert not small.save_as_scene(stage, str(tmp_path / "missing" / "x.usda")) and small.error.startswith("path:")
    assert not list(tmp_path.glob("missing*"))
