"""Curriculum terms move robots between the rows of the generated terrain with real resets (CPU, Newton)."""

from __future__ import annotations

from support import run_python

TRACKING = """
import json, torch, gymnasium as gym
from isaaclab.managers import CurriculumTermCfg as CurrTerm, ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm, RewardTermCfg as RewTerm, TerminationTermCfg as DoneTerm
from isaaclab.utils import configclass
from stripe_kit.scene import NoiseTerrainSpec, SceneSpec
from stripe_kit.task import SimSettings, TrainingSpec, mdp
from stripe_kit.task.robots import ANT_OFFLINE_CFG


@configclass
class Actions:
    joint_effort = mdp.JointEffortActionCfg(asset_name="robot", joint_names=[".*"], scale=1.0)


@configclass
class Observations:
    @configclass
    class Policy(ObsGroup):
        base_lin_vel = ObsTerm(func=mdp.base_lin_vel)

    policy: Policy = Policy()


@configclass
class Rewards:
    alive = RewTerm(func=mdp.is_alive, weight=1.0)


@configclass
class Commands:
    base_velocity = mdp.UniformVelocityCommandCfg(
        asset_name="robot", resampling_time_range=(1e9, 1e9), rel_standing_envs=0.0, heading_command=False,
        ranges=mdp.UniformVelocityCommandCfg.Ranges(lin_vel_x=(1.0, 1.0), lin_vel_y=(0.0, 0.0), ang_vel_z=(0.0, 0.0)))


def tripped(env):
    return env.tripped  # set by the test: a stand-in for base_contact or an obstacle collision


@configclass
class Terminations:
    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    tripped = DoneTerm(func=tripped)


@configclass
class Curriculum:
    terrain_levels = CurrTerm(func=mdp.CURRICULUM_TERM, params=CURRICULUM_PARAMS)


terrain = NoiseTerrainSpec(style="flat", num_rows=4, num_cols=2, tile_size=(8.0, 8.0))
# no events: the spec's default (Isaac Lab's reset to the default state) puts robots at their new origins
spec = TrainingSpec(scene=SceneSpec(terrain=terrain, assets=[]), robot=ANT_OFFLINE_CFG, actions=Actions(),
                    observations=Observations(), rewards=Rewards(), terminations=Terminations(), commands=Commands(),
                    curriculum=Curriculum(), sim=SimSettings(decimation=4, episode_length_s=1.0))
spec.register("Test-Curriculum-Tracking")
env = gym.make("Test-Curriculum-Tracking", cfg=spec.env_cfg(num_envs=8, device="cpu")).unwrapped
env.tripped = torch.zeros(env.num_envs, dtype=torch.bool)
ground = env.scene.terrain
ground.terrain_levels[:] = 1  # every robot starts on the second row, so a demotion shows
ground.env_origins[:] = ground.terrain_origins[ground.terrain_levels, ground.terrain_types]
env.reset(seed=0)  # before any step: no episode ended, so no level moves (the robots are far from the origins)
first_reset_levels = ground.terrain_levels.tolist()
robot = env.scene["robot"]
# each env's speed along x [m/s] (commanded: 1 m/s for 1 s); envs 4 and 5 walk well but trip at step 20 of 30
speed = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.7, 0.3])
start = ground.env_origins.clone()
height = robot.data.default_root_pose.torch[:, 2].clone()
levels_at_reset = [None] * env.num_envs
ends = [None] * env.num_envs
zeros = torch.zeros(env.num_envs, env.action_manager.total_action_dim)
for step in range(1, 31):
    pose = robot.data.default_root_pose.torch.clone()
    pose[:, :3] = start
    pose[:, 0] += speed * step * env.step_dt
    pose[:, 2] += height
    robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=torch.arange(env.num_envs))
    robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(env.num_envs, 6),
                                           env_ids=torch.arange(env.num_envs))
    env.tripped[4:6] = step == 20
    _, _, terminated, truncated, _ = env.step(zeros)
    for i in torch.nonzero(terminated | truncated).flatten().tolist():
        if levels_at_reset[i] is None:
            levels_at_reset[i] = int(ground.terrain_levels[i])
            ends[i] = ("tripped" if bool(terminated[i]) else "time_out", step)
            speed[i] = 0.0  # later episodes stand still at their new origin
            start[i] = ground.env_origins[i]
origins_x = ground.env_origins[:, 0].tolist()
# Isaac Lab's rules at the ends (mdp.curriculum.update_env_origins, one kernel launch): a promotion past the last row
# lands on a random row, a demotion below the first stays there, and each origin is its new tile's
ids = torch.arange(env.num_envs)
ground.terrain_levels[:] = torch.tensor([3, 3, 3, 3, 0, 0, 2, 1])
up = torch.tensor([True] * 4 + [False] * 4)
down = torch.tensor([False] * 4 + [True, True, False, False])
mdp.curriculum.update_env_origins(env, ids, up, down)
ends_levels = ground.terrain_levels.tolist()
ends_origins_ok = bool((ground.env_origins == ground.terrain_origins[ground.terrain_levels, ground.terrain_types]).all())
from stripe_kit.errors import SpecError
try:
    mdp.CURRICULUM_TERM(env, [0], failure_terms=("base_contact",))
except SpecError as error:
    unknown = str(error)
print("RESULT " + json.dumps({"first_reset_levels": first_reset_levels, "levels": levels_at_reset, "ends": ends,
                              "unknown": unknown, "ends_levels": ends_levels, "ends_origins_ok": ends_origins_ok,
                              "origins_x": origins_x,
                              "row_x": ground.terrain_origins[:, 0, 0].tolist()}))
"""


