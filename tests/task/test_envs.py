"""Registered tasks build on Newton and PhysX (CPU), step without NaN, are seeded, and expose the scene to MDP terms."""

from __future__ import annotations

import math

import pytest
from support import run_python

TASKS = ["Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant"]
PHYSICS = ["newton", "physx"]

BUILD = """
import json, torch, gymnasium as gym
from stripe_kit.train.tasks import load_tasks
from stripe_kit.task import REGISTERED
load_tasks()
cfg = REGISTERED[{task!r}].env_cfg(num_envs={num_envs}, device="cpu", physics={physics!r})
cfg.seed = {seed}
env = gym.make({task!r}, cfg=cfg).unwrapped
obs, _ = env.reset(seed={seed})
torch.manual_seed({seed})
"""


def test_registry_lists_both_showcase_tasks():
    result = run_python(
        """
        import json
        from stripe_kit.train.tasks import load_tasks
        from stripe_kit.task import REGISTERED
        load_tasks()
        print("RESULT " + json.dumps(sorted(REGISTERED)))
        """
    )
    assert set(TASKS) <= set(result)


# every task on both backends (the Go2 on Newton: tests/task/test_go2.py); the Go2 task's own MuJoCo-Warp sizes
# are cleared on PhysX (SimSettings.for_backend)
@pytest.mark.parametrize(("task", "physics"), [(task, physics) for task in TASKS for physics in PHYSICS]
                         + [("Stripe-Forest-Velocity-Go2", "physx")])
def test_task_steps_100_times_without_nan(task, physics):
    result = run_python(
        BUILD.format(task=task, num_envs=4, seed=1, physics=physics)
        + """
nan = False
resets = 0
for _ in range(100):
    obs, rew, term, trunc, extras = env.step(torch.rand(env.num_envs, env.action_manager.total_action_dim) * 2 - 1)
    nan |= bool(torch.isnan(obs["policy"]).any() or torch.isnan(rew).any())
    resets += int((term | trunc).sum())
print("RESULT " + json.dumps({"nan": nan, "obs_dim": obs["policy"].shape[1], "resets": resets}))
"""
    )
    assert result["nan"] is False
    assert result["obs_dim"] > 20


@pytest.mark.parametrize("physics", PHYSICS)
def test_seeded_run_gives_identical_first_rewards_twice(physics):
    code = BUILD.format(task="Stripe-Forest-Walk-Ant", num_envs=4, seed=11, physics=physics) + """
rewards = []
for _ in range(5):
    obs, rew, *_ = env.step(torch.rand(env.num_envs, env.action_manager.total_action_dim) * 2 - 1)
    rewards.append(rew.tolist())
print("RESULT " + json.dumps({"rewards": rewards, "digest": env.generated_scene.digest()}))
"""
    first, second = run_python(code), run_python(code)
    assert first["digest"] == second["digest"]
    assert first["rewards"] == second["rewards"]


