"""Scene generation benchmark: a forest on 62.5 m square tiles, from one tile up to a square kilometre.

Each (method, size) runs in its own process, so that peak memory is that of one generation. Methods:

* ``stripe-kit``: :meth:`SceneSpec.generate` (terrain plus vectorised Poisson-disk placement of four types);
* ``stripe-kit-terrain``: its terrain alone, so that placement time is the difference;
* ``naive-loop``: the same terrain, dart density and masks, then the textbook per-point rejection loop (a
  Python loop over candidates with a grid of accepted points), on the smaller sizes only;
* ``isaaclab-terrain``: Isaac Lab's own ``TerrainGenerator`` making random-uniform height-field tiles of the
  same area (ground only, no objects), for scale.

Usage::

    python -m benchmarks.scene_generation [--out benchmarks/results/scene-<machine>-<date>.json] [--quick]

Writes a JSON report (machine, command, min/median/max seconds, objects, objects/s, peak memory, area
scaling) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import time
import tracemalloc
import zlib

import numpy as np

from stripe_kit.files import atomic_path
from stripe_kit.scene import BushSpec, LogSpec, NoiseTerrainSpec, PlacementContext, RockSpec, SceneSpec, TreeSpec
from stripe_kit.scene.assets import Instances

from . import spread

TILE_SIZE = 62.5
"""Tile edge [m]; sizes are square grids of such tiles."""
SIZES = {"62.5 m × 62.5 m": 1, "0.0625 km²": 4, "0.25 km²": 8, "1 km²": 16}
"""Benchmark sizes: label to tiles per side (62.5 m, 250 m, 500 m and 1 km squares)."""
REPEATS = {"stripe-kit": (5, 5, 3, 3), "stripe-kit-terrain": (5, 5, 3, 3), "naive-loop": (3, 1),
           "isaaclab-terrain": (3, 2, 1)}
"""Timed repeats per size of each method; a method runs on as many sizes as it has entries."""
SEED = 7
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_SECONDS_PER_KM2 = 10.0
TARGET_SCALING = 4.5


def forest_spec(tiles: int) -> SceneSpec:
    """The benchmark scene: hills and the default forest palette (trees, rocks, logs, bushes)."""
    terrain = NoiseTerrainSpec(tile_size=(TILE_SIZE, TILE_SIZE), num_rows=tiles, num_cols=tiles, horizontal_scale=0.5)
    return SceneSpec(name="benchmark_forest", terrain=terrain, assets=[TreeSpec(), RockSpec(), LogSpec(), BushSpec()])


def generate_stripe(tiles: int) -> int:
    """Generate the benchmark scene; returns the number of placed objects."""
    return forest_spec(tiles).generate(SEED).num_objects


def generate_terrain(tiles: int) -> int:
    """Generate the benchmark scene's terrain only; returns 0 objects."""
    forest_spec(tiles).terrain.generate(SEED)
    return 0


def generate_naive(tiles: int) -> int:
    """The benchmark scene with placement by a per-point rejection loop; returns the number of placed objects."""
    spec = forest_spec(tiles)
    scene = spec.scene_class(spec, SEED, spec.terrain.generate(SEED))
    for asset in spec.assets:
        asset_seed = int(np.random.SeedSequence([SEED, zlib.crc32(asset.name.encode())]).generate_state(1)[0])
        ctx = PlacementContext(scene=scene, rng=np.random.default_rng(asset_seed), seed=asset_seed)
        xmin, xmax, ymin, ymax = scene.terrain.extent
        peak = max(asset.density_range) * (1.0 + 1.5 * asset.patchiness)  # the dart density of AssetSpec.place
        count = int((xmax - xmin) * (ymax - ymin) * peak)
        darts = np.column_stack([ctx.rng.uniform(xmin, xmax, count), ctx.rng.uniform(ymin, ymax, count)])
        darts = darts[ctx.rng.uniform(0.0, peak, count) < asset.density(ctx, darts)]
        darts = darts[asset.ground_mask(ctx, darts)]
        obstacles, reach = scene.keep_out(asset.clearance, include_spawn=False)
        if asset.avoid_spawn:
            spawn = scene.spawn_points.reshape(-1, 3)[:, :2]
            clearing = spec.terrain.spawn_clearing_radius + asset.max_footprint()
            obstacles = np.concatenate([obstacles, spawn])
            reach = np.concatenate([reach, np.full(len(spawn), clearing)])
        kept = _rejection_loop(darts, obstacles, reach, asset.min_spacing)
        xy = darts[kept].reshape(-1, 2)
        n = len(xy)
        instances = Instances(np.column_stack([xy, scene.terrain.height_at(xy)]), ctx.rng.uniform(-np.pi, np.pi, n),
                              ctx.rng.uniform(*asset.scale_range, n), ctx.rng.integers(0, asset.num_variants, n),
                              np.column_stack(scene.terrain.tile_of(xy)))
        scene.add(asset.name, instances, asset.colliders(instances))
    return scene.num_objects