def curriculum_script(term: str, params: dict) -> str:
    """The script above with the curriculum term ``term`` of ``stripe_kit.task.mdp`` and its ``params``."""
    return TRACKING.replace("CURRICULUM_TERM", term).replace("CURRICULUM_PARAMS", repr(params))


def test_tracking_curriculum_promotes_trackers_and_demotes_fallers_and_laggards():
    result = run_python(curriculum_script("terrain_levels_by_tracking",
                                          {"failure_terms": ("tripped",), "min_promote_distance": 0.4}))
    ends, levels = result["ends"], result["levels"]
    assert result["first_reset_levels"] == [1] * 8, result
    assert [end[0] for end in ends] == ["time_out"] * 4 + ["tripped"] * 2 + ["time_out"] * 2, ends
    assert [end[1] for end in ends] == [30] * 4 + [20] * 2 + [30] * 2, ends
    # walked 1 m of 1 m, and 0.7 m: up a row; stood, tripped after 0.67 m (of 0.67 m), walked 0.3 m: down a row
    assert levels == [2, 2, 0, 0, 0, 0, 2, 0], result
    for env_id, level in enumerate(levels):  # the next episode spawns at the new row's origin
        assert abs(result["origins_x"][env_id] - result["row_x"][level]) < 1e-5, result
    assert result["unknown"] == ("curriculum terrain_levels_by_tracking failure_terms: got 'base_contact'; expected "
                                 "names of the task's termination terms (time_out, tripped, physics_diverged)")
    # past the last of 4 rows: a random row; below the first: the first; unmoved: unchanged
    assert all(0 <= level < 4 for level in result["ends_levels"][:4]), result
    assert result["ends_levels"][4:] == [0, 0, 2, 1] and result["ends_origins_ok"], result


def test_distance_curriculum_with_failure_terms_demotes_robots_that_failed_however_far_they_went():
    # promote past 0.8 m (0.1 of the 8 m tile), demote under 0.4 m or on a trip: the robots that walked 0.67 m
    # and tripped go down, where distance alone would have kept them; 0.7 m without a trip stays
    result = run_python(curriculum_script("terrain_levels_by_distance",
                                          {"failure_terms": ("tripped",), "promote_fraction": 0.1,
                                           "demote_fraction": 0.05}))
    assert [end[0] for end in result["ends"]] == ["time_out"] * 4 + ["tripped"] * 2 + ["time_out"] * 2, result
    assert result["first_reset_levels"] == [1] * 8, result  # the first reset promoted every robot before the fix
    assert result["levels"] == [2, 2, 0, 0, 0, 0, 1, 0], result
    assert result["unknown"] == ("curriculum terrain_levels_by_distance failure_terms: got 'base_contact'; expected "
                                 "names of the task's termination terms (time_out, tripped, physics_diverged)")
