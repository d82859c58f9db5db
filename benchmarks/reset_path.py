"""Host time of the forest walk's reset-path calls: what a captured step still runs eagerly when envs reset.

Run as ``python -m benchmarks.reset_path [--device cpu] [--num-envs 16] [--no-views]``. Builds the forest walk on the
Warp frontend and times, per call with half the envs resetting, the distance curriculum, the walk command's reset and
the obstacle refresh. On a CPU the kernels run on the host too, but for a few envs they take microseconds, so the
times are the calls' host overhead: what bounds a captured step of a few thousand envs on a GPU, where some reset
on nearly every step (``benchmarks.profile_step`` on the H200, ``benchmarks/results/h200-2026-12-02-session11``).
``--no-views`` builds the Warp arrays over the torch buffers at every call instead of keeping them
(``stripe_kit.task.kernels.warp_view``): the baseline of that saving, in the same run. Prints one JSON line prefixed
``RESULT``: microseconds per call, min/median/max over five windows.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import torch

from . import spread
from .env_steps import build


def time_calls(call: Callable[[], object], calls: int = 200, windows: int = 5) -> dict:
    """Microseconds per call of ``call``, min/median/max over ``windows`` windows (after a warm-up)."""
    for _ in range(20):
        call()
    rates = []
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        rates.append((time.perf_counter() - start) / calls * 1e6)
    return spread(rates)


def measure(device: str, num_envs: int, views: bool) -> dict:
    """Build the walk on the Warp frontend and time its reset-path calls (``views``: keep the Warp arrays)."""
    import warp as wp

    from stripe_kit.task import mdp
    from stripe_kit.task.mdp import commands, curriculum

    if not views:
        commands.warp_view = curriculum.warp_view = lambda tensor, dtype: wp.from_torch(tensor, dtype=dtype)
    env, _ = build("forest_warp", num_envs, device)
    ids = torch.arange(num_envs // 2, device=device)
    env.episode_length_buf[:] = 5  # ended episodes: the curriculum moves their levels
    wp.copy(env.reset_mask_wp, env.resolve_env_mask(env_ids=ids))  # as the env's _reset_idx does
    walk = env.command_manager.get_term("walk")
    failures = ("fallen", "collision", "off_map")
    result = {
        "device": device, "num_envs": num_envs, "resetting": len(ids), "warp_views_kept": views,
        "us_per_call": {
            "curriculum": time_calls(lambda: mdp.terrain_levels_by_distance(env, ids, failure_terms=failures)),
            "walk_command_reset": time_calls(lambda: walk.reset(ids)),
            "obstacle_refresh": time_calls(env._follow_obstacles),
        },
    }
    env.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num-envs", type=int, default=16)
    parser.add_argument("--no-views", action="store_true", help="make the Warp arrays at every call (the baseline)")
    args = parser.parse_args()
    print("RESULT " + json.dumps(measure(args.device, args.num_envs, not args.no_views)), flush=True)


if __name__ == "__main__":
    main()
