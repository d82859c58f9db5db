"""Warp twins of STRIPE-kit's terms (issue #18): Isaac Lab's Warp frontend finds them; they equal the torch terms."""

from __future__ import annotations

import numpy as np
import pytest
from support import run_python

def test_warp_frontend_finds_a_twin_for_every_term_of_every_showcase_task_and_names_a_missing_one(tmp_path):
    """Isaac Lab's mirrors alone lack STRIPE-kit's twins; with ``stripe_kit.warp`` every showcase term has one; a
    user's torch-only term is named; a user's own mirror, once registered, supplies its twin."""
    (tmp_path / "my_tasks" / "mdp").mkdir(parents=True)
    (tmp_path / "my_tasks_warp" / "mdp").mkdir(parents=True)
    for package in ("my_tasks", "my_tasks_warp"):
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "my_tasks" / "mdp" / "__init__.py").write_text(
        "def steps_so_far(env):\n    return env.episode_length_buf.float()\n")
    (tmp_path / "my_tasks_warp" / "mdp" / "__init__.py").write_text(
        "def steps_so_far(env, out):\n    pass  # a twin would launch its kernel here\n")
    result = run_python(f"""
import sys
sys.path.insert(0, {str(tmp_path)!r})
""" + """
import json
from isaaclab.managers import RewardTermCfg
from isaaclab_experimental.envs.frontend import WarpFrontend
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks

load_tasks()
tasks = ["Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant", "Stripe-Forest-Velocity-Go2"]
reports = {"isaac_lab_alone": WarpFrontend.check_compatibility(REGISTERED[tasks[0]].env_cfg(num_envs=2, device="cpu"))}
from stripe_kit.warp import StripeWarpFrontend  # registers the stripe_kit -> stripe_kit.warp mirror

for task in tasks:
    reports[task] = StripeWarpFrontend.check_compatibility(REGISTERED[task].env_cfg(num_envs=2, device="cpu"))
cfg = REGISTERED[tasks[0]].env_cfg(num_envs=2, device="cpu")


def my_torch_only_reward(env):
    return env.episode_length_buf.float()


cfg.rewards.mine = RewardTermCfg(func=my_torch_only_reward, weight=1.0)
reports["user_term"] = StripeWarpFrontend.check_compatibility(cfg)
from my_tasks import mdp as my_mdp
from stripe_kit.warp import register_twin_package

cfg = REGISTERED[tasks[0]].env_cfg(num_envs=2, device="cpu")
cfg.rewards.steps = RewardTermCfg(func=my_mdp.steps_so_far, weight=1.0)
reports["user_package_alone"] = StripeWarpFrontend.check_compatibility(cfg)
register_twin_package("my_tasks", "my_tasks_warp")
reports["user_package_registered"] = StripeWarpFrontend.check_compatibility(cfg)
print("RESULT " + json.dumps(reports))
""")
    isaac = result["isaac_lab_alone"]
    for name in ("progress_along_walk", "ray_distances", "obstacle_collision", "termination_term"):
        assert f"no warp twin for '{name}'" in isaac, isaac  # Isaac Lab's mirrors alone lack them
    for task in ("Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant", "Stripe-Forest-Velocity-Go2"):
        assert result[task] is None, (task, result[task])  # every term has its twin
    assert "rewards.mine.func: no warp twin for 'my_torch_only_reward'" in result["user_term"], result["user_term"]
    assert "no warp twin for 'steps_so_far'" in result["user_package_alone"], result["user_package_alone"]
    assert result["user_package_registered"] is None, result["user_package_registered"]


