"""Scale of the obstacles that follow the robots: index build, device memory and per-step cost on a 1 km² forest.

``python -m benchmarks.obstacle_index --device cuda:0 --num-envs 16384`` generates the 1 km² benchmark forest of
``benchmarks.scene_generation`` (denser, for at least 200k obstacles), builds the obstacle index at the Ant's
default reach and the range ring's 4 m, and times the two per-step kernels at ``--num-envs`` robots spread over the
map: the slot refresh (``follow_obstacles_kernel``, writing slot arrays shaped as Newton's and MuJoCo-Warp's) and a
24-ray ring cast (``cast_scene_rays_kernel``). Writes ``benchmarks/results/obstacle-index-<machine>.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import time
from pathlib import Path

import numpy as np
import warp as wp

from stripe_kit.files import atomic_path
from stripe_kit.scene import BushSpec, LogSpec, NoiseTerrainSpec, RockSpec, SceneSpec, TreeSpec
from stripe_kit.task.kernels import cast_scene_rays_kernel, follow_obstacles_kernel
from stripe_kit.task.obstacles import (
    obstacle_group_arrays,
    scene_obstacle_index,
    slot_groups,
    slot_obstacle_arrays,
    slot_obstacles,
)

from . import spread

RESULTS = Path(__file__).resolve().parent / "results"
ANT_REACH = 1.29 + 5.0 / 60.0
"""The Ant's default obstacle reach [m]: its radius plus 5 m/s over one policy step."""
RING_RANGE = 4.0


def scene_1km2():
    """The 1 km² benchmark forest with denser trees and rocks."""
    terrain = NoiseTerrainSpec(tile_size=(62.5, 62.5), num_rows=16, num_cols=16, horizontal_scale=0.5)
    spec = SceneSpec(name="benchmark_forest_dense", terrain=terrain,
                     assets=[TreeSpec(density_range=(0.1, 0.3)), RockSpec(density_range=(0.05, 0.15)), LogSpec(),
                             BushSpec()])
    return spec.generate(7)


