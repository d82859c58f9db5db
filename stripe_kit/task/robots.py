"""Robots that work offline, and the check that a robot's USD loads."""

from __future__ import annotations

import os

from isaaclab.assets import ArticulationCfg
from isaaclab.utils import replace
from isaaclab_assets.robots.ant import ANT_CFG

from ..errors import SpecError


def newton_asset(name: str) -> str:
    """Path of an asset shipped in the ``newton`` wheel's examples (available without network)."""
    import newton

    return os.path.join(os.path.dirname(newton.__file__), "examples", "assets", name)


ANT_OFFLINE_CFG: ArticulationCfg = replace(
    ANT_CFG, spawn=replace(ANT_CFG.spawn, usd_path=newton_asset("ant.usda")), prim_path="{ENV_REGEX_NS}/Robot"
)
"""Isaac Lab's Ant (same joints, gears and actuators) spawned from the ``newton`` wheel's ``ant.usda``."""


def check_robot_file(robot: ArticulationCfg, field: str = "robot") -> None:
    """Fail early, naming ``field``, when a robot's USD file is local and missing or does not open.

    Remote files (Isaac Lab's asset server) are left to Isaac Lab, which downloads them.
    """
    path = getattr(robot.spawn, "usd_path", None)
    if not path or "://" in path:
        return
    if not os.path.isfile(path):
        raise SpecError(f"{field}.spawn.usd_path", path, "an existing USD file")
    from pxr import Usd

    try:
        stage = Usd.Stage.Open(path)
    except Exception as error:  # pxr raises Tf errors of its own types
        raise SpecError(f"{field}.spawn.usd_path", path, f"a USD file that opens ({str(error).splitlines()[0]})") from None
    if stage is None or not stage.GetPseudoRoot().GetChildren():
        raise SpecError(f"{field}.spawn.usd_path", path, "a USD file with prims")


def robot_radius(robot: ArticulationCfg, default: float = 1.0) -> float:
    """Horizontal reach of a robot from its root [m]: the half-diagonal of its USD's bounding box in xy.

    Read from the robot's own USD file (every purpose, so colliders count), relative to the root prim's
    position; ``default`` when the file is remote or not a USD file. The obstacle reach of a task starts from it.
    """
    path = getattr(robot.spawn, "usd_path", None)
    if not path or "://" in path or not os.path.isfile(path):
        return default
    from pxr import Usd, UsdGeom

    stage = Usd.Stage.Open(path)
    root = stage.GetDefaultPrim() or next(iter(stage.GetPseudoRoot().GetChildren()), None)
    if root is None:
        return default
    cache = UsdGeom.BBoxCache(Usd.TimeCode.Default(), [UsdGeom.Tokens.default_, UsdGeom.Tokens.render,
                                                       UsdGeom.Tokens.proxy, UsdGeom.Tokens.guide])
    box = cache.ComputeWorldBound(root).ComputeAlignedRange()
    if box.IsEmpty():
        return default
    origin = UsdGeom.Xformable(root).ComputeLocalToWorldTransform(Usd.TimeCode.Default()).ExtractTranslation() \
        if root.IsA(UsdGeom.Xformable) else (0.0, 0.0, 0.0)
    low, high = box.GetMin(), box.GetMax()
    dx = max(abs(low[0] - origin[0]), abs(high[0] - origin[0]))
    dy = max(abs(low[1] - origin[1]), abs(high[1] - origin[1]))
    scale = max(getattr(robot.spawn, "scale", None) or (1.0,))
    return float((dx * dx + dy * dy) ** 0.5 * scale)
