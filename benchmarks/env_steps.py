"""Env-steps/s, env creation phases and GPU memory of one task variant, measured in this process.

Run as ``python -m benchmarks.env_steps --variant forest --num-envs 4096 --device cuda:0``; prints one JSON line
prefixed ``RESULT``. One variant per process, because Isaac Lab allows one simulation per process. Variants:

- ``forest``: ``Stripe-Forest-Walk-Ant`` as registered (trees, rocks and logs as per-env collider slots), on Newton;
- ``forest_physx``: the same task built with ``physics="physx"`` (kitless: ovphysx), to set beside ``forest``;
- ``forest_warp``: the same task on Isaac Lab's Warp frontend (:mod:`stripe_kit.warp`: every term's Warp twin, the
  obstacle refresh and the ray ring included, the step captured in CUDA graphs on a GPU; eagerly on a CPU);
  ``no_obstacles_warp``: the obstacle-free twin there (what the obstacles cost once the host no longer bounds a step);
- ``no_obstacles``: the same task, robot and terrain with an empty palette (the slots stay parked);
- ``ant_direct``: Isaac Lab's own ``Isaac-Ant-Direct`` (offline Ant) on the same generated terrain;
- ``ant_manager``: Isaac Lab's own manager-based ``Isaac-Ant`` (offline Ant) on the same terrain: what the
  manager framework costs by itself, against which the forest's own terms are measured;
- ``ant_direct_warp``, ``ant_manager_warp``: the same two on Isaac Lab's Warp frontend
  (``isaaclab_experimental.envs.frontend.WarpFrontend``: Warp twins of the manager terms, the step captured in CUDA
  graphs on a GPU), the baselines of issue #18. On a CPU the manager-based one fails at its first reset when captured
  (an Isaac Lab 3.0 defect, ``docs/isaaclab-warp-frontend-cpu.md``; ``MANAGER_CALL_CONFIG='{"default": 1}'`` runs it
  eagerly);
- ``dense_forest``: the forest task on 16 x 16 tiles of 16 m with at least 50 obstacles per tile (creation time).

Env-steps/s is timed around ``env.step`` with random actions and a device synchronise, as the targets are stated.
"""

from __future__ import annotations

import argparse
import ast
import json
import time

import torch

from . import spread

VARIANTS = ("forest", "forest_physx", "forest_warp", "no_obstacles", "no_obstacles_warp", "ant_direct", "ant_manager", "ant_direct_warp",
            "ant_manager_warp", "dense_forest")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _device_memory_used(device: str) -> int:
    """Bytes in use on the whole GPU: Warp and Newton allocate outside torch's allocator, so ask the driver."""
    free, total = torch.cuda.mem_get_info(torch.device(device))
    return total - free


def _dense_forest_scene():
    from stripe_forest.scenes import ForestSceneSpec

    from stripe_kit.scene import LogSpec, NoiseTerrainSpec, RockSpec, TreeSpec

    return ForestSceneSpec(
        terrain=NoiseTerrainSpec(style="hills", tile_size=(16.0, 16.0), num_rows=16, num_cols=16,
                                 amplitude_range=(0.05, 0.4)),
        assets=[
            TreeSpec(density_range=(0.36, 0.42), min_spacing=1.2, patchiness=0.0),
            RockSpec(density_range=(0.085, 0.1), patchiness=0.0),
            LogSpec(),
        ],
    )