def test_scene_data_reaches_mdp_terms():
    result = run_python(
        BUILD.format(task="Stripe-Forest-Goal-Ant", num_envs=4, seed=5, physics="newton")
        + """
import numpy as np
from stripe_kit.task import mdp
scene = env.generated_scene
robot = env.scene["robot"]
base = robot.data.root_pos_w.torch
# the slots in physics hold every scene obstacle within reach of each robot
levels, types = env.scene.terrain.terrain_levels, env.scene.terrain.terrain_types
spawn = torch.as_tensor(scene.spawn_points, dtype=torch.float32)[levels, types]
members = env.obstacles.collider_ids
obstacles = torch.as_tensor(scene.colliders.positions[members], dtype=torch.float32)  # trunks, logs and rocks
footprint = torch.as_tensor(scene.colliders.footprint[members], dtype=torch.float32)
near = (obstacles[None, :, :2] - base[:, None, :2]).norm(dim=-1) - footprint <= env.obstacles.reach
held = env.obstacles.obstacle_ids
slot_matches_scene = all(set(torch.nonzero(near[i]).flatten().tolist()) <= set(held[i].tolist())
                         for i in range(env.num_envs))
height = mdp.base_height_above_ground(env)[:, 0]
ground = torch.as_tensor(scene.terrain.height_at(base[:, :2].numpy()), dtype=torch.float32)
goal = env.command_manager.get_term("goal").pos_command_w
heading = mdp.base_heading(env)
to_goal = goal[:, :2] - spawn[:, :2]
bearing = torch.atan2(heading[:, 0] * to_goal[:, 1] - heading[:, 1] * to_goal[:, 0], (heading * to_goal).sum(dim=1))
print("RESULT " + json.dumps({
    "objects": scene.num_objects,
    "slot_matches_scene": slot_matches_scene,
    "height_error": float((height - (base[:, 2] - ground)).abs().max()),
    "spawn_error": float((env.scene.env_origins[:, :2] - spawn[:, :2]).abs().max()),
    "goal_distance": to_goal.norm(dim=1).tolist(),
    "goal_bearing": bearing.abs().tolist(),
    "difficulty_rises": bool(np.all(np.diff(scene.terrain.tile_difficulty[:, 0]) > 0)),
}))
"""
    )
    assert result["objects"] > 50
    assert result["slot_matches_scene"]
    assert result["height_error"] < 1e-3
    assert result["spawn_error"] < 1e-4
    assert all(1.99 < d < 3.01 for d in result["goal_distance"])
    assert all(b < math.pi / 3 + 1e-3 for b in result["goal_bearing"])  # ahead of the Ant, within 60 degrees
    assert result["difficulty_rises"]


def test_goal_curriculum_promotes_arrivals_and_demotes_shortfalls():
    result = run_python(
        """
        import json, torch, gymnasium as gym
        from stripe_kit.task import REGISTERED
        from stripe_kit.train.tasks import load_tasks

        load_tasks()
        cfg = REGISTERED["Stripe-Forest-Goal-Ant"].env_cfg(num_envs=6, device="cpu")
        cfg.seed = 3
        cfg.scene.terrain.max_init_terrain_level = 3
        env = gym.make("Stripe-Forest-Goal-Ant", cfg=cfg).unwrapped
        env.reset(seed=3)
        terrain, robot = env.scene.terrain, env.scene["robot"]
        goal = env.command_manager.get_term("goal").pos_command_w
        before = terrain.terrain_levels.tolist()
        # env 0 arrives: put its Ant on its goal and step (goal_reached ends the episode, the curriculum runs)
        pose = robot.data.root_pose_w.torch[:1].clone()
        pose[0, :3] = goal[0]
        robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=torch.tensor([0]))
        env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
        promoted = terrain.terrain_levels.tolist()
        # the first other env above level 0 ends its episode where it started, the whole way short
        short = next(i for i in range(1, env.num_envs) if promoted[i] > 0)
        env._reset_idx(torch.tensor([short]))
        print("RESULT " + json.dumps({"before": before, "promoted": promoted, "short": short,
                                      "after": terrain.terrain_levels.tolist()}))
        """
    )
    before, promoted, short, after = result["before"], result["promoted"], result["short"], result["after"]
    assert promoted[0] == before[0] + 1, result
    assert promoted[1:] == before[1:], result  # nobody else ended an episode
    assert after[short] == promoted[short] - 1, result


