"""Bad task input fails at registration or env build with one line naming the spec field."""

from __future__ import annotations

import sys

import pytest
from isaaclab.utils import configclass, replace

from stripe_kit.errors import SpecError
from stripe_kit.task import AgentSettings, SimSettings, TrainingSpec
from stripe_kit.task.agent import rl_games_config
from stripe_kit.task.robots import ANT_OFFLINE_CFG
from support import run_cli


def _forest_walk() -> TrainingSpec:
    from stripe_forest.tasks import FOREST_WALK_ANT

    return FOREST_WALK_ANT


def test_missing_part_is_named_at_registration():
    walk = _forest_walk()
    spec = TrainingSpec(scene=walk.scene, actions=walk.actions, observations=walk.observations, rewards=walk.rewards,
                        terminations=walk.terminations)
    with pytest.raises(SpecError, match=r"^TrainingSpec\.robot: "):
        spec.register("Stripe-Test-NoRobot")


def test_missing_robot_file_is_named():
    robot = replace(ANT_OFFLINE_CFG, spawn=replace(ANT_OFFLINE_CFG.spawn, usd_path="/nonexistent/ant.usda"))
    with pytest.raises(SpecError, match=r"^TrainingSpec\.robot\.spawn\.usd_path: got '/nonexistent/ant.usda'"):
        _forest_walk().replace(robot=robot).register("Stripe-Test-NoFile")


def test_robot_file_that_does_not_load_is_named(tmp_path):
    broken = tmp_path / "broken.usda"
    broken.write_text("#usda 1.0\ndef Xform 'Robot' {\n  this is not usd\n")
    robot = replace(ANT_OFFLINE_CFG, spawn=replace(ANT_OFFLINE_CFG.spawn, usd_path=str(broken)))
    with pytest.raises(SpecError, match=r"^TrainingSpec\.robot\.spawn\.usd_path: .*a USD file that opens"):
        _forest_walk().replace(robot=robot).register("Stripe-Test-Broken")


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: SimSettings(dt=-0.01), "sim.dt"),
        (lambda: SimSettings(decimation=0), "sim.decimation"),
        (lambda: SimSettings(physics="bullet"), "sim.physics"),
        (lambda: SimSettings(episode_length_s=float("nan")), "sim.episode_length_s"),
        (lambda: SimSettings(max_root_speed=-1.0), "sim.max_root_speed"),
        (lambda: AgentSettings(horizon_length=32, num_minibatches=5), "agent.num_minibatches"),
        (lambda: AgentSettings(learning_rate=0.0), "agent.learning_rate"),
        (lambda: AgentSettings(network=()), "agent.network"),
    ],
)
def test_bad_settings_fail_at_construction(make, field):
    with pytest.raises(SpecError, match=rf"^{field}: got "):
        make()


@pytest.mark.parametrize("num_envs", [1, 3, 7, 64, 4096, 16384])
def test_agent_config_divides_any_batch(num_envs):
    config = rl_games_config("t", AgentSettings(horizon_length=32, num_minibatches=4), device="cpu")["params"]["config"]
    batch = config["horizon_length"] * num_envs
    minibatch = config["minibatch_size_per_env"] * num_envs
    assert batch % minibatch == 0 and batch // minibatch == 4
    assert config["device"] == config["device_name"] == "cpu"
    assert not config["mixed_precision"]


def test_mixed_precision_is_off_unless_asked_for_and_only_on_cuda():
    def mixed(device: str, **settings) -> bool:
        return rl_games_config("t", AgentSettings(**settings), device=device)["params"]["config"]["mixed_precision"]

    assert not mixed("cuda:0")  # measured slower for these small networks (AgentSettings.mixed_precision)
    assert mixed("cuda:0", mixed_precision=True)
    assert not mixed("cpu", mixed_precision=True)  # rl_games' autocast is CUDA's