def build(variant: str, num_envs: int, device: str, seed: int = 1, physx_size_buckets: int | None = None,
          sim: dict | None = None):
    """Build the variant's env (``physx_size_buckets`` for ``forest_physx``; ``sim``: the walk task's
    ``SimSettings`` changed, e.g. ``{"njmax": 45}`` to see what the solver's size costs); returns the env and its
    creation phases [s]."""
    import gymnasium as gym
    from isaaclab.utils.timer import Timer

    from stripe_kit.task import REGISTERED
    from stripe_kit.task.env import lift_heightfields_to_their_data
    from stripe_kit.train.tasks import load_tasks

    load_tasks()
    walk = REGISTERED["Stripe-Forest-Walk-Ant"]
    phases: dict[str, float] = {}
    if variant in ISAAC_ANTS:
        task = ISAAC_ANTS[variant]
        env_cfg = _isaac_ant_cfg(variant, walk, num_envs, device, seed, phases)
    else:
        if variant in ("no_obstacles", "no_obstacles_warp"):
            walk = walk.replace(scene=walk.scene.replace(assets=[]))
        elif variant == "dense_forest":
            walk = walk.replace(scene=_dense_forest_scene())
        elif variant == "forest_physx" and physx_size_buckets is not None:
            walk = walk.replace(sim=walk.sim.replace(physics="physx", physx_size_buckets=physx_size_buckets))
        if sim:
            walk = walk.replace(sim=walk.sim.replace(**sim))
        task = f"Bench-{variant}"
        walk.register(task)
        env_cfg = walk.env_cfg(num_envs=num_envs, device=device, physics=PHYSICS.get(variant, "newton"))
        env_cfg.seed = seed
        generate = type(walk.scene).generate

        def timed_generate(spec, seed=None):
            start = time.perf_counter()
            scene = generate(spec, seed)
            phases["scene_generation"] = time.perf_counter() - start
            phases["objects"] = scene.num_objects
            phases["colliders"] = len(scene.colliders)
            phases["tiles"] = int(scene.spawn_points.shape[0] * scene.spawn_points.shape[1])
            per_tile = _obstacles_per_tile(scene)
            phases["obstacles_per_tile"] = {"min": int(per_tile.min()), "mean": float(per_tile.mean())}
            return scene

        type(walk.scene).generate = timed_generate
    start = time.perf_counter()
    if variant in STRIPE_WARP:
        from stripe_kit.train.frontend import make_env

        env = make_env(task, env_cfg, "warp").unwrapped
    elif variant in WARP_FRONTEND:
        from isaaclab_experimental.envs.frontend import WarpFrontend

        env = WarpFrontend.build_env(env_cfg, task).unwrapped
    else:
        env = gym.make(task, cfg=env_cfg).unwrapped
    if variant in ISAAC_ANTS:
        lift_heightfields_to_their_data(env_cfg.sim.physics)  # the baselines stand on the forest task's ground
    phases["total_creation"] = time.perf_counter() - start
    phases["stage_authoring"] = Timer.get_timer_info("scene_creation")
    phases["physics_model_build"] = Timer.get_timer_info("simulation_start")
    env.reset()
    start = time.perf_counter()
    env.step(_random_actions(env))
    _sync(device)
    phases["first_step"] = time.perf_counter() - start
    return env, phases


PHYSICS = {"forest_physx": "physx"}
"""Variants on a backend other than Newton."""

ISAAC_ANTS = {"ant_direct": "Isaac-Ant-Direct", "ant_manager": "Isaac-Ant", "ant_direct_warp": "Isaac-Ant-Direct",
              "ant_manager_warp": "Isaac-Ant"}
"""Baseline variants: Isaac Lab's own Ant tasks."""
WARP_FRONTEND = ("ant_direct_warp", "ant_manager_warp")
"""Variants built by Isaac Lab's Warp frontend instead of ``gym.make``."""
STRIPE_WARP = ("forest_warp", "no_obstacles_warp")
"""STRIPE-kit variants built on the Warp frontend (:func:`stripe_kit.train.frontend.make_env`)."""