def test_robots_stand_anywhere_on_a_256_m_terrain():
    """Robots far from the terrain's centre stand still at reset (one 256 m height field flung half of them off)."""
    result = run_python(
        """
        import json, torch, gymnasium as gym
        from stripe_kit.scene import NoiseTerrainSpec, SceneSpec
        from stripe_kit.task import REGISTERED
        from stripe_kit.train.tasks import load_tasks
        from isaaclab.sim.utils import get_current_stage

        load_tasks()
        terrain = NoiseTerrainSpec(style="hills", tile_size=(16.0, 16.0), num_rows=16, num_cols=16,
                                   amplitude_range=(0.05, 0.4))
        spec = REGISTERED["Stripe-Forest-Walk-Ant"].replace(scene=SceneSpec(terrain=terrain, assets=[]))
        spec.register("Test-LargeTerrain")
        env = gym.make("Test-LargeTerrain", cfg=spec.env_cfg(num_envs=16, device="cpu")).unwrapped
        env.reset()
        robot = env.scene["robot"]
        speed = 0.0
        for _ in range(20):
            env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
            speed = max(speed, float(torch.nan_to_num(robot.data.root_lin_vel_w.torch.norm(dim=1), nan=1e9).max()))
        blocks = len(get_current_stage().GetPrimAtPath("/World/ground/terrain").GetChildren())
        far = float(robot.data.root_pos_w.torch[:, :2].norm(dim=1).max())
        print("RESULT " + json.dumps({"speed": speed, "blocks": blocks, "far": far}))
        """
    )
    assert result["far"] > 120  # robots near the terrain's edge, where one large field failed
    assert result["blocks"] == 16  # 4 x 4 blocks of 64 m
    assert result["speed"] < 20.0, result  # a dropped Ant lands at a few m/s; a flung one left at over 100


@pytest.mark.parametrize("physics", PHYSICS)
def test_robot_driven_into_a_tree_stops(physics):
    """One tree 1.5 m ahead of the spawn point: an Ant pushed along +x stops at it; without the tree it goes on."""
    code = """
import json, numpy as np, torch, gymnasium as gym
from stripe_kit.scene import SceneSpec, NoiseTerrainSpec, TreeSpec, Instances
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks

class TreeAhead(TreeSpec):
    def place(self, ctx):
        spawn = ctx.scene.spawn_points.reshape(-1, 3)
        xy = spawn[:, :2] + np.array([1.5, 0.0])
        n = len(xy)
        return Instances(np.column_stack([xy, ctx.scene.terrain.height_at(xy)]), np.zeros(n), np.ones(n),
                         np.zeros(n, np.int64), np.column_stack(ctx.scene.terrain.tile_of(xy)))

load_tasks()
assets = [TreeAhead(trunk_radius=0.2)] if {with_tree} else []
scene = SceneSpec(terrain=NoiseTerrainSpec(style="flat", num_rows=1, num_cols=2), assets=assets)
spec = REGISTERED["Stripe-Forest-Walk-Ant"].replace(scene=scene)
spec.register("Test-TreeAhead")
cfg = spec.env_cfg(num_envs=2, device="cpu", physics={physics!r})
cfg.terminations.collision = cfg.rewards.collision = None
cfg.curriculum.terrain_levels.params["failure_terms"] = ("fallen", "off_map")
env = gym.make("Test-TreeAhead", cfg=cfg).unwrapped
env.reset()
robot = env.scene["robot"]
ids = torch.arange(env.num_envs)
push = torch.tensor([[1.0, 0, 0, 0, 0, 0]]).repeat(env.num_envs, 1)
for _ in range(150):
    robot.write_root_velocity_to_sim_index(root_velocity=push, env_ids=ids)
    env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
x = (robot.data.root_pos_w.torch[:, 0] - env.scene.env_origins[:, 0]).tolist()
print("RESULT " + json.dumps({{"x": x}}))
"""
    blocked = run_python(code.format(with_tree=True, physics=physics))["x"]
    free = run_python(code.format(with_tree=False, physics=physics))["x"]
    # trunk surface at 1.5 - 0.2 m; the Ant's legs reach about 0.4 m ahead of its base
    assert all(x < 1.3 for x in blocked), blocked
    assert all(x > 2.0 for x in free), free