_TERM_ERROR = """
import torch, gymnasium as gym
from isaaclab.managers import SceneEntityCfg, ObservationTermCfg as ObsTerm
from stripe_kit.cli.main import main
from stripe_kit.errors import SpecError
from stripe_kit.task import REGISTERED, mdp
from stripe_kit.train.tasks import load_tasks
load_tasks()
cfg = REGISTERED["Stripe-Forest-Walk-Ant"].env_cfg(num_envs=2, device="cpu")
cfg.observations.policy.base_lin_vel = {term}
try:
    gym.make("Stripe-Forest-Walk-Ant", cfg=cfg)
except SpecError as error:
    print("ERROR " + str(error))
"""


@pytest.mark.parametrize(
    "term, expected",
    [
        ('ObsTerm(func=mdp.base_lin_vel, params={"asset_cfg": SceneEntityCfg("robto")})',
         "TrainingSpec term 'policy/base_lin_vel.params:asset_cfg': The scene entity 'robto' does not exist"),
        ('ObsTerm(func=mdp.body_pose_w, params={"asset_cfg": SceneEntityCfg("robot", body_names=["wing"])})',
         "TrainingSpec term 'policy/base_lin_vel.params:asset_cfg': Not all regular expressions are matched"),
        ('ObsTerm(func=lambda env: torch.full((env.num_envs, 1), float("nan")))',
         "observations.policy.base_lin_vel: got 'NaN or infinite values'; expected finite observations"),
    ],
)
def test_bad_terms_fail_at_env_build_naming_the_term(term, expected):
    proc = run_cli(sys.executable, "-c", _TERM_ERROR.format(term=term))
    errors = [line for line in proc.stdout.splitlines() if line.startswith("ERROR ")]
    assert len(errors) == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert errors[0].startswith("ERROR " + expected), errors[0]


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda: SimSettings(physics="physx", njmax=100),
         "sim.njmax: got 100; expected None with physics='physx' (a newton-only setting; physx settings: "
         "physx_bounce_threshold, physx_enhanced_determinism, physx_size_buckets)"),
        (lambda: SimSettings(physx_bounce_threshold=0.1),
         "sim.physx_bounce_threshold: got 0.1; expected None with physics='newton' (a physx-only setting; newton "
         "settings: njmax, nconmax, obstacle_slots)"),
        (lambda: SimSettings(physics="physx", obstacle_slots={"capsule": 4, "sphere": 2}),
         "sim.obstacle_slots: got {'capsule': 4, 'sphere': 2}; expected None with physics='physx' (a newton-only"),
        (lambda: SimSettings(physics="physx", physx_size_buckets=0),
         "sim.physx_size_buckets: got 0; expected"),
        (lambda: _resolve_with("physx", "sim.nconmax=80"),  # the CLI's --physics physx with a Newton setting
         "sim.nconmax: got 80; expected None with physics='physx'"),
        (lambda: _resolve_with("newton", "sim.physx_size_buckets=2"),
         "sim.physx_size_buckets: got 2; expected None with physics='newton'"),
        (lambda: _forest_walk().env_cfg(num_envs=2, device="cpu", physics="bullet"),
         "physics: got 'bullet'; expected one of newton, physx"),
    ],
)
def test_setting_of_the_other_backend_or_unknown_backend_is_one_line(make, expected):
    with pytest.raises(SpecError) as error:
        make()
    assert str(error.value).startswith(expected) and "\n" not in str(error.value), str(error.value)


def _resolve_with(physics: str, override: str):
    from stripe_kit.train.plan import resolve_configs
    from stripe_kit.train.tasks import load_tasks

    load_tasks()
    return resolve_configs("Stripe-Forest-Walk-Ant", 2, "cpu", 1, physics, [override])


def test_a_task_tuned_for_newton_runs_on_physx_with_physx_defaults_and_accepts_physx_settings():
    """The Go2 task sets MuJoCo-Warp's njmax and nconmax: on PhysX they are cleared, not refused; PhysX settings
    given with --physics physx apply to a task written for Newton."""
    from stripe_kit.train.plan import resolve_configs
    from stripe_kit.train.tasks import load_tasks

    load_tasks()
    spec, env_cfg, _ = resolve_configs("Stripe-Forest-Velocity-Go2", 2, "cpu", 1, "physx", [])
    assert (spec.sim.physics, spec.sim.njmax, spec.sim.nconmax) == ("physx", None, None)
    assert "Physx" in type(env_cfg.sim.physics).__name__
    spec, env_cfg, _ = resolve_configs("Stripe-Forest-Walk-Ant", 2, "cpu", 1, "physx", ["sim.physx_size_buckets=2"])
    assert spec.sim.physx_size_buckets == 2 and env_cfg.physx_size_buckets == 2


