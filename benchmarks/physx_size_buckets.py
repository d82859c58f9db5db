"""PhysX size buckets: how much they grow the obstacles against what their extra slots cost.

A PhysX shape keeps the size it was spawned with, so on PhysX each obstacle kind is split into size buckets and
every capsule and sphere takes its bucket's largest size (``stripe_kit.task.obstacles.in_size_buckets``). More
buckets: truer sizes, more slots per env. For each bucket count this measures, on the forest walk task's scene
(seed 1, as ``benchmarks.env_steps`` builds it), the growth of the radius and half-height per kind (max and mean
[m]), the slots per env, and the env-steps/s of ``forest_physx`` with that count, beside ``forest`` on Newton,
each in its own process, the variants of a round back to back.

Run as ``python -m benchmarks.physx_size_buckets --device cpu --num-envs 64``; writes
``benchmarks/results/physx-size-buckets-<machine>-<date>.json`` atomically.
"""

from __future__ import annotations

import argparse
import datetime
import json
import socket
from pathlib import Path

from stripe_kit.files import atomic_path

from . import spread
from .run import RESULTS, run_child

BUCKETS = (1, 2, 4, 8)


def growth(buckets: tuple[int, ...]) -> dict[int, dict]:
    """Growth of the forest walk scene's obstacles [m] per bucket count (no simulation)."""
    from stripe_kit.task import REGISTERED
    from stripe_kit.task.obstacles import in_size_buckets, size_bucket_error
    from stripe_kit.train.tasks import load_tasks

    load_tasks()
    colliders = REGISTERED["Stripe-Forest-Walk-Ant"].scene.generate(1).colliders
    return {count: size_bucket_error(colliders, in_size_buckets(colliders, count)) for count in buckets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--buckets", type=int, nargs="+", default=list(BUCKETS))
    parser.add_argument("--machine", default=socket.gethostname())
    args = parser.parse_args()

    variants = [("forest", None)] + [("forest_physx", count) for count in args.buckets]
    rates: dict[str, list[float]] = {}
    slots: dict[str, int] = {}
    errors: list = []
    for round_ in range(args.rounds):
        for variant, count in variants:
            name = variant if count is None else f"{variant}_{count}"
            print(f"round {round_ + 1}/{args.rounds}: {name}", flush=True)
            child = ["benchmarks.env_steps", "--variant", variant, "--num-envs", str(args.num_envs), "--device",
                     args.device, "--steps", str(args.steps), "--repeats", "3"]
            result = run_child(child + (["--physx-size-buckets", str(count)] if count else []), timeout=1800)
            if "error" in result:
                errors.append(result)
                continue
            rates.setdefault(name, []).extend(result["rates"])
            slots[name] = result["creation_s"]["slots_per_env"]
    newton = spread(rates["forest"])["median"] if "forest" in rates else None
    report = {
        "benchmark": "physx_size_buckets",
        "date": datetime.date.today().isoformat(),
        "machine": args.machine,
        "device": args.device,
        "num_envs": args.num_envs,
        "rounds": args.rounds,
        "growth_m": growth(tuple(args.buckets)),
        "env_steps_per_s": {name: spread(values) for name, values in rates.items()},
        "slots_per_env": slots,
        "physx_over_newton": {name: spread(values)["median"] / newton for name, values in rates.items()
                              if newton and name != "forest"},
        "errors": errors,
    }
    out = RESULTS / f"physx-size-buckets-{args.machine}-{report['date']}.json"
    with atomic_path(out) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