@pytest.mark.parametrize("frontend", ["torch", "warp"])
def test_diverged_robot_is_reset_without_nan_reaching_the_learner(frontend):
    # one robot's simulation blows up (NaN joint velocities, another flung at 200 m/s); without the
    # physics_diverged term NaN stays in that world for good, since no other term can end its episode
    build = BUILD.format(task="Stripe-Forest-Walk-Ant", num_envs=4, seed=3, physics="newton")
    if frontend == "warp":  # the Warp frontend zeroes the diverged robots' rewards in its own kernel
        build = build.replace("env = gym.make('Stripe-Forest-Walk-Ant', cfg=cfg).unwrapped",
                              "from stripe_kit.train.frontend import make_env\n"
                              "env = make_env('Stripe-Forest-Walk-Ant', cfg, 'warp').unwrapped")
        assert "make_env" in build
    result = run_python(
        build
        + """
robot = env.scene["robot"]
zero = torch.zeros(env.num_envs, env.action_manager.total_action_dim)
for _ in range(3):
    env.step(zero)
robot.write_joint_velocity_to_sim_index(velocity=torch.full((1, robot.num_joints), float("nan")), env_ids=[1])
robot.write_root_velocity_to_sim_index(root_velocity=torch.tensor([[200.0, 0, 0, 0, 0, 0]]), env_ids=[2])
obs, rew, term, trunc, extras = env.step(zero)
logs = torch.tensor(list(map(float, extras["log"].values())))
first = {"terminated": term.tolist(), "reward_finite": bool(torch.isfinite(rew).all()),
         "obs_finite": bool(torch.isfinite(obs["policy"]).all()), "logs_finite": bool(torch.isfinite(logs).all()),
         "logged": float(extras["log"]["Episode_Termination/physics_diverged"])}
finite = True
for _ in range(20):
    obs, rew, *_ = env.step(zero)
    finite &= bool(torch.isfinite(obs["policy"]).all() and torch.isfinite(rew).all())
print("RESULT " + json.dumps({**first, "finite_after": finite}))
"""
    )
    assert result["terminated"] == [False, True, True, False]
    assert result["reward_finite"] and result["obs_finite"] and result["logs_finite"]
    assert result["logged"] == 0.5  # Isaac Lab logs the share of envs whose last episode ended by the term
    assert result["finite_after"]


def test_robots_rest_on_hilly_ground_as_on_flat_ground():
    # Newton 1.6 placed a height field's geom without its min_z shift in MuJoCo-Warp's per-world model, so on hills
    # the physics ground stood above the terrain mesh and robots spawned on the mesh were launched and slid away
    code = """
import json, torch, gymnasium as gym
from stripe_kit.train.tasks import load_tasks
from stripe_kit.task import REGISTERED
load_tasks()
walk = REGISTERED["Stripe-Forest-Walk-Ant"]
terrain = walk.scene.terrain.replace(style={style!r})
walk.replace(scene=walk.scene.replace(terrain=terrain, assets=[])).register("Stripe-Test-Rest")
cfg = REGISTERED["Stripe-Test-Rest"].env_cfg(num_envs=16, device="cpu")
cfg.seed = 7
env = gym.make("Stripe-Test-Rest", cfg=cfg).unwrapped
env.reset()
robot = env.scene["robot"]
start = robot.data.root_pos_w.torch[:, :2].clone()
for _ in range(120):
    env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
pos = robot.data.root_pos_w.torch
above = pos[:, 2] - env.scene_data.height_at(pos[:, :2])
print("RESULT " + json.dumps({{"above": above.mean().item(), "slid": (pos[:, :2] - start).norm(dim=1).max().item(),
      "relief": float(env.generated_scene.terrain.heights.max() - env.generated_scene.terrain.heights.min())}}))
"""
    hills, flat = run_python(code.format(style="hills")), run_python(code.format(style="flat"))
    assert hills["relief"] > 0.3 and flat["relief"] == 0.0
    assert abs(hills["above"] - flat["above"]) < 0.03
    assert hills["slid"] < 0.3
