"""Does a task's captured step compute what its terms say? A showcase task on Isaac Lab's Warp frontend, on CUDA.

``python -m benchmarks.warp_capture --task Stripe-Forest-Walk-Ant --num-envs 4096`` builds the task with
:func:`stripe_kit.train.frontend.make_env` (``warp``: its stages captured in CUDA graphs, Isaac Lab's default on a
GPU), steps it with random actions and Isaac Lab's random resets, and every ``--every`` steps compares the
observations the captured graphs returned with an eager recompute on the same state (a stale buffer or pointer in a
graph shows here), and every STRIPE-kit twin with its torch term (:func:`stripe_kit.warp.checks.twin_differences`).
Observation noise is switched off, so that the recompute can equal the captured values. Prints one JSON line
prefixed ``RESULT`` and writes it to ``--out`` when given. A CPU has no CUDA graphs: the twins run eagerly there and
``tests/task/test_warp_twins.py`` checks them step by step.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from stripe_kit.files import atomic_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="Stripe-Forest-Walk-Ant")
    parser.add_argument("--num-envs", type=int, default=1024)
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=20, help="steps between comparisons")
    parser.add_argument("--out", type=Path, default=None, help="JSON file to write the result to")
    args = parser.parse_args()

    from stripe_kit.task import REGISTERED
    from stripe_kit.train.frontend import make_env
    from stripe_kit.train.tasks import load_tasks
    from stripe_kit.warp.checks import twin_differences

    load_tasks()
    spec = REGISTERED[args.task]
    torch_cfg, cfg = (spec.env_cfg(num_envs=args.num_envs, device=args.device) for _ in range(2))
    for config in (torch_cfg, cfg):
        config.observations.policy.enable_corruption = False
    start = time.perf_counter()
    env = make_env(args.task, cfg, "warp").unwrapped
    build_s = time.perf_counter() - start
    env.reset(seed=3)
    actions = torch.Generator(device=args.device).manual_seed(0)
    width = env.action_manager.total_action_dim
    worst_obs, worst, active, resets = 0.0, {}, {}, 0
    for step in range(1, args.steps + 1):
        obs, _, terminated, truncated, _ = env.step(
            torch.rand((args.num_envs, width), device=args.device, generator=actions) * 2 - 1)
        resets += int((terminated | truncated).sum())
        if step % args.every == 0:
            captured = obs["policy"].clone()
            worst_obs = max(worst_obs, float((captured - env.observation_manager.compute()["policy"]).abs().max()))
            for label, (difference, count) in twin_differences(env, torch_cfg).items():
                worst[label] = max(worst.get(label, 0.0), difference)
                active[label] = active.get(label, 0) + count
    result = {"benchmark": "warp_capture", "task": args.task, "num_envs": args.num_envs, "device": args.device,
              "gpu": torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None,
              "steps": args.steps, "build_s": round(build_s, 1), "resets": resets,
              "captured_vs_eager_observations": worst_obs, "twin_vs_torch": worst, "envs_where_term_active": active}
    print("RESULT " + json.dumps(result))
    if args.out is not None:
        with atomic_path(args.out) as tmp:
            tmp.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