CPUINFO = """processor\t: {n}
vendor_id\t: GenuineIntel
model name\t: Some CPU
flags\t\t: fpu vme de pse tsc msr pae sse sse2 ssse3 sse4_1 sse4_2 popcnt {extra}
"""


def _cpuinfo(*extras: str) -> str:
    return "\n".join(CPUINFO.format(n=n, extra=extra) for n, extra in enumerate(extras))


@pytest.mark.parametrize("cpuinfo", [_cpuinfo("aes xsave"), _cpuinfo("avx2 avx512f"), _cpuinfo("avx avx2", "aes")])
def test_ovphysx_on_a_cpu_without_avx_is_one_line(cpuinfo):
    # 'avx2' or 'avx512f' alone is no 'avx' flag; one CPU without it among several is refused too
    from stripe_kit.task.env import check_cpu_for_ovphysx

    with pytest.raises(SpecError) as error:
        check_cpu_for_ovphysx(cpuinfo, "x86_64")
    assert str(error.value) == ("sim.physics: got 'physx'; expected 'newton' on this CPU: kitless PhysX (ovphysx) "
                                "needs AVX, which the flags of /proc/cpuinfo lack")


def test_ovphysx_without_libgl_is_one_line():
    from stripe_kit.task.env import check_libraries_for_ovphysx

    def missing(name):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    with pytest.raises(SpecError) as error:
        check_libraries_for_ovphysx(missing)
    assert str(error.value) == ("sim.physics: got 'physx'; expected 'newton' on this machine: kitless PhysX (ovstage) "
                                "needs libGL.so.1, which is not installed (Debian/Ubuntu: apt-get install libgl1)")
    check_libraries_for_ovphysx()  # this machine has it (the PhysX tests run here)


@pytest.mark.parametrize(
    "cpuinfo, machine",
    [(_cpuinfo("avx avx2 fma"), "x86_64"), (_cpuinfo("avx", "avx avx2"), "AMD64"), (_cpuinfo("aes"), "aarch64"),
     ("processor\t: 0\nFeatures\t: fp asimd\n", "x86_64"), ("", "x86_64")],
)
def test_ovphysx_cpu_check_passes_with_avx_or_nothing_to_read(cpuinfo, machine):
    from stripe_kit.task.env import check_cpu_for_ovphysx

    check_cpu_for_ovphysx(cpuinfo, machine)


def test_only_the_kitless_physx_config_is_checked_for_avx():
    from stripe_kit.task.env import uses_ovphysx

    walk = _forest_walk()
    assert uses_ovphysx(walk.env_cfg(num_envs=2, device="cpu", physics="physx").sim.physics)
    assert not uses_ovphysx(walk.env_cfg(num_envs=2, device="cpu", physics="newton").sim.physics)


def test_unknown_physics_on_the_command_line_is_one_line(stripe_kit_bin):
    proc = run_cli(stripe_kit_bin, "train", "--task", "Stripe-Forest-Walk-Ant", "--physics", "bullet", "--device", "cpu",
                   "--num-envs", "2", "--max-iterations", "1")
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "bullet" in line]
    assert errors == ["stripe-kit: error: physics: got 'bullet'; expected one of newton, physx"], proc.stderr[-2000:]


@pytest.mark.parametrize("part", ["scene", "robot", "actions", "observations", "rewards", "terminations"])
def test_each_missing_part_is_one_line_naming_it_at_registration(part):
    walk = _forest_walk()
    parts = dict(scene=walk.scene, robot=walk.robot, actions=walk.actions, observations=walk.observations,
                 rewards=walk.rewards, terminations=walk.terminations)
    del parts[part]
    with pytest.raises(SpecError) as error:
        TrainingSpec(**parts).register(f"Stripe-Test-No-{part}")
    message = str(error.value)
    assert message.startswith(f"TrainingSpec.{part}: missing; expected "), message
    assert "\n" not in message and "_MISSING_TYPE" not in message and len(message) < 200


