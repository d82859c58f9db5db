"""Obstacles follow the robots: every scene obstacle within reach of a robot is a collider in its world, anywhere."""

from __future__ import annotations

import pytest
from support import run_python

SETUP = """
import json, numpy as np, torch, gymnasium as gym
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks
from stripe_kit.scene.assets import CAPSULE

load_tasks()
cfg = REGISTERED["Stripe-Forest-Walk-Ant"].env_cfg(num_envs=8, device="cpu", physics=PHYSICS)
cfg.seed = 2
for term in ("collision", "fallen", "off_map"):
    setattr(cfg.terminations, term, None)
    setattr(cfg.rewards, term, None)  # the penalties that read them
cfg.curriculum.terrain_levels.params["failure_terms"] = ()  # and the curriculum
env = gym.make("Stripe-Forest-Walk-Ant", cfg=cfg).unwrapped
env.reset(seed=2)
robot, scene, slots = env.scene["robot"], env.generated_scene, env.obstacles
colliders = scene.colliders
members = slots.collider_ids  # obstacle id -> collider row
xy, footprint = colliders.positions[members, :2], colliders.footprint[members]
ground = scene.terrain.height_at
ids = torch.arange(env.num_envs)

def put(points):
    pose = robot.data.default_root_pose.torch.clone()
    pose[:, :2] = torch.as_tensor(points, dtype=torch.float32)
    pose[:, 2] += torch.as_tensor(ground(np.asarray(points, dtype=float)), dtype=torch.float32)
    robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=ids)
    robot.write_root_velocity_to_sim_index(root_velocity=torch.zeros(env.num_envs, 6), env_ids=ids)
    robot.write_joint_position_to_sim_index(position=robot.data.default_joint_pos.torch.clone(), env_ids=ids)
    robot.write_joint_velocity_to_sim_index(velocity=torch.zeros_like(robot.data.default_joint_vel.torch), env_ids=ids)
"""


@pytest.mark.parametrize("physics", ["newton", "physx"])
def test_robot_put_next_to_a_far_obstacle_collides_within_one_policy_step(physics):
    """Four Ants put against trunks far from every spawn point are shoved off them; four in the open stay put."""
    result = run_python(
        f"PHYSICS = {physics!r}\n" + SETUP
        + """
spawn = scene.spawn_points.reshape(-1, 3)[:, :2]
kind = colliders.kind[members]
upright = np.abs(colliders.orientations[members][:, :2]).sum(axis=1) < 1e-6
far = np.linalg.norm(xy[:, None] - spawn[None], axis=2).min(axis=1) > 3.5  # tiles are 8 m: at most 5.7 m
trunks = np.flatnonzero((kind == CAPSULE) & upright & far)
rng = np.random.default_rng(0)
picked = rng.choice(trunks, 4, replace=False)
outward = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
# the torso (radius 0.25) overlaps the trunk by 0.15 m
against = xy[picked] + outward * (colliders.sizes[members][picked, :1] + 0.1)
# open ground: no obstacle footprint within 3 m
cand = rng.uniform(-20, 20, size=(4000, 2))
clear = (np.linalg.norm(cand[:, None] - xy[None], axis=2) - footprint).min(axis=1) > 3.0
open_ground = cand[clear][:4]
put(np.concatenate([against, open_ground]))
env.sim.forward() if hasattr(env.sim, "forward") else None
start = robot.data.root_pos_w.torch[:, :2].clone()
env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
moved = (robot.data.root_pos_w.torch[:, :2] - start).numpy()
in_slots = [bool(int(p) in slots.obstacle_ids[i].tolist()) for i, p in enumerate(picked)]
overflowed = 0  # worlds whose constraint rows overflowed sim.njmax (MuJoCo-Warp's NEFC flag: contacts dropped)
if PHYSICS == "newton":
    from isaaclab_newton.physics.newton_manager import NewtonManager
    overflowed = int((NewtonManager._solver.mjw_data.overflow.numpy() & 1).sum())
print("RESULT " + json.dumps({
    "overflowed": overflowed,
    "away": [float(moved[i] @ outward[i]) for i in range(4)],
    "open": np.linalg.norm(moved[4:], axis=1).tolist(),
    "in_slots": in_slots,
    "spawn_distance": np.linalg.norm(xy[picked, None] - spawn[None], axis=2).min(axis=1).tolist(),
}))
"""
    )
    assert all(d > 3.5 for d in result["spawn_distance"])
    assert all(result["in_slots"]), result
    assert result["overflowed"] == 0, result  # the default njmax holds an Ant jammed into a trunk
    # shoved away from the trunk within one policy step (1/60 s), while Ants in the open barely move
    assert all(d > 0.01 for d in result["away"]), result
    assert all(d < 0.005 for d in result["open"]), result
    assert min(result["away"]) > 3 * max(result["open"]), result


