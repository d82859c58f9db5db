"""Procedural visual meshes of the asset types."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from stripe_kit.errors import SpecError
from stripe_kit.scene import AssetSpec, BushSpec, FileAssetSpec, LogSpec, RockSpec, TreeSpec
from stripe_kit.scene.meshes import PART_COLORS, mesh_parts

BUILT_IN = [TreeSpec(), RockSpec(), LogSpec(), BushSpec()]


@pytest.mark.parametrize("asset", BUILT_IN, ids=lambda a: a.name)
def test_variants_are_deterministic_distinct_low_poly_and_on_the_ground(asset):
    variants = asset.mesh_variants()
    again = asset.mesh_variants()
    assert len(variants) == asset.num_variants
    for mesh, copy in zip(variants, again):
        assert np.array_equal(mesh.vertices, copy.vertices) and np.array_equal(mesh.faces, copy.faces)
        assert 40 <= len(mesh.faces) <= 1000
        assert {name for name, _, _ in mesh_parts(mesh)} <= set(PART_COLORS)
    assert len({mesh.vertices.tobytes() for mesh in variants}) == len(variants)
    lowest = min(mesh.bounds[0, 2] for mesh in variants)
    if isinstance(asset, RockSpec):
        assert lowest < 0.0 < max(mesh.bounds[1, 2] for mesh in variants)  # sunk into the ground
    else:
        assert -0.05 <= lowest <= 0.05


def test_meshes_match_their_colliders():
    tree = TreeSpec()
    assert max(m.bounds[1, 2] for m in tree.mesh_variants()) > tree.trunk_height
    log = LogSpec()
    assert all(m.extents[0] == pytest.approx(log.length) for m in log.mesh_variants())  # along x, like its capsule
    rock = RockSpec()
    top = rock.radius * (1 - 2 * rock.sink) + rock.radius
    assert all(m.bounds[1, 2] == pytest.approx(top, rel=0.15) for m in rock.mesh_variants())


def test_trees_have_bark_and_foliage_parts():
    parts = [{name for name, _, _ in mesh_parts(mesh)} for mesh in TreeSpec().mesh_variants()]
    assert parts[0] == {"bark", "foliage"} and parts[1] == {"bark", "needles"}


def test_file_assets_load_their_mesh(tmp_path):
    path = tmp_path / "crate.stl"
    trimesh.creation.box(extents=(1.0, 2.0, 3.0)).export(path)
    (mesh,) = FileAssetSpec(name="crate", path=str(path)).mesh_variants()
    assert mesh.extents == pytest.approx([1.0, 2.0, 3.0])
    assert len(mesh_parts(mesh)) == 1
    assert len(AssetSpec(name="thing").mesh_variants()) == 1
    bad = tmp_path / "bad.ply"
    bad.write_text("ply\nnonsense\n")
    with pytest.raises(SpecError, match="^assets.bad.path: "):
        FileAssetSpec(name="bad", path=str(bad)).mesh_variants()