def test_several_missing_parts_are_named_in_one_line():
    with pytest.raises(SpecError) as error:
        TrainingSpec(robot=ANT_OFFLINE_CFG).register("Stripe-Test-Empty")
    assert str(error.value) == ("TrainingSpec.scene: missing; expected a SceneSpec (also missing: actions, "
                                "observations, rewards, terminations)")


def _cube_usd(path) -> str:
    """A USD file holding one rigid cube and no articulation root."""
    from pxr import Usd, UsdGeom, UsdPhysics

    stage = Usd.Stage.CreateNew(str(path))
    root = UsdGeom.Xform.Define(stage, "/Robot")
    stage.SetDefaultPrim(root.GetPrim())
    cube = UsdGeom.Cube.Define(stage, "/Robot/body")
    UsdPhysics.RigidBodyAPI.Apply(cube.GetPrim())
    UsdPhysics.CollisionAPI.Apply(cube.GetPrim())
    stage.GetRootLayer().Save()
    return str(path)


def _with_actuator_joints(robot, actuator: str, expressions: list[str]):
    return replace(robot, actuators={**robot.actuators,
                                     actuator: replace(robot.actuators[actuator], joint_names_expr=expressions)})


def test_robot_file_without_articulation_root_is_named_at_registration(tmp_path):
    robot = replace(ANT_OFFLINE_CFG, spawn=replace(ANT_OFFLINE_CFG.spawn, usd_path=_cube_usd(tmp_path / "cube.usda")))
    with pytest.raises(SpecError) as error:
        _forest_walk().replace(robot=robot).register("Stripe-Test-NoArticulation")
    assert str(error.value) == (f"TrainingSpec.robot.spawn.usd_path: got '{tmp_path / 'cube.usda'}'; expected a robot "
                                "USD file with an articulation root (a prim with UsdPhysics.ArticulationRootAPI; "
                                "this file has none)")


def test_actuator_joints_matching_nothing_are_named_at_registration():
    from stripe_forest.go2_tasks import FOREST_VELOCITY_GO2

    robot = _with_actuator_joints(FOREST_VELOCITY_GO2.robot, "base_legs", [".*_hip_joint", ".*_knee_joint"])
    with pytest.raises(SpecError) as error:
        FOREST_VELOCITY_GO2.replace(robot=robot).register("Stripe-Test-NoKnee")
    assert str(error.value) == (
        "TrainingSpec.robot.actuators['base_legs'].joint_names_expr: got '.*_knee_joint', which matches no joint; "
        "expected regular expressions that each match a joint name (go2.usd has FL_calf_joint, FL_hip_joint, "
        "FL_thigh_joint, FR_calf_joint, FR_hip_joint, FR_thigh_joint, RL_calf_joint, RL_hip_joint, RL_thigh_joint, "
        "RR_calf_joint, RR_hip_joint, RR_thigh_joint)")


@pytest.mark.parametrize(
    "robot, field, expression",
    [
        (lambda: _with_actuator_joints(ANT_OFFLINE_CFG, "body", ["hip_.*"]),
         "TrainingSpec.robot.actuators['body'].joint_names_expr", "hip_.*"),
        (lambda: _with_actuator_joints(ANT_OFFLINE_CFG, "body", "front_left_leg|wing"), None, None),  # one matches
        (lambda: replace(ANT_OFFLINE_CFG, init_state=replace(ANT_OFFLINE_CFG.init_state,
                                                             joint_pos={".*_leg": 0.0, ".*_knee": 0.3})),
         "TrainingSpec.robot.init_state.joint_pos", ".*_knee"),
    ],
)
def test_ant_joint_expressions_are_checked_against_its_usd(robot, field, expression):
    spec = _forest_walk().replace(robot=robot())
    if field is None:
        spec.check()
        return
    with pytest.raises(SpecError) as error:
        spec.check()
    assert str(error.value).startswith(f"{field}: got {expression!r}, which matches no joint; expected regular "
                                       "expressions that each match a joint name (ant.usda has front_left_foot, ")


