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
