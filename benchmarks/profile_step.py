"""Where an env step's time goes: the torch profiler around ``env.step``, per manager and per op.

Run as ``python -m benchmarks.profile_step --variant forest --num-envs 64 --device cpu``. Each manager's compute
and the physics step are wrapped in ``torch.profiler.record_function`` ranges, so the table shows their share of the
step; ``ops_per_step`` counts the torch operators a step dispatches (on CUDA, about the kernel launches whose
CPU-side cost bounds a small env's step rate). Prints one JSON line prefixed ``RESULT``.

On the Warp frontend (``forest_warp``, ``no_obstacles_warp``, ``ant_*_warp``) the managers run as captured stages:
each stage of :class:`~isaaclab_experimental.utils.manager_call_switch.ManagerCallSwitch` gets its range (host time:
launching its graph; device time: the graph's kernels), beside the eager work around them (the physics step, the
scene update, the obstacle refresh, the reset path, the commands). On CUDA the result also holds the kernels by
device time, the device's busy time and the launches per step, and the step's wall time measured without the
profiler: a step whose wall time is near its device time is bound by the GPU, one well above it by the host.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile, record_function

from . import spread
from .env_steps import VARIANTS, _random_actions, _sync, build

RANGES = {
    "physics": ("sim", "step"),
    "actions": ("action_manager", "process_action"),
    "terminations": ("termination_manager", "compute"),
    "rewards": ("reward_manager", "compute"),
    "resets": (None, "_reset_idx"),
    "reset.curriculum": ("curriculum_manager", "compute"),
    "reset.scene": ("scene", "reset"),
    "reset.events": ("event_manager", "apply"),
    "reset.obstacles": ("obstacles", "place"),
    "reset.commands": ("command_manager", "reset"),
    "reset.reward_logs": ("reward_manager", "reset"),
    "reset.termination_logs": ("termination_manager", "reset"),
    "commands": ("command_manager", "compute"),
    "observations": ("observation_manager", "compute"),
}
"""Profiled ranges: name -> (attribute of the env holding the method, or None for the env itself; method).