def timed(launch, repeats: int, device: str) -> dict:
    """Milliseconds per launch over ``repeats`` windows of 20 launches."""
    launch()
    wp.synchronize_device(device)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(20):
            launch()
        wp.synchronize_device(device)
        rates.append((time.perf_counter() - start) / 20 * 1e3)
    return spread(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0" if wp.is_cuda_available() else "cpu")
    parser.add_argument("--num-envs", type=int, default=16384)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--machine", default=socket.gethostname())
    args = parser.parse_args()
    device, n = args.device, args.num_envs

    start = time.perf_counter()
    scene = scene_1km2()
    generate_s = time.perf_counter() - start
    members = slot_obstacles(scene)
    start = time.perf_counter()
    index = scene_obstacle_index(scene, ANT_REACH, device)
    wp.synchronize_device(device)
    index_s = time.perf_counter() - start
    groups = slot_groups(scene, index)
    slots = {group.kind: group.count for group in groups}
    start = time.perf_counter()
    ring_index = scene_obstacle_index(scene, RING_RANGE, device)
    wp.synchronize_device(device)
    ring_index_s = time.perf_counter() - start

    poses, sizes = slot_obstacle_arrays(scene)
    labels, starts = obstacle_group_arrays(scene, groups)
    obstacle_pose = wp.array(poses, dtype=wp.transformf, device=device)
    obstacle_size = wp.array(sizes, dtype=wp.vec3f, device=device)
    obstacle_group = wp.array(labels, dtype=wp.int32, device=device)
    group_start = wp.array(starts, dtype=wp.int32, device=device)
    width = int(starts[-1])
    rng = np.random.default_rng(0)
    xmin, xmax, ymin, ymax = scene.terrain.extent
    roots = np.zeros((n, 7), np.float32)
    roots[:, 0], roots[:, 1] = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    roots[:, 2], roots[:, 6] = scene.terrain.height_at(roots[:, :2].astype(float)) + 0.5, 1.0
    root_pose = wp.array(roots, dtype=wp.transformf, device=device)
    # slot arrays shaped as in an env: one Newton shape per slot, one MuJoCo geom per slot and world
    slot_shape = wp.array(np.arange(n * width, dtype=np.int32).reshape(n, width), dtype=wp.int32, device=device)
    slot_geom = wp.array(np.tile(np.arange(width, dtype=np.int32), (n, 1)), dtype=wp.int32, device=device)
    shape_transform = wp.zeros(n * width, dtype=wp.transformf, device=device)
    shape_scale = wp.zeros(n * width, dtype=wp.vec3f, device=device)
    geom_pos = wp.zeros((n, width), dtype=wp.vec3f, device=device)
    geom_quat = wp.zeros((n, width), dtype=wp.quatf, device=device)
    geom_size = wp.zeros((n, width), dtype=wp.vec3f, device=device)
    positions = wp.zeros((n, width), dtype=wp.vec3f, device=device)
    radii = wp.zeros((n, width), dtype=wp.float32, device=device)
    held = wp.zeros((n, width), dtype=wp.int32, device=device)
    slot_pose = wp.zeros((n, width), dtype=wp.transformf, device=device)

    def follow():
        wp.launch(follow_obstacles_kernel, dim=n, device=device, inputs=[
            root_pose, wp.vec2f(*index.origin), index.cell, index.nx, index.ny, index.cell_start, index.cell_items,
            obstacle_group, obstacle_pose, obstacle_size, group_start, slot_shape, slot_geom,
            shape_transform, shape_scale, geom_pos, geom_quat, geom_size, positions, radii, held, slot_pose])

    angles = np.linspace(-np.pi, np.pi, 25)[:24]
    directions = np.stack([np.cos(angles), np.sin(angles), np.zeros(24)], 1).astype(np.float32)
    starts = wp.zeros(24, dtype=wp.vec3f, device=device)
    ray_dirs = wp.array(directions, dtype=wp.vec3f, device=device)
    heights = wp.array(scene.terrain.heights.astype(np.float32), dtype=wp.float32, device=device)
    body_pose = wp.array(roots.reshape(n, 7), dtype=wp.transformf, device=device)
    out = [wp.zeros(n, dtype=wp.vec3f, device=device), wp.zeros(n, dtype=wp.quatf, device=device),
           wp.zeros((n, 24), dtype=wp.vec3f, device=device), wp.zeros((n, 24), dtype=wp.float32, device=device)]
    terrain = scene.terrain

    def ring():
        wp.launch(cast_scene_rays_kernel, dim=(n, 24), device=device, inputs=[
            body_pose, wp.vec3f(0.0, 0.0, -0.2), wp.quatf(0.0, 0.0, 0.0, 1.0), 1, starts, ray_dirs, RING_RANGE,
            heights, float(terrain.x0), float(terrain.y0), float(terrain.resolution), wp.vec2f(*ring_index.origin),
            ring_index.cell, ring_index.nx, ring_index.ny, ring_index.cell_start, ring_index.cell_items,
            obstacle_pose, obstacle_size], outputs=out)

    follow_ms, ring_ms = timed(follow, args.repeats, device), timed(ring, args.repeats, device)
    hit = out[3].numpy() < RING_RANGE - 1e-4
    record = {
        "benchmark": "obstacle_index",
        "machine": args.machine,
        "platform": platform.platform(),
        "device": device,
        "num_envs": n,
        "area_km2": (xmax - xmin) * (ymax - ymin) / 1e6,
        "obstacles": int(len(members)),
        "generate_s": generate_s,
        "physics_index": {"reach_m": index.reach, "cell_m": index.cell, "cells": index.nx * index.ny,
                          "entries": int(len(index.items_host)), "build_s": index_s, "device_mb": index.nbytes / 2**20,
                          "slots": slots},
        "ring_index": {"reach_m": ring_index.reach, "cells": ring_index.nx * ring_index.ny,
                       "entries": int(len(ring_index.items_host)), "build_s": ring_index_s,
                       "device_mb": ring_index.nbytes / 2**20},
        "obstacle_arrays_mb": (poses.nbytes + sizes.nbytes + kinds.nbytes) / 2**20,
        "refresh_ms_per_step": follow_ms,
        "ring_24_rays_ms_per_step": ring_ms,
        "ring_rays_hitting_something": float(hit.mean()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"obstacle-index-{args.machine}.json"
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