def _go2_commands(**ranges):
    from stripe_forest.go2_tasks import Go2CommandsCfg

    commands = Go2CommandsCfg()
    commands.base_velocity.ranges = replace(commands.base_velocity.ranges, **ranges)
    return commands


def _goal_commands(**fields):
    from stripe_forest.tasks import GoalCommandsCfg

    commands = GoalCommandsCfg()
    commands.goal = replace(commands.goal, **fields)
    return commands


@pytest.mark.parametrize(
    "task, commands, expected",
    [
        ("go2", lambda: _go2_commands(lin_vel_x=(1.0, -1.0)),
         "TrainingSpec.commands.base_velocity.ranges.lin_vel_x: got (1.0, -1.0); expected a pair (min, max) with "
         "min <= max"),
        ("go2", lambda: _go2_commands(ang_vel_z=(0.5, 0.2)), "TrainingSpec.commands.base_velocity.ranges.ang_vel_z: "),
        ("go2", lambda: _go2_commands(heading=(3.0, -3.0)), "TrainingSpec.commands.base_velocity.ranges.heading: "),
        ("goal", lambda: _goal_commands(distance_range=(3.0, 2.0)),
         "TrainingSpec.commands.goal.distance_range: got (3.0, 2.0); expected a pair (min, max) with min <= max"),
        ("goal", lambda: _goal_commands(bearing_range=(1.0, -1.0)), "TrainingSpec.commands.goal.bearing_range: "),
    ],
)
def test_command_range_with_min_above_max_is_named_at_registration(task, commands, expected):
    from stripe_forest.go2_tasks import FOREST_VELOCITY_GO2
    from stripe_forest.tasks import FOREST_GOAL_ANT

    spec = {"go2": FOREST_VELOCITY_GO2, "goal": FOREST_GOAL_ANT}[task].replace(commands=commands())
    with pytest.raises(SpecError) as error:
        spec.register("Stripe-Test-BadRange")
    assert str(error.value).startswith(expected) and "\n" not in str(error.value), str(error.value)


def test_go2_commands_with_no_heading_range_pass():
    from stripe_forest.go2_tasks import FOREST_VELOCITY_GO2

    FOREST_VELOCITY_GO2.replace(commands=_go2_commands(heading=None)).check()


@pytest.mark.parametrize(
    "edit, expected",
    [
        (lambda cfg: setattr(cfg.scene, "robot", replace(cfg.scene.robot, spawn=replace(
            cfg.scene.robot.spawn, usd_path="/nonexistent/ant.usda"))),
         "scene.robot.spawn.usd_path: got '/nonexistent/ant.usda'; expected an existing USD file"),
        (lambda cfg: setattr(cfg.scene, "robot", _with_actuator_joints(cfg.scene.robot, "body", ["wing"])),
         "scene.robot.actuators['body'].joint_names_expr: got 'wing', which matches no joint"),
        (lambda cfg: setattr(cfg.commands.goal, "distance_range", (3.0, 2.0)),
         "commands.goal.distance_range: got (3.0, 2.0); expected a pair (min, max) with min <= max"),
    ],
)
def test_env_config_edited_after_registration_fails_at_env_build_before_the_sim(edit, expected):
    # StripeEnv checks its config first: no simulation context is made, so this runs in the test process
    from stripe_forest.tasks import FOREST_GOAL_ANT

    from stripe_kit.task.env import StripeEnv

    cfg = FOREST_GOAL_ANT.env_cfg(num_envs=2, device="cpu")
    edit(cfg)
    with pytest.raises(SpecError) as error:
        StripeEnv(cfg)
    assert str(error.value).startswith(expected) and "\n" not in str(error.value), str(error.value)


def test_commands_that_never_resample_pass():
    # Isaac Lab's NullCommandCfg resamples after (inf, inf) seconds: an infinite range end is no error
    from isaaclab.envs.mdp import NullCommandCfg

    from stripe_kit.task.env import check_command_ranges

    @configclass
    class Commands:
        null = NullCommandCfg()

    check_command_ranges(Commands())