The ``reset.*`` ranges split Isaac Lab's reset path, which the H100 profile showed costing most of a forest step's
host time."""


class Ranged:
    """A callable run inside a profiler range; other attributes (a class term's ``reset``) pass through."""

    def __init__(self, name: str, func: Callable):
        self.name = name
        self.func = func

    def __call__(self, *args, **kwargs):
        with record_function(self.name):
            return self.func(*args, **kwargs)

    def __getattr__(self, attr: str):
        return getattr(self.func, attr)


WARP_RANGES = {
    "physics": ("sim", "step"),
    "scene.update": ("scene", "update"),
    "obstacles.follow": ("obstacles", "follow"),
    "resets": (None, "_reset_idx"),
    "reset.curriculum": ("curriculum_manager", "compute"),
    "reset.commands": ("command_manager", "reset"),
    "commands": ("command_manager", "compute"),
}
"""Eager ranges of a Warp-frontend step; its captured stages get one range each (``stage.<name>``)."""


def instrument(env) -> None:
    """Wrap the physics step, each manager, each manager and event term and the robot's writes in profiler ranges.

    The wrappers are instance attributes and term-config fields of this env only; the classes stay as they are.
    """
    if hasattr(env, "_manager_call_switch"):
        instrument_warp(env)
        return
    for name, (owner, method) in RANGES.items():
        target = env if owner is None else getattr(env, owner, None)
        if target is not None and hasattr(target, method):
            setattr(target, method, Ranged(name, getattr(target, method)))
    for manager in ("observation_manager", "reward_manager", "termination_manager", "event_manager"):
        for term_cfgs in _term_cfg_lists(getattr(env, manager, None)):
            for name, cfg in term_cfgs:
                if not isinstance(cfg.func, Ranged):
                    cfg.func = Ranged(f"{manager.split('_')[0]}.{name}", cfg.func)
    # the robot's writes into the simulation, where reset events spend their time
    robot = env.scene["robot"]
    for method in dir(type(robot)):
        if method.startswith("write_") and callable(getattr(robot, method)):
            setattr(robot, method, Ranged(f"robot.{method}", getattr(robot, method)))


def instrument_warp(env) -> None:
    """Ranges for a Warp-frontend env: each captured stage, and the eager work between them.

    The terms run inside the stages' CUDA graphs, so they get no ranges: their kernels (named after the twins) show in
    the kernel table instead.
    """
    for name, (owner, method) in WARP_RANGES.items():
        target = env if owner is None else getattr(env, owner, None)
        if target is not None and hasattr(target, method):
            setattr(target, method, Ranged(name, getattr(target, method)))
    switch = env._manager_call_switch
    call_stage = switch.call_stage

    def ranged_call_stage(*, stage: str, **kwargs):
        with record_function(f"stage.{stage}"):
            return call_stage(stage=stage, **kwargs)

    switch.call_stage = ranged_call_stage


def _term_cfg_lists(manager) -> list[list[tuple[str, object]]]:
    """(term name, term cfg) lists of a manager, one per observation group or event mode."""
    if manager is None:
        return []
    if hasattr(manager, "_group_obs_term_cfgs"):
        names = manager._group_obs_term_names
        return [list(zip(names[group], cfgs)) for group, cfgs in manager._group_obs_term_cfgs.items()]
    if hasattr(manager, "_mode_term_cfgs"):
        names = manager._mode_term_names
        return [list(zip(names[mode], cfgs)) for mode, cfgs in manager._mode_term_cfgs.items()]
    return [list(zip(manager._term_names, manager._term_cfgs))]


TERM_RANGES = ("observation", "reward", "termination", "event", "robot")
"""Prefixes of the per-term ranges (``reward.alive``, ``event.reset_base``, ``robot.write_joint_state_to_sim``...)."""


def _is_range(name: str) -> bool:
    return (name in RANGES or name in WARP_RANGES or name == "env_step"
            or name.split(".")[0] in (*TERM_RANGES, "stage"))


def _range_of(event) -> str:
    """The innermost profiled range an op ran in (``other`` outside all of them)."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name != "env_step" and _is_range(parent.name):
            return parent.name
        parent = parent.cpu_parent
    return "other"


def profile_steps(variant: str, num_envs: int, device: str, steps: int) -> dict:
    """Profile ``steps`` env steps after a warm-up; per-range time per step and op counts."""
    env, _ = build(variant, num_envs, device)
    instrument(env)
    for _ in range(20):
        env.step(_random_actions(env))
    _sync(device)
    wall_ms = _wall_ms_per_step(env, device, steps)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.startswith("cuda") else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            with record_function("env_step"):
                env.step(_random_actions(env))
        _sync(device)
    events = prof.key_averages()
    # on CUDA each range also appears as a GPU annotation (no CPU time): take the CPU-side one, whose device time
    # is the kernels launched inside it
    cpu_ranges = [e for e in events if _is_range(e.key) and e.device_type == DeviceType.CPU]
    ranges = {e.key: e.cpu_time_total / steps / 1000 for e in cpu_ranges}
    ops = [e for e in events if e.key.startswith("aten::")]
    ops_by_range: dict[str, float] = {}
    for event in prof.events():
        if event.name.startswith("aten::") and not (event.cpu_parent and event.cpu_parent.name.startswith("aten::")):
            key = _range_of(event)
            ops_by_range[key] = ops_by_range.get(key, 0) + 1 / steps
    top = sorted(ops, key=lambda e: e.self_cpu_time_total, reverse=True)[:15]
    result = {
        "variant": variant,
        "num_envs": num_envs,
        "device": device,
        "wall_ms_per_step": wall_ms,
        "ms_per_step": ranges,
        **({"device_ms_per_step": {e.key: e.device_time_total / steps / 1000 for e in cpu_ranges}}
           if device.startswith("cuda") else {}),
        "ops_per_step": sum(e.count for e in ops) / steps,
        "top_level_ops_per_step": dict(sorted(ops_by_range.items(), key=lambda item: -item[1])),
        "top_ops": [
            {"op": e.key, "calls_per_step": e.count / steps, "self_ms_per_step": e.self_cpu_time_total / steps / 1000}
            for e in top
        ],
        **(_device_summary(events, steps) if device.startswith("cuda") else {}),
    }
    env.close()
    return result


def _wall_ms_per_step(env, device: str, steps: int) -> dict:
    """Wall time per step without the profiler: min/median/max over three windows of ``steps`` steps."""
    import time

    times = []
    for _ in range(3):
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            env.step(_random_actions(env))
        _sync(device)
        times.append((time.perf_counter() - start) / steps * 1000)
    return spread(times)


LAUNCHES = ("cudaLaunchKernel", "cuLaunchKernel", "cuLaunchKernelEx", "cudaLaunchKernelExC", "cudaGraphLaunch",
            "cuGraphLaunch", "cudaMemcpyAsync", "cudaMemsetAsync")
"""Runtime and driver calls that put work on the GPU (torch's kernels, Warp's, CUDA graphs, copies)."""


def _device_summary(events, steps: int) -> dict:
    """Kernels by device time per step, the device's busy time and the launches per step (the profiled ranges also
    show as device-side annotations spanning their kernels: left out)."""
    kernels = [e for e in events if e.device_type == DeviceType.CUDA and not _is_range(e.key)]
    busy = sum(e.self_device_time_total for e in kernels) / steps / 1000
    top = sorted(kernels, key=lambda e: e.self_device_time_total, reverse=True)[:25]
    launches = {e.key: e.count / steps for e in events if e.key in LAUNCHES}
    return {
        "device_busy_ms_per_step": busy,
        "launches_per_step": launches,
        "top_kernels": [{"kernel": e.key[:120], "calls_per_step": e.count / steps,
                         "device_ms_per_step": e.self_device_time_total / steps / 1000} for e in top],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    print("RESULT " + json.dumps(profile_steps(args.variant, args.num_envs, args.device, args.steps)), flush=True)


if __name__ == "__main__":
    main()