@pytest.mark.parametrize("physics", ["newton", "physx"])
def test_sweep_across_the_map_never_misses_an_obstacle_within_reach(physics):
    """Every obstacle within reach of a robot put anywhere is in one of its slots; on PhysX in a slot spawned at the
    obstacle's (bucketed) size."""
    result = run_python(
        f"PHYSICS = {physics!r}\n" + SETUP
        + """
xmin, xmax, ymin, ymax = scene.terrain.extent
rng = np.random.default_rng(1)
missing = checked = listed = 0
for row in np.arange(xmin - 2.0, xmax + 2.0, 0.7):
    cols = np.arange(ymin - 2.0, ymax + 2.0, 0.7)
    for first in range(0, len(cols), env.num_envs):
        points = np.stack([np.full(env.num_envs, row), np.resize(cols[first:first + env.num_envs], env.num_envs)], 1)
        points = points + rng.uniform(-0.35, 0.35, points.shape)
        put(points)
        slots.follow()
        root = robot.data.root_pos_w.torch[:, :2].numpy()
        held = slots.obstacle_ids.numpy()
        near = np.linalg.norm(root[:, None] - xy[None], axis=2) - footprint <= slots.reach
        for env_id in range(env.num_envs):
            want = set(np.flatnonzero(near[env_id]).tolist())
            missing += len(want - set(held[env_id].tolist()))
            checked += 1
            listed += len(want)
# positions and radii are the public view of the same slots
ok = held >= 0
view = np.allclose(slots.positions.numpy()[ok][:, :2], xy[held[ok]], atol=1e-5)
# the size each slot was spawned with (PhysX keeps it) against the size of the obstacle it holds
spawned = np.array([(g.radius, g.half_height) for g in slots.groups for _ in range(g.count)])
columns = np.broadcast_to(np.arange(held.shape[1]), held.shape)[ok]
sizes = colliders.sizes[members][held[ok], :2]
sized = bool(np.allclose(spawned[columns], sizes, atol=1e-6))
print("RESULT " + json.dumps({"missing": missing, "checked": checked, "listed": listed, "view": view,
                              "reach": slots.reach, "slots": slots.slots, "groups": len(slots.groups),
                              "sized": sized}))
"""
    )
    assert result["checked"] > 4000 and result["listed"] > 1000, result
    assert result["missing"] == 0, result
    assert result["view"]
    if physics == "physx":  # one group per kind and size bucket, each obstacle in a slot of its size
        assert result["groups"] > 2 and result["sized"], result
    else:  # one group per kind, resized every step
        assert result["groups"] == 2 and not result["sized"], result
    assert 1.2 < result["reach"] < 2.0  # the Ant's radius (1.29 m) plus 5 m/s over one policy step


def test_obstacle_refresh_and_ray_ring_replay_from_a_captured_graph():
    """The per-step obstacle work is capturable: recorded once with Warp's capture (on a CPU: Warp's CPU graphs), the
    slot refresh and the ray ring replayed for robots put elsewhere give what an eager call gives there (no host
    synchronisation, fixed shapes). Both read the root pose Isaac Lab writes, so the replays need no refresh of a
    lazily updated buffer first (the ring is on the Ant's torso, its root body)."""
    result = run_python(
        "PHYSICS = 'newton'\n" + SETUP
        + """
import warp as wp
ring = env.scene.sensors["range_ring"]

def per_step_work():
    slots.follow()
    ring.cast()

with wp.ScopedCapture(device=env.device) as capture:
    per_step_work()
rng = np.random.default_rng(4)
same_ids = same_distances = held_before = None
outcomes = []
for trial in range(4):
    put(rng.uniform(-20, 20, size=(env.num_envs, 2)))
    wp.capture_launch(capture.graph)
    replayed = slots.obstacle_ids.clone(), ring.data.distances.torch.clone()
    per_step_work()
    eager = slots.obstacle_ids.clone(), ring.data.distances.torch.clone()
    outcomes.append({"ids": bool(torch.equal(replayed[0], eager[0])),
                     "distances": float((replayed[1] - eager[1]).abs().max()),
                     "held": int((eager[0] >= 0).sum()), "hits": int((eager[1] < ring.cfg.max_distance).sum()),
                     "moved": held_before is None or not torch.equal(held_before, eager[0])})
    held_before = eager[0]
print("RESULT " + json.dumps(outcomes))
"""
    )
    assert all(trial["ids"] and trial["distances"] == 0.0 for trial in result), result
    # the placements differ, so a replay of stale work would have shown; and they reach obstacles
    assert all(trial["moved"] for trial in result) and sum(trial["held"] for trial in result) > 8, result
    assert sum(trial["hits"] for trial in result) > 0, result