def _isaac_ant_cfg(variant: str, walk, num_envs: int, device: str, seed: int, phases: dict):
    """One of Isaac Lab's Ant configs with the offline Ant, on the forest task's generated terrain."""
    import isaaclab_tasks  # noqa: F401  (registers Isaac Lab's Ant tasks)
    from isaaclab.utils import replace
    from isaaclab_tasks.core.locomotion.ant import ant_direct_env_cfg, ant_manager_env_cfg

    from stripe_kit.scene.terrain import SceneTerrainGeneratorCfg, stage_terrain
    from stripe_kit.task.robots import ANT_OFFLINE_CFG

    spec = walk.scene.terrain
    start = time.perf_counter()
    terrain = spec.generate(seed)
    phases["scene_generation"] = time.perf_counter() - start
    stage_terrain("isaac-ant", terrain)
    cfg = (ant_direct_env_cfg if variant.startswith("ant_direct") else ant_manager_env_cfg).AntEnvCfg()
    cfg.seed = seed
    cfg.sim.device = device
    cfg.sim.physics = cfg.sim.physics.newton_mjwarp
    cfg.scene.num_envs = num_envs
    cfg.scene.robot = replace(ANT_OFFLINE_CFG, prim_path="{ENV_REGEX_NS}/Robot")
    cfg.scene.terrain = replace(
        walk.env_cfg(num_envs=num_envs, device=device).scene.terrain,
        terrain_generator=SceneTerrainGeneratorCfg(terrain_key="isaac-ant", seed=seed, **spec.generator_fields()),
    )
    return cfg


def _obstacles_per_tile(scene):
    """Colliders on each tile of a generated scene, shape (rows, cols)."""
    import numpy as np

    counts = np.zeros((scene.terrain.num_rows, scene.terrain.num_cols), dtype=int)
    np.add.at(counts, scene.terrain.tile_of(scene.colliders.positions[:, :2]), 1)
    return counts


def _random_actions(env) -> torch.Tensor:
    """Uniform actions in [-1, 1] for a manager-based or a direct env."""
    width = env.action_manager.total_action_dim if hasattr(env, "action_manager") else env.cfg.action_space
    return torch.rand((env.num_envs, width), device=env.device) * 2 - 1


def measure(variant: str, num_envs: int, device: str, steps: int, repeats: int,
            physx_size_buckets: int | None = None, sim: dict | None = None) -> dict:
    """Build the variant and time ``repeats`` windows of ``steps`` env steps each."""
    gpu = device.startswith("cuda")
    if gpu:
        memory_before = _device_memory_used(device)
    env, phases = build(variant, num_envs, device, physx_size_buckets=physx_size_buckets, sim=sim)
    phases["slots_per_env"] = sum(env.obstacles.slots.values()) if hasattr(env, "obstacles") else 0
    for _ in range(10):
        env.step(_random_actions(env))
    rates = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        for _ in range(steps):
            env.step(_random_actions(env))
        _sync(device)
        rates.append(steps * num_envs / (time.perf_counter() - start))
    result = {
        "variant": variant,
        "num_envs": num_envs,
        "device": device,
        **({"sim": sim} if sim else {}),
        "env_steps_per_s": spread(rates),
        "rates": rates,
        "creation_s": phases,
    }
    if gpu:
        # the env's GPU footprint after stepping (physics model, buffers, torch tensors), CUDA context excluded
        result["gpu_memory_gib"] = (_device_memory_used(device) - memory_before) / 2**30
    env.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--num-envs", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--physx-size-buckets", type=int, default=None, help="forest_physx: size buckets per kind")
    parser.add_argument("--sim", nargs="*", default=[], metavar="KEY=VALUE",
                        help="the forest variants' SimSettings changed (njmax=45 nconmax=25: Isaac-Ant's solver size)")
    args = parser.parse_args()
    sim = {}
    for item in args.sim:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--sim: {item!r} is not accepted; give KEY=VALUE, e.g. njmax=45")
        sim[key] = ast.literal_eval(value)
    if sim and args.variant in ISAAC_ANTS:
        parser.error(f"--sim: not accepted with {args.variant}; it changes the STRIPE-kit variants' SimSettings")
    result = measure(args.variant, args.num_envs, args.device, args.steps, args.repeats, args.physx_size_buckets, sim)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