SHOWCASE_TWINS = """
import json, numpy as np, torch
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks
from stripe_kit.warp import StripeWarpFrontend
from stripe_kit.warp.checks import twin_differences

load_tasks()
TASK = {task!r}
spec = REGISTERED[TASK]
torch_cfg = spec.env_cfg(num_envs=16, device="cpu")
env = StripeWarpFrontend.build_env(spec.env_cfg(num_envs=16, device="cpu"), TASK).unwrapped
env.reset(seed=5)
worst, active = {{}}, {{}}

def check():
    for label, (difference, count) in twin_differences(env, torch_cfg).items():
        worst[label] = max(worst.get(label, 0.0), difference)
        active[label] = active.get(label, 0) + count

actions = torch.Generator().manual_seed(0)
for step in range(1, 121):  # random actions: falls, collisions and resets on Isaac Lab's random reset events
    env.step(torch.rand((env.num_envs, env.action_manager.total_action_dim), generator=actions) * 2 - 1)
    if step % 10 == 0:
        check()
# then robots put against trunks, off the map's edge, above and below their fall height, some faster than a
# diverged robot
robot, slots = env.scene["robot"], env.obstacles
trunks = env.generated_scene.colliders.positions[slots.collider_ids, :2]
(x0, y0), (x1, y1) = env.scene_data.corners
ids = torch.arange(env.num_envs)
rng = np.random.default_rng(0)
for trial in range(4):
    xy = rng.uniform([x0 - 1, y0 - 1], [x1 + 1, y1 + 1], size=(env.num_envs, 2))
    xy[:6] = trunks[rng.choice(len(trunks), 6, replace=False)] + rng.uniform(-0.6, 0.6, size=(6, 2))
    pose = robot.data.default_root_pose.torch.clone()
    pose[:, :2] = torch.as_tensor(xy, dtype=torch.float32)
    pose[:, 2] = env.scene_data.height_at(pose[:, :2]) + torch.as_tensor(rng.uniform(0.05, 0.8, env.num_envs),
                                                                         dtype=torch.float32)
    robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=ids)
    velocity = torch.zeros(env.num_envs, 6)
    velocity[:, :3] = torch.as_tensor(rng.normal(0.0, 40.0, size=(env.num_envs, 3)), dtype=torch.float32)
    robot.write_root_velocity_to_sim_index(root_velocity=velocity, env_ids=ids)
    slots.follow()
    check()
robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(env.num_envs, 6), env_ids=ids)
env.step(torch.zeros((env.num_envs, env.action_manager.total_action_dim)))  # a step against the trunks
check()
if "goal" in env.command_manager.active_terms:  # and robots put on their goals, for a step
    pose = robot.data.default_root_pose.torch.clone()
    pose[:, :2] = env.command_manager.get_term("goal").pos_command_w[:, :2]
    pose[:, 2] += env.scene_data.height_at(pose[:, :2])
    robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=ids)
    robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(env.num_envs, 6), env_ids=ids)
    check()  # on the goal
    env.step(torch.zeros((env.num_envs, env.action_manager.total_action_dim)))
    check()  # the step that reached it
print("RESULT " + json.dumps({{"worst": worst, "active": active}}))
"""

SHOWCASE_TERMS = {
    "Stripe-Forest-Walk-Ant": ["observations.policy.heading", "observations.policy.range_ring",
                               "rewards.progress", "rewards.move_to_target", "rewards.near_obstacle",
                               "rewards.fallen", "rewards.collision", "rewards.off_map", "terminations.off_map",
                               "terminations.fallen", "terminations.collision"],
    "Stripe-Forest-Goal-Ant": ["observations.policy.range_ring", "rewards.toward_goal", "rewards.facing_goal",
                               "rewards.reached", "terminations.goal_reached", "terminations.collision"],
    "Stripe-Forest-Velocity-Go2": ["observations.policy.height_scan", "observations.policy.range_ring",
                                   "rewards.collision", "terminations.collision"],
}


@pytest.mark.parametrize("task", sorted(SHOWCASE_TERMS))
def test_every_twin_of_a_showcase_task_equals_its_torch_term_on_the_same_state(task):
    """Each showcase task on the Warp frontend (CPU, eagerly), 120 steps of random actions with Isaac Lab's random
    resets, then robots put against trunks, off the map, high and low and faster than a diverged robot: at every
    check each STRIPE-kit twin writes what its torch term returns on that state (``twin_differences``)."""
    result = run_python(SHOWCASE_TWINS.format(task=task))
    worst, active = result["worst"], result["active"]
    assert set(SHOWCASE_TERMS[task]) <= set(worst), sorted(worst)  # every listed term is a STRIPE-kit twin, checked
    for label, difference in worst.items():
        tolerance = 0 if label.startswith("terminations.") or label.startswith("rewards.") and \
            label.split(".")[1] in ("fallen", "collision", "off_map", "reached") else 2e-4
        assert difference <= tolerance, (label, difference, result)
    for label in SHOWCASE_TERMS[task]:  # the check exercised each term: its torch values were not all zero
        assert active[label] > 0, (label, result)


