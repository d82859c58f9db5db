"""Ray sensors see the generated scene on Newton and PhysX: the ground of any size and every obstacle nearby."""

from __future__ import annotations

import sys

import pytest
from support import run_cli, run_python

from stripe_kit.errors import SpecError
from stripe_kit.task import SimSettings

PHYSICS = ["newton", "physx"]

TREE_AHEAD = """
import json, numpy as np, torch, gymnasium as gym
from isaaclab.sensors.ray_caster.patterns import GridPatternCfg
from stripe_kit.scene import SceneSpec, NoiseTerrainSpec, TreeSpec, Instances
from stripe_kit.task import REGISTERED
from stripe_kit.task.sensors import SceneRayCasterCfg, RingPatternCfg
from stripe_kit.train.tasks import load_tasks

class TreeAhead(TreeSpec):
    # one trunk of radius 0.2 m, 2 m along +x from every spawn point
    def place(self, ctx):
        xy = ctx.scene.spawn_points.reshape(-1, 3)[:, :2] + np.array([2.0, 0.0])
        n = len(xy)
        return Instances(np.column_stack([xy, ctx.scene.terrain.height_at(xy)]), np.zeros(n), np.ones(n),
                         np.zeros(n, np.int64), np.column_stack(ctx.scene.terrain.tile_of(xy)))

load_tasks()
terrain = NoiseTerrainSpec(style="hills", num_rows={rows}, num_cols={rows}, tile_size=({tile}, {tile}),
                           amplitude_range=(0.3, 1.0), spawn_clearing_radius=0.5)
sensors = {{
    "range_ring": SceneRayCasterCfg(body_name="torso", pattern_cfg=RingPatternCfg(count=8), max_distance=5.0),
    "scan": SceneRayCasterCfg(pattern_cfg=GridPatternCfg(resolution=0.3, size=(1.5, 0.9)),
                              offset=SceneRayCasterCfg.OffsetCfg(pos=(0.0, 0.0, 20.0)), max_distance=50.0),
}}
spec = REGISTERED["Stripe-Forest-Walk-Ant"].replace(scene=SceneSpec(terrain=terrain, assets={assets}), sensors=sensors)
spec.register("Test-Sensors")
cfg = spec.env_cfg(num_envs=4, device="cpu", physics={physics!r})
env = gym.make("Test-Sensors", cfg=cfg).unwrapped
env.reset(seed=0)
robot, scene = env.scene["robot"], env.generated_scene

def scan_error():
    hits = env.scene.sensors["scan"].data.ray_hits_w.torch.reshape(-1, 3).numpy().astype(float)
    return float(np.abs(hits[:, 2] - scene.terrain.height_at(hits[:, :2])).max())
"""