def _rejection_loop(darts: np.ndarray, obstacles: np.ndarray, reach: np.ndarray, spacing: float) -> list[int]:
    """Accept darts one by one: clear of every obstacle and ``spacing`` from every dart accepted before."""
    cell = max(spacing, 1e-3)
    obstacle_cell = max(float(reach.max()) if len(reach) else 1.0, 1e-3)
    obstacle_grid: dict[tuple[int, int], list[int]] = {}
    for index, (x, y) in enumerate(obstacles):
        obstacle_grid.setdefault((int(x // obstacle_cell), int(y // obstacle_cell)), []).append(index)
    accepted: dict[tuple[int, int], list[tuple[float, float]]] = {}
    kept = []
    for index, (x, y) in enumerate(darts.tolist()):
        ox, oy = int(x // obstacle_cell), int(y // obstacle_cell)
        blocked = any(
            (x - obstacles[j, 0]) ** 2 + (y - obstacles[j, 1]) ** 2 < reach[j] ** 2
            for i in (ox - 1, ox, ox + 1) for k in (oy - 1, oy, oy + 1) for j in obstacle_grid.get((i, k), ())
        )
        cx, cy = int(x // cell), int(y // cell)
        crowded = any(
            (x - px) ** 2 + (y - py) ** 2 < spacing**2
            for i in (cx - 1, cx, cx + 1) for k in (cy - 1, cy, cy + 1) for px, py in accepted.get((i, k), ())
        )
        if not blocked and not crowded:
            accepted.setdefault((cx, cy), []).append((x, y))
            kept.append(index)
    return kept


def generate_isaaclab_terrain(tiles: int) -> int:
    """Isaac Lab's TerrainGenerator on the same tile grid (ground only); returns 0 objects."""
    from isaaclab.terrains import HfRandomUniformTerrainCfg, TerrainGenerator, TerrainGeneratorCfg

    rough = HfRandomUniformTerrainCfg(proportion=1.0, noise_range=(0.0, 0.1), noise_step=0.01)
    TerrainGenerator(TerrainGeneratorCfg(seed=SEED, curriculum=True, size=(TILE_SIZE, TILE_SIZE), num_rows=tiles,
                                         num_cols=tiles, horizontal_scale=0.5, vertical_scale=0.005, border_width=0.0,
                                         sub_terrains={"rough": rough}))
    return 0


METHODS = {"stripe-kit": generate_stripe, "stripe-kit-terrain": generate_terrain, "naive-loop": generate_naive,
           "isaaclab-terrain": generate_isaaclab_terrain}


def run_worker(method: str, label: str, repeats: int) -> dict:
    """Time one method on one size in this process: ``repeats`` timed runs, then one traced for memory.

    One untimed run on a single tile first loads the modules, so that imports are not timed.
    """
    tiles = SIZES[label]
    generate = METHODS[method]
    generate(1)
    seconds, objects = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        objects = generate(tiles)
        seconds.append(time.perf_counter() - start)
    tracemalloc.start()
    generate(tiles)
    peak_traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    seconds_spread = spread(seconds)
    side = tiles * TILE_SIZE
    return {
        "method": method,
        "size": label,
        "side_m": side,
        "area_km2": side * side / 1e6,
        "tiles": tiles * tiles,
        "repeats": repeats,
        "seconds": {**seconds_spread, "all": seconds},
        "objects": objects,
        "objects_per_s": objects / seconds_spread["median"] if objects else None,
        "peak_traced_mb": peak_traced / 2**20,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def machine_info() -> dict:
    """What the numbers were measured on."""
    import isaaclab
    import scipy
    import trimesh

    cpu = platform.processor() or "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as file:
            cpu = next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), cpu)
    return {
        "hostname": socket.gethostname(),
        "cpu_model": cpu,
        "cpu_count": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "trimesh": trimesh.__version__,
        "isaaclab": getattr(isaaclab, "__version__", "unknown"),
    }


def markdown_table(results: list[dict]) -> str:
    """The results as a Markdown table."""
    header = "| method | size | tiles | objects | min s | median s | max s | placement s | objects/s | peak traced MB |"
    lines = [header + " max RSS MB |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rate = f"{r['objects_per_s']:,.0f}" if r["objects_per_s"] else "–"
        placement = f"{r['placement_median_s']:.3f}" if "placement_median_s" in r else "–"
        s = r["seconds"]
        lines.append(f"| {r['method']} | {r['size']} | {r['tiles']} | {r['objects']:,} | {s['min']:.3f} "
                     f"| {s['median']:.3f} | {s['max']:.3f} | {placement} | {rate} | {r['peak_traced_mb']:.0f} "
                     f"| {r['max_rss_mb']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run every (method, size) in a subprocess, then write the JSON report and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="JSON report path (default benchmarks/results/scene-<machine>-<date>.json)")
    parser.add_argument("--machine", default=socket.gethostname(), help="machine name for the default report path")
    parser.add_argument("--quick", action="store_true", help="one repeat per size, no baselines beyond the smallest")
    parser.add_argument("--worker", nargs=3, metavar=("METHOD", "SIZE", "REPEATS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        method, label, repeats = args.worker
        print("RESULT " + json.dumps(run_worker(method, label, int(repeats))), flush=True)
        return

    date = datetime.datetime.now(datetime.UTC)
    out = args.out or os.path.join("benchmarks", "results", f"scene-{args.machine}-{date:%Y%m%d}.json")
    results = []
    for method, repeats in REPEATS.items():
        if args.quick:
            repeats = (1,) * (len(SIZES) if method.startswith("stripe-kit") else 1)
        for label, count in zip(SIZES, repeats):
            print(f"{method}: {label} × {count}", file=sys.stderr, flush=True)
            command = [sys.executable, "-m", "benchmarks.scene_generation", "--worker", method, label, str(count)]
            proc = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO_ROOT)
            lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                raise SystemExit(f"{method} on {label} failed:\n{proc.stderr[-3000:]}")
            results.append(json.loads(lines[-1][len("RESULT "):]))

    # placement time: the median of a whole scene less that of its terrain alone (same terrain for both methods)
    terrain = {r["size"]: r["seconds"]["median"] for r in results if r["method"] == "stripe-kit-terrain"}
    for r in results:
        if r["method"] in ("stripe-kit", "naive-loop") and r["size"] in terrain:
            r["placement_median_s"] = r["seconds"]["median"] - terrain[r["size"]]
    stripe = {r["size"]: r["seconds"]["median"] for r in results if r["method"] == "stripe-kit"}
    largest, quarter = stripe.get("1 km²"), stripe.get("0.25 km²")
    ratio = largest / quarter if largest and quarter else None
    report = {
        "benchmark": "scene_generation",
        "command": " ".join(["python", "-m", "benchmarks.scene_generation", *(sys.argv[1:] if argv is None else argv)]),
        "date": date.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "scene": {"tile_size_m": TILE_SIZE, "horizontal_scale_m": 0.5, "terrain": "NoiseTerrainSpec hills",
                  "palette": ["TreeSpec", "RockSpec", "LogSpec", "BushSpec"], "seed": SEED},
        "results": results,
        "scaling": {"area_ratio": 4.0, "time_ratio_1km2_vs_0.25km2": ratio},
        "targets": {
            "1km2_under_10s": largest is not None and largest < TARGET_SECONDS_PER_KM2,
            "1km2_at_least_100k_objects": any(r["objects"] >= 100_000 for r in results if r["size"] == "1 km²"),
            "4x_area_under_4.5x_time": ratio is not None and ratio < TARGET_SCALING,
        },
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with atomic_path(out) as temporary:
        temporary.write_text(json.dumps(report, indent=2))
    print(markdown_table(results))
    print(f"\n1 km² / 0.25 km² time: {report['scaling']['time_ratio_1km2_vs_0.25km2']:.2f}× for 4× the area; "
          f"targets: {report['targets']}; report: {out}")


if __name__ == "__main__":
    main()
