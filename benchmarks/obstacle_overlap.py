"""Do trained robots pass through obstacles that physics does not hold? Play a policy and count.

``python -m benchmarks.obstacle_overlap RUN_DIR --num-envs 1024 --device cuda:0`` plays the run's deterministic
policy for one episode per env and, after every step, checks each robot body (a sphere: the torso 0.25 m, other
bodies 0.08 m, the Ant's leg radius) against *every* capsule and sphere of the generated scene, brute force,
independent of the obstacle index. A robot-step counts as a pass-through when a body overlaps an obstacle (by more
than 2 cm) that was not among that env's collider slots during the step. Writes
``benchmarks/results/obstacle-overlap-<task>-<machine>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
from pathlib import Path

import torch

from stripe_kit.files import atomic_path

RESULTS = Path(__file__).resolve().parent / "results"
TOLERANCE = 0.02
"""Overlap [m] below which a body merely touches an obstacle (contacts allow a little penetration)."""


class OverlapCounter:
    """Counts robot-steps in which a body overlaps a scene obstacle that was, or was not, in physics."""

    def __init__(self) -> None:
        self.steps = 0
        self.robot_steps = 0
        self.outside_physics = 0
        self.inside_physics = 0
        self._held: torch.Tensor | None = None
        self._segments: tuple[torch.Tensor, ...] | None = None
        self.travelled: torch.Tensor | None = None
        """Farthest each robot got from its episode's spawn point [m]."""

    def __call__(self, env) -> None:
        slots = env.obstacles
        robot = env.scene["robot"]
        if self._segments is None:
            self._bind(env)
        held = self._held  # the slots during this step: follow() at its start ran on the previous step's poses
        bodies = robot.data.body_link_pose_w.torch[..., :3]  # (E, B, 3)
        a, b, radius = self._segments
        ab = b - a
        t = (((bodies[:, :, None] - a) * ab).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-9)).clamp(0, 1)
        gap = (bodies[:, :, None] - (a + t[..., None] * ab)).norm(dim=-1) - radius - self._body_radius[None, :, None]
        touching = (gap < -TOLERANCE).any(dim=1)  # (E, M)
        in_physics = torch.zeros_like(touching)
        valid = held >= 0
        in_physics.scatter_(1, held.clamp(min=0).long(), valid)
        self.outside_physics += int((touching & ~in_physics).any(dim=1).sum())
        self.inside_physics += int((touching & in_physics).any(dim=1).sum())
        self.robot_steps += env.num_envs
        self.steps += 1
        away = (robot.data.root_pos_w.torch[:, :2] - env.scene.env_origins[:, :2]).norm(dim=1)
        self.travelled = torch.maximum(self.travelled, away)
        self._held = slots.obstacle_ids.clone()

    def _bind(self, env) -> None:
        slots, robot = env.obstacles, env.scene["robot"]
        pose, size = slots.obstacle_pose.numpy()[:-1], slots.obstacle_size.numpy()[:-1]
        pose, size = torch.as_tensor(pose, device=env.device), torch.as_tensor(size, device=env.device)
        x, y, z, w = pose[:, 3], pose[:, 4], pose[:, 5], pose[:, 6]
        axis = torch.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], dim=1)
        half = axis * size[:, 1:2]
        self._segments = (pose[:, :3] - half, pose[:, :3] + half, size[:, 0])
        self._body_radius = torch.tensor([0.25 if name == "torso" else 0.08 for name in robot.body_names],
                                         device=env.device)
        self.travelled = torch.zeros(env.num_envs, device=env.device)
        # first step: the slots the reset put around the robots
        self._held = slots.obstacle_ids.clone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory or checkpoint")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--device", default=None)
    parser.add_argument("--machine", default=socket.gethostname())
    args = parser.parse_args()
    from stripe_kit.train.play import play

    counter = OverlapCounter()
    result = play(args.run, episodes=args.num_envs, num_envs=args.num_envs, device=args.device, after_step=counter)
    travelled = counter.travelled.cpu()
    record = {
        "benchmark": "obstacle_overlap",
        "machine": args.machine,
        "platform": platform.platform(),
        "task": result.task,
        "checkpoint": str(result.checkpoint),
        "epoch": result.epoch,
        "num_envs": args.num_envs,
        "steps": counter.steps,
        "robot_steps": counter.robot_steps,
        "overlap_outside_physics": counter.outside_physics,
        "overlap_inside_physics": counter.inside_physics,
        "episodes": result.episodes,
        "mean_return": result.mean_return,
        "success_rate": result.success_rate,
        "distance_from_spawn_m": {"median": float(travelled.median()), "max": float(travelled.max())},
        "tolerance_m": TOLERANCE,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"obstacle-overlap-{result.task}-{args.machine}.json"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