@pytest.mark.parametrize("physics", PHYSICS)
def test_ring_measures_a_tree_and_the_scan_reads_a_hill(physics):
    result = run_python(
        TREE_AHEAD.format(rows=2, tile=8.0, assets="[TreeAhead(trunk_radius=0.2)]", physics=physics)
        + """
ring = env.scene.sensors["range_ring"].data
ahead = ring.distances.torch[:, 4].tolist()  # ray 4 of 8 points along the torso's forward axis
behind = ring.distances.torch[:, 0].tolist()
# the scan on the slopes: Ants put where the ground is steepest
heights = scene.terrain.heights
gx, gy = np.gradient(heights, scene.terrain.resolution)
i, j = np.unravel_index(np.argsort(-(gx ** 2 + gy ** 2), axis=None), heights.shape)
steepest = np.stack([scene.terrain.x0 + i * scene.terrain.resolution, scene.terrain.y0 + j * scene.terrain.resolution], 1)
# where the whole scan grid lies on the ground: no trunk within 1.5 m (the scan reads trunks, too)
clear = np.linalg.norm(steepest[:, None] - scene.colliders.positions[None, :, :2], axis=2).min(axis=1) > 1.5
points = steepest[clear][:4 * 50:50]
pose = robot.data.root_pose_w.torch.clone()
pose[:, :2] = torch.as_tensor(points, dtype=torch.float32)
pose[:, 2] = torch.as_tensor(scene.terrain.height_at(points) + 0.6, dtype=torch.float32)
robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=torch.arange(4))
env.step(torch.zeros(4, env.action_manager.total_action_dim))
slope = float(np.hypot(gx, gy).max())
# Isaac Lab's own height_scan term on the sensor: the base's height above each hit, minus 0.5 m
from isaaclab.managers import SceneEntityCfg
from stripe_kit.task import mdp
hits = env.scene.sensors["scan"].data.ray_hits_w.torch
ground_z = torch.as_tensor(scene.terrain.height_at(hits[..., :2].reshape(-1, 2).numpy().astype(float)),
                           dtype=torch.float32).reshape(hits.shape[:2])
expected = robot.data.root_pos_w.torch[:, 2:3] - ground_z - 0.5
obs_error = float((mdp.height_scan(env, SceneEntityCfg("scan")) - expected).abs().max())
print("RESULT " + json.dumps({"ahead": ahead, "behind": behind, "scan_error": scan_error(), "slope": slope,
      "obs_error": obs_error,
      "scan_rays": env.scene.sensors["scan"].num_rays}))
"""
    )
    assert all(abs(d - 1.8) < 0.02 for d in result["ahead"]), result  # 2 m to the trunk's axis, radius 0.2 m
    assert all(d > 4.0 for d in result["behind"]), result
    assert result["slope"] > 0.2  # really on a hill (a 0.2 m rise per metre at least)
    assert result["scan_error"] < 0.02, result
    assert result["obs_error"] < 0.02, result  # Isaac Lab's height_scan reads it as it reads its own RayCaster
    assert result["scan_rays"] == 6 * 4


@pytest.mark.parametrize("physics", PHYSICS)
def test_scan_reads_the_far_edge_of_a_256_m_terrain(physics):
    result = run_python(
        TREE_AHEAD.format(rows=16, tile=16.0, assets="[]", physics=physics)
        + """
edge = float(env.scene_data.bounds[1][0])
points = np.array([[edge - 2.0, edge - 2.0], [edge - 1.0, -edge + 3.0], [-edge + 1.5, edge - 5.0], [100.0, 120.0]])
pose = robot.data.root_pose_w.torch.clone()
pose[:, :2] = torch.as_tensor(points, dtype=torch.float32)
pose[:, 2] = torch.as_tensor(scene.terrain.height_at(points) + 0.6, dtype=torch.float32)
robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=torch.arange(4))
env.step(torch.zeros(4, env.action_manager.total_action_dim))
relief = float(scene.terrain.heights.max() - scene.terrain.heights.min())
print("RESULT " + json.dumps({"edge": edge, "scan_error": scan_error(), "relief": relief}))
"""
    )
    assert result["edge"] >= 128.0
    assert result["relief"] > 0.5
    assert result["scan_error"] < 0.02, result


@pytest.mark.parametrize(
    "override, message",
    [
        ("env.scene.range_ring.max_distance=-1.0", r"sensors\.range_ring\.max_distance: got -1\.0"),
        ("env.scene.range_ring.body_name=tail", r"sensors\.range_ring\.body_name: got 'tail'; expected one body"),
        ("env.scene.range_ring.pattern_cfg.count=0", r"sensors\.range_ring\.pattern_cfg: .*at least one ray"),
        ("sim.obstacle_slots={'capsule': 1, 'sphere': 0}", r"sim\.obstacle_slots\.capsule: got 1; expected at least \d+"),
    ],
)
def test_bad_sensor_or_slot_setting_is_one_line_at_env_build(tmp_path, override, message):
    proc = run_cli(sys.executable, "-m", "stripe_kit.cli.main", "train", "--task", "Stripe-Forest-Walk-Ant",
                   "--num-envs", "2", "--max-iterations", "1", "--device", "cpu", "--runs-dir", str(tmp_path), override)
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("stripe-kit: error")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    import re

    assert re.search(message, lines[0]), lines[0]


@pytest.mark.parametrize("reach", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_obstacle_reach_is_refused(reach):
    with pytest.raises(SpecError, match=r"^sim\.obstacle_reach: got "):
        SimSettings(obstacle_reach=reach)