def test_robot_walking_toward_the_edge_is_ended_before_it_leaves_and_its_walk_turns_back_and_bends_from_sides():
    result = run_python(
        """
        import json, torch, gymnasium as gym
        from stripe_kit.task import REGISTERED
        from stripe_kit.train.tasks import load_tasks

        load_tasks()
        cfg = REGISTERED["Stripe-Forest-Walk-Ant"].env_cfg(num_envs=2, device="cpu")
        cfg.terminations.collision = cfg.rewards.collision = None
        cfg.terminations.fallen = cfg.rewards.fallen = None
        cfg.curriculum.terrain_levels.params["failure_terms"] = ("off_map",)
        env = gym.make("Stripe-Forest-Walk-Ant", cfg=cfg).unwrapped
        env.reset(seed=0)
        robot = env.scene["robot"]
        (_, low_y), (edge, high_y) = [bound.tolist() for bound in env.scene_data.bounds]
        pose = robot.data.root_pose_w.torch.clone()
        pose[:, 0] = edge - 4.0
        pose[0, 1] = (low_y + high_y) / 2  # env 0 mid-way between the side edges, env 1 3 m from one
        pose[1, 1] = high_y - 3.0
        # standing height over the ground there (the spawn point's height can be below a hill there)
        pose[:, 2] = env.scene_data.height_at(pose[:, :2]) + robot.data.default_root_pose.torch[:, 2]
        robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=torch.arange(2))
        push = torch.tensor([[3.0, 0, 0, 0, 0, 0]]).repeat(2, 1)
        last_x, ended, walk_x = None, None, []
        for step in range(200):
            last_x = float(robot.data.root_pos_w.torch[0, 0])
            robot.write_root_velocity_to_sim_index(root_velocity=push, env_ids=torch.arange(2))
            _, _, term, trunc, extras = env.step(torch.zeros(2, env.action_manager.total_action_dim))
            walk_x.append(float(env.command_manager.get_command("walk")[0, 0]))
            if step == 0:
                side_walk = env.command_manager.get_command("walk")[1].tolist()
            if bool(trunc[0] | term[0]):
                ended = step
                break
        print("RESULT " + json.dumps({"edge": edge, "last_x": last_x, "ended": ended, "truncated": bool(trunc[0]),
              "off_map": float(extras["log"]["Episode_Termination/off_map"]), "walk_x": walk_x,
              "side_walk": side_walk}))
        """
    )
    # 4 m from the +x edge, inside the 6 m turn distance: the walk points back into the map from the first step
    assert set(result["walk_x"][:-1]) == {-1.0}, result["walk_x"]
    # 3 m from the +y edge, inside the 6 m side distance: the walk bends 45 degrees away from it
    assert result["side_walk"] == pytest.approx([-0.5 ** 0.5, -0.5 ** 0.5]), result["side_walk"]
    assert result["ended"] is not None, result
    assert result["truncated"]  # leaving the map is a time-out, not a failure
    assert result["off_map"] > 0
    assert result["edge"] - 1.5 < result["last_x"] < result["edge"], result


@pytest.mark.parametrize("buckets", [1, 2, 4, 8])
def test_size_buckets_only_grow_obstacles_to_their_bucket_and_more_buckets_grow_them_less(buckets):
    """:func:`in_size_buckets` on the forest: each kind splits into at most ``buckets`` sizes, every obstacle
    grows (never shrinks) to the largest size of its bucket, and the growth falls as buckets are added."""
    import numpy as np

    from stripe_kit.scene.assets import CAPSULE, SPHERE
    from stripe_kit.task import REGISTERED
    from stripe_kit.task.obstacles import in_size_buckets, size_bucket_error
    from stripe_kit.train.tasks import load_tasks

    load_tasks()
    colliders = REGISTERED["Stripe-Forest-Walk-Ant"].scene.generate(2).colliders
    bucketed = in_size_buckets(colliders, buckets)
    for kind in (CAPSULE, SPHERE):
        of_kind = colliders.kind == kind
        before, after = colliders.sizes[of_kind, :2], bucketed.sizes[of_kind, :2]
        assert (after >= before).all()
        assert len(np.unique(after, axis=0)) <= buckets
        for size in np.unique(after, axis=0):  # a bucket's size is the largest of its members
            assert np.allclose(before[(after == size).all(axis=1)].max(axis=0), size)
    assert (bucketed.sizes[:, 2] == colliders.sizes[:, 2]).all()
    error, finer = size_bucket_error(colliders, bucketed), size_bucket_error(colliders, in_size_buckets(colliders, 2 * buckets))
    for kind in (CAPSULE, SPHERE):
        assert finer[kind]["radius_max"] + finer[kind].get("half_height_max", 0.0) <= \
            error[kind]["radius_max"] + error[kind].get("half_height_max", 0.0) + 1e-9
    if buckets == 1:  # one size per kind: the kind's largest
        assert error[SPHERE]["radius_max"] == pytest.approx(np.ptp(colliders.sizes[colliders.kind == SPHERE, 0]))
