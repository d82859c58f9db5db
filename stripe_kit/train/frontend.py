"""Which of Isaac Lab's frontends runs a task's managers: ``torch`` (its manager-based env) or ``warp`` (its Warp
frontend, whose steps CUDA graphs capture; :mod:`stripe_kit.warp`).

Both run the same task to the same semantics (``tests/task/test_warp_twins.py``); they differ in speed. The default
is the faster one on the device at hand, as measured by ``benchmarks.run`` (see :data:`DEFAULT_FRONTENDS`).
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError

FRONTENDS = ("torch", "warp")
"""Frontends a task runs on."""

DEFAULT_FRONTENDS = {"cpu": "torch", "cuda": "warp"}
"""The frontend per device kind, by measurement (``benchmarks.env_steps``, the forest walk task). CUDA: the Warp
frontend, its step captured, 2.1 x the torch managers on an H200 at 4096 envs (774,557 against 369,245 env-steps/s,
``benchmarks/results/h200-2026-12-02-session10``). CPU: no CUDA graphs, the twins run eagerly, and the two are within
the noise on the 2-core CI machine at 64 envs (1,650 against 1,560 env-steps/s over two rounds, ranges overlapping),
so the torch managers, which every other feature has been tested on, stay."""


def check_frontend(frontend: str | None, physics: str | None) -> None:
    """Fail in one line on an unknown frontend, or the Warp frontend with a backend other than Newton.

    Args:
        frontend: ``torch``, ``warp`` or None (the device's default).
        physics: The run's physics backend (None: the task's, Newton unless it says otherwise).
    """
    if frontend is None:
        return
    if frontend not in FRONTENDS:
        raise SpecError("frontend", frontend, f"one of {', '.join(FRONTENDS)}")
    if frontend == "warp" and physics not in (None, "newton"):
        raise SpecError("frontend", frontend, f"torch with physics '{physics}' (Isaac Lab's Warp frontend runs on "
                        "Newton)")


def resolve_frontend(frontend: str | None, device: str, physics: str) -> str:
    """The frontend a run uses: the one asked for, else the faster one on ``device`` (torch off Newton)."""
    check_frontend(frontend, physics)
    if frontend is not None:
        return frontend
    if physics != "newton":
        return "torch"
    return DEFAULT_FRONTENDS["cuda" if device.startswith("cuda") else "cpu"]


def make_env(task: str, env_cfg: Any, frontend: str) -> Any:
    """Build a registered task's env on a frontend, from its resolved config (the caller closes it).

    Args:
        task: The registered task id.
        env_cfg: Its Isaac Lab env config (the Warp frontend adapts it in place: build one env per config).
        frontend: ``torch`` or ``warp``.
    """
    if frontend == "warp":
        from ..warp import StripeWarpFrontend

        return StripeWarpFrontend.build_env(env_cfg, task)
    import gymnasium as gym

    return gym.make(task, cfg=env_cfg)
