"""SubtreeEdit: undo and redo of a scene written into (or cleared from) a stage, in pure pxr (what the Kit
command's do/undo delegates to)."""

from __future__ import annotations

from pxr import Usd, UsdGeom

from stripe_kit.ui.stage_edit import SubtreeEdit


def _paths(stage):
    return sorted(str(p.GetPath()) for p in stage.Traverse())


def _write(stage):
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.Xform.Define(stage, "/World")
    UsdGeom.Xform.Define(stage, "/World/StripeScene")
    UsdGeom.Cube.Define(stage, "/World/StripeScene/rock")
    return True


def test_undo_and_redo_of_a_write_into_an_empty_stage():
    stage = Usd.Stage.CreateInMemory()
    edit = SubtreeEdit(stage, "/World/StripeScene", _write)
    assert edit.do() is True
    written = _paths(stage)
    assert written == ["/World", "/World/StripeScene", "/World/StripeScene/rock"]
    edit.undo()
    assert _paths(stage) == []
    assert not stage.GetRootLayer().pseudoRoot.HasInfo("upAxis")
    edit.do()
    assert _paths(stage) == written
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.z


def test_undo_of_a_rewrite_and_of_a_clear_keeps_the_users_prims():
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.Xform.Define(stage, "/World")
    UsdGeom.Sphere.Define(stage, "/World/user_ball")
    UsdGeom.Xform.Define(stage, "/World/StripeScene")
    UsdGeom.Sphere.Define(stage, "/World/StripeScene/old")
    before = _paths(stage)

    def rewrite(s):
        s.RemovePrim("/World/StripeScene")
        UsdGeom.Xform.Define(s, "/World/StripeScene")
        UsdGeom.Cube.Define(s, "/World/StripeScene/new")
        return True

    edit = SubtreeEdit(stage, "/World/StripeScene", rewrite)
    edit.do()
    assert "/World/StripeScene/new" in _paths(stage) and "/World/StripeScene/old" not in _paths(stage)
    edit.undo()
    assert _paths(stage) == before
    assert stage.GetPrimAtPath("/World/StripeScene/old").GetTypeName() == "Sphere"

    clear = SubtreeEdit(stage, "/World/StripeScene", lambda s: s.RemovePrim("/World/StripeScene"))
    clear.do()
    assert _paths(stage) == ["/World", "/World/user_ball"]
    clear.undo()
    assert _paths(stage) == before