BOTH_FRONTENDS = """
import json, torch
FRONTEND, DEVICE, NUM_ENVS = {frontend!r}, {device!r}, {num_envs}  # on a CPU the Warp twins run eagerly
from isaaclab.managers import CurriculumTermCfg as CurrTerm
from isaaclab.managers import EventTermCfg as EventTerm, ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm, RewardTermCfg as RewTerm, TerminationTermCfg as DoneTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.utils import configclass
from stripe_kit.task import REGISTERED, SimSettings, TrainingSpec, mdp
from stripe_kit.task.robots import ANT_OFFLINE_CFG
from stripe_kit.train.tasks import load_tasks

load_tasks()


@configclass
class Actions:
    joint_effort = mdp.JointEffortActionCfg(asset_name="robot", joint_names=[".*"], scale=7.5)


@configclass
class Observations:
    @configclass
    class Policy(ObsGroup):
        base_height = ObsTerm(func=mdp.base_height_above_ground)
        base_lin_vel = ObsTerm(func=mdp.base_lin_vel)
        joint_vel = ObsTerm(func=mdp.joint_vel_rel)
        heading = ObsTerm(func=mdp.walk_heading)
        range_ring = ObsTerm(func=mdp.ray_distances, params={{"sensor_cfg": SceneEntityCfg("range_ring")}})

    policy: Policy = Policy()


@configclass
class Rewards:
    alive = RewTerm(func=mdp.is_alive, weight=1.0)
    progress = RewTerm(func=mdp.progress_along_walk, weight=1.0, params={{"max_speed": 0.6}})
    facing = RewTerm(func=mdp.walk_heading_bonus, weight=0.5)
    collision = RewTerm(func=mdp.termination_term, weight=-600.0, params={{"term_name": "collision"}})
    off_map = RewTerm(func=mdp.termination_term, weight=-120.0, params={{"term_name": "off_map"}})
    near_obstacle = RewTerm(func=mdp.obstacle_proximity, weight=-0.5, params={{"body_radius": 0.25}})
    action_l2 = RewTerm(func=mdp.action_l2, weight=-0.005)


@configclass
class Terminations:
    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    off_map = DoneTerm(func=mdp.off_terrain, params={{"distance_buffer": 1.0}}, time_out=True)
    low = DoneTerm(func=mdp.base_below_ground_height, params={{"minimum_height": 0.45}})
    collision = DoneTerm(func=mdp.obstacle_collision, params={{"body_radius": 0.25}})


@configclass
class Events:  # deterministic resets: each frontend draws random ones from its own generator (torch, Warp)
    reset_base = EventTerm(func=mdp.reset_root_state_uniform, mode="reset",
                           params={{"pose_range": {{}}, "velocity_range": {{}}}})
    reset_joints = EventTerm(func=mdp.reset_joints_by_offset, mode="reset",
                             params={{"position_range": (0.0, 0.0), "velocity_range": (0.0, 0.0)}})


@configclass
class Commands:
    walk = mdp.WalkDirectionCommandCfg()


@configclass
class Curriculum:  # reads each frontend's per-term dones; demotes the robots that fell or stood
    terrain_levels = CurrTerm(func=mdp.terrain_levels_by_distance,
                              params={{"failure_terms": ("collision", "low"), "demote_fraction": 0.02}})


walk = REGISTERED["Stripe-Forest-Walk-Ant"]
spec = TrainingSpec(scene=walk.scene, robot=ANT_OFFLINE_CFG, actions=Actions(), observations=Observations(),
                    rewards=Rewards(), terminations=Terminations(), events=Events(), commands=Commands(),
                    curriculum=Curriculum(), sensors=walk.sensors, sim=SimSettings(episode_length_s=1.5))
cfg = spec.env_cfg(num_envs=NUM_ENVS, device=DEVICE)
cfg.seed = 3
if FRONTEND == "warp":
    from stripe_kit.warp import StripeWarpFrontend

    env = StripeWarpFrontend.build_env(cfg, "Test-Both-Frontends").unwrapped
else:
    import gymnasium as gym

    spec.register("Test-Both-Frontends")
    env = gym.make("Test-Both-Frontends", cfg=cfg).unwrapped
obs, _ = env.reset(seed=3)
env.scene.terrain.terrain_levels[:] = 2  # a middle row: robots can move both ways
actions = torch.Generator().manual_seed(0)
steps = []
for _ in range(200):
    obs, reward, terminated, truncated, _ = env.step(torch.rand((env.num_envs, 8), generator=actions) * 2 - 1)
    obs, reward, terminated, truncated = (value.cpu() for value in (obs["policy"], reward, terminated, truncated))
    steps.append([obs.tolist(), reward.tolist(), terminated.tolist(), truncated.tolist(),
                  env.scene.terrain.terrain_levels.tolist()])
print("RESULT " + json.dumps({{"env": type(env).__name__, "steps": steps}}))
"""


def test_a_stripe_kit_task_steps_alike_on_the_torch_managers_and_on_the_warp_frontend():
    """The same task (generated forest, following obstacles, STRIPE-kit's twinned terms and Isaac Lab's) from one
    seed with the same actions, 200 steps on each frontend (the Warp twins run eagerly: CPU): observations and
    rewards agree to float rounding, terminations exactly, resets included."""
    torch_run = run_python(BOTH_FRONTENDS.format(frontend="torch", device="cpu", num_envs=8))
    warp_run = run_python(BOTH_FRONTENDS.format(frontend="warp", device="cpu", num_envs=8))
    assert (torch_run["env"], warp_run["env"]) == ("StripeEnv", "StripeEnvWarp")
    for name, index, tolerance in (("observations", 0, 1e-4), ("rewards", 1, 1e-5)):
        ours, theirs = (np.array([step[index] for step in run["steps"]]) for run in (torch_run, warp_run))
        assert np.abs(ours - theirs).max() <= tolerance, (name, np.abs(ours - theirs).max())
    for index in (2, 3, 4):  # terminated, truncated, terrain levels
        assert [step[index] for step in torch_run["steps"]] == [step[index] for step in warp_run["steps"]]
    assert {level for step in torch_run["steps"] for level in step[4]} != {2}, "the curriculum never moved a robot"
    ended = np.array([step[2] for step in torch_run["steps"]]), np.array([step[3] for step in torch_run["steps"]])
    assert ended[0].sum() > 0 and ended[1].sum() > 0, [int(e.sum()) for e in ended]  # both kinds of reset happened
