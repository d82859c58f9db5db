"""Run every benchmark this machine can, with baselines in the same run: ``python -m benchmarks.run``.

On a CUDA machine: env-steps/s, GPU memory and creation phases of the forest walk task on Newton and, side by side,
on PhysX (``forest_physx``) and on Isaac Lab's Warp frontend (``forest_warp``), the same task without obstacles and Isaac Lab's own ``Isaac-Ant-Direct`` and
manager-based ``Isaac-Ant`` on the same terrain, both also on Isaac Lab's Warp frontend (``ant_direct_warp``,
``ant_manager_warp``: CUDA only), at 256, 1024, 4096 and 16384 envs; torch ops per step of each (the
profile); env creation on a dense forest (256 tiles of 16 m, at least 50 obstacles on every tile, 72 on average) at
4096 envs; rl_games training frames/s for the forest (on both frontends) and the obstacle-free task at 4096 envs. On CPU a reduced set
(16 and 64 envs, the dense forest at 64 envs, training at 64 envs, and the scene-generation benchmark). Warp's kernel
compile is measured first and apart. Each measurement runs in its own process (one simulation per process).

Writes ``benchmarks/results/<machine>-<date>.json`` and ``.md`` (a short table), atomically.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from stripe_kit.files import atomic_path

from . import spread

RESULTS = Path(__file__).resolve().parent / "results"
PACKAGES = ("isaaclab", "newton", "warp-lang", "mujoco-warp", "torch", "rl-games", "numpy")
VARIANTS = ("forest", "forest_physx", "forest_warp", "no_obstacles", "no_obstacles_warp", "ant_direct", "ant_manager",
            "ant_direct_warp", "ant_manager_warp")
FORESTS = ("forest", "forest_physx", "forest_warp")
"""The forest task's variants; the others are its baselines."""
CUDA_ONLY = ("ant_direct_warp", "ant_manager_warp")
"""Variants left out of a CPU run's default: the Warp frontend's manager-based Ant fails on a CPU when captured (an
Isaac Lab defect, ``docs/isaaclab-warp-frontend-cpu.md``), and without CUDA graphs neither shows what capture gains."""
WARP_CACHE = Path(tempfile.gettempdir()) / "stripe-kit-benchmarks-warp-cache"
"""Warp kernel cache shared by every child, so that only ``warp_compile`` pays the compile."""


def machine() -> dict:
    """CPU model, cores, GPU and driver of this machine."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    info = {"host": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}
    if torch.cuda.is_available():
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True).stdout.strip()
        info.update(gpu=torch.cuda.get_device_name(0), driver=driver)
    return info


def run_child(args: list[str], timeout: float) -> dict | None:
    """Run a benchmark module in its own process; its last ``RESULT`` line, or None with the error recorded."""
    proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode or not lines:
        return {"error": (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"], "args": args}
    return json.loads(lines[-1][len("RESULT "):])


def warp_compile(device: str) -> dict:
    """Warp's kernel compile, reported apart: a 16-env forest built with the kernel cache emptied, then again."""
    shutil.rmtree(WARP_CACHE, ignore_errors=True)
    args = ["benchmarks.env_steps", "--variant", "forest", "--num-envs", "16", "--device", device, "--steps", "1",
            "--repeats", "1"]
    print("warp compile: forest at 16 envs, cold and warm kernel cache", flush=True)
    cold, warm = run_child(args, timeout=900), run_child(args, timeout=900)
    if "creation_s" not in cold or "creation_s" not in warm:
        return {"error": [cold, warm]}
    cold_s, warm_s = cold["creation_s"]["total_creation"], warm["creation_s"]["total_creation"]
    return {"cold_cache_creation_s": cold_s, "warm_cache_creation_s": warm_s, "compile_s": cold_s - warm_s}


def env_steps(device: str, sizes: list[int], steps: int, rounds: int = 1,
              after_round: Callable[[list[dict]], None] | None = None,
              variants: Sequence[str] = VARIANTS) -> list[dict]:
    """Env-steps/s of each variant at each size, the variants of one size measured back to back.

    With several rounds every variant is measured once per round, in turn, and its rates are pooled: on a shared
    machine whose speed drifts over minutes, each variant then sees the same drift. ``after_round`` receives the
    results pooled so far after each round (the report is saved then, so a run stopped by a time limit keeps its
    finished rounds).
    """
    results: list[dict] = []
    for round_ in range(rounds):
        for num_envs in sizes:
            for variant in variants:
                print(f"env steps: {variant} at {num_envs} envs (round {round_ + 1} of {rounds})", flush=True)
                results.append(run_child(["benchmarks.env_steps", "--variant", variant, "--num-envs", str(num_envs),
                                          "--device", device, "--steps", str(steps), "--repeats", "5"], timeout=900))
        if after_round is not None:
            after_round(pool_rounds(results))
    return pool_rounds(results)


def pool_rounds(results: list[dict]) -> list[dict]:
    """One result per variant and size, the rates of all its rounds pooled (min/median/max over them all): a run's
    rounds, and with ``--append`` those of today's earlier runs, so that rounds measured in separate calls (a GPU lent
    ten minutes a call) pool as one run's do. A result without rates (a failed child) stays the first of its kind."""
    pooled: dict[tuple[int, str], dict] = {}
    for result in results:
        if not result:
            continue
        key = (result.get("num_envs"), result.get("variant"))
        first = pooled.get(key)
        if first is None:
            pooled[key] = dict(result)
        elif "rates" in result and "rates" in first:
            first["rates"] = first["rates"] + result["rates"]
            first["env_steps_per_s"] = spread(first["rates"])
    return list(pooled.values())


def profiles(device: str, num_envs: int) -> list[dict]:
    """Torch ops and time per step of the forest and Isaac Lab's two Ants (``benchmarks.profile_step``)."""
    results = []
    for variant in ("forest", "no_obstacles", "ant_manager", "ant_direct"):
        print(f"profile: {variant} at {num_envs} envs", flush=True)
        results.append(run_child(["benchmarks.profile_step", "--variant", variant, "--num-envs", str(num_envs),
                               "--device", device], timeout=900))
    return results


def training(device: str, num_envs: int, epochs: int) -> list[dict]:
    """rl_games frames/s over whole epochs (collection plus update) for the forest task on both frontends and its
    obstacle-free twin (torch managers)."""
    code = """
import json, sys, tempfile
from benchmarks import spread
from benchmarks.learning import read_curve
from stripe_kit.task import REGISTERED
from stripe_kit.train.plan import TrainOptions
from stripe_kit.train.runner import train
from stripe_kit.train.tasks import load_tasks
load_tasks()
walk = REGISTERED["Stripe-Forest-Walk-Ant"]
if {variant!r} == "no_obstacles":
    walk.replace(scene=walk.scene.replace(assets=[])).register("Bench-train-no_obstacles")
task = "Bench-train-no_obstacles" if {variant!r} == "no_obstacles" else "Stripe-Forest-Walk-Ant"
frontend = "warp" if {variant!r} == "forest_warp" else "torch"
result = train(TrainOptions(task=task, num_envs={num_envs}, device={device!r}, max_iterations={epochs},
                            frontend=frontend, runs_dir=tempfile.mkdtemp()))
fps = [value for _, value in read_curve(result.run_dir / "summaries")["performance/step_inference_rl_update_fps"]][2:]
print("RESULT " + json.dumps({{"variant": {variant!r}, "num_envs": {num_envs}, "epochs": {epochs},
      "frames_per_s": spread(fps)}}))
"""
    results = []
    for variant in ("forest", "forest_warp", "no_obstacles"):
        print(f"training: {variant} at {num_envs} envs", flush=True)
        proc = subprocess.run([sys.executable, "-c", code.format(variant=variant, num_envs=num_envs, device=device,
                                                                 epochs=epochs)], capture_output=True, text=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        results.append(json.loads(lines[-1][7:]) if lines else {"variant": variant, "error": proc.stderr[-2000:]})
    return results


def ratios(steps: list[dict]) -> list[dict]:
    """Forest against its baselines, size by size, from the medians; PhysX against Newton (``physx_vs_newton``:
    forest_physx / forest, above 1 where PhysX steps faster); the forest on the Warp frontend against the torch
    managers' (``warp_vs_torch``) and against Isaac Lab's Ant on the Warp frontend."""
    by_size: dict[int, dict[str, float]] = {}
    for result in steps:
        if result and "env_steps_per_s" in result:
            by_size.setdefault(result["num_envs"], {})[result["variant"]] = result["env_steps_per_s"]["median"]
    baselines = [name for name in VARIANTS if name not in (*FORESTS, "no_obstacles_warp")]
    rows = []
    for n, v in sorted(by_size.items()):
        row = {"num_envs": n}
        if "forest" in v:
            row.update({f"forest_vs_{name}": v["forest"] / v[name] for name in baselines if name in v})
            row.update({"physx_vs_newton": v["forest_physx"] / v["forest"]} if "forest_physx" in v else {})
            row.update({"warp_vs_torch": v["forest_warp"] / v["forest"]} if "forest_warp" in v else {})
        if "forest_warp" in v:
            row.update({f"forest_warp_vs_{name}": v["forest_warp"] / v[name]
                        for name in ("ant_manager_warp", "ant_direct_warp", "no_obstacles_warp") if name in v})
        if len(row) > 1:
            rows.append(row)
    return rows


def earlier_run(path: Path) -> dict:
    """The medians and ratios of an earlier results file, shown beside this run's (before/after a change)."""
    earlier = json.loads(path.read_text())
    medians = {f"{r['variant']}@{r['num_envs']}": r["env_steps_per_s"]["median"]
               for r in earlier["env_steps"] if r and "env_steps_per_s" in r}
    ops = {f"{r['variant']}@{r['num_envs']}": r["ops_per_step"] for r in earlier.get("profiles", []) if r and "ops_per_step" in r}
    return {"file": path.name, "command": earlier["command"], "medians": medians, "ops_per_step": ops,
            "ratios": {str(r["num_envs"]): r for r in earlier.get("ratios", [])}}


def markdown(report: dict) -> str:
    """The short table of the report; with an earlier run, its medians and ratios in brackets beside this run's."""
    before = report.get("before") or {"medians": {}, "ratios": {}, "ops_per_step": {}}
    lines = [f"# Benchmarks on {report['machine'].get('gpu') or report['machine']['cpu']} ({report['date']})", ""]
    if report.get("before"):
        lines += [f"[Brackets: the same measurement in `{before['file']}`, before this run's changes.]", ""]
    lines += ["| variant | envs | env-steps/s min / median / max | creation [s] | GPU memory [GiB] |", "|---|---|---|---|---|"]
    for r in report["env_steps"]:
        if r and "env_steps_per_s" in r:
            s = r["env_steps_per_s"]
            earlier = before["medians"].get(f"{r['variant']}@{r['num_envs']}")
            bracket = f" [{earlier:,.0f}]" if earlier else ""
            lines.append(f"| {r['variant']} | {r['num_envs']} | {s['min']:,.0f} / {s['median']:,.0f}{bracket} / {s['max']:,.0f} | "
                         f"{r['creation_s']['total_creation']:.1f} | {r.get('gpu_memory_gib', 0):.2f} |")
    compile_ = report.get("warp_compile") or {}
    if "compile_s" in compile_:
        lines += ["", (f"Warp kernel compile (excluded from the creation times above): {compile_['compile_s']:.1f} s "
                       f"(16-env forest built in {compile_['cold_cache_creation_s']:.1f} s with an empty kernel cache, "
                       f"{compile_['warm_cache_creation_s']:.1f} s with it full)")]
    columns = {"forest_vs_ant_direct": "forest / Isaac-Ant-Direct", "forest_vs_ant_manager": "forest / Isaac-Ant "
               "(manager-based)", "forest_vs_no_obstacles": "forest / no obstacles", "physx_vs_newton": "forest on "
               "PhysX / on Newton", "forest_vs_ant_manager_warp": "forest / Isaac-Ant, Warp frontend",
               "forest_vs_ant_direct_warp": "forest / Isaac-Ant-Direct, Warp frontend", "warp_vs_torch": "forest, "
               "Warp / torch frontend", "forest_warp_vs_ant_manager_warp": "forest, Warp frontend / Isaac-Ant, Warp "
               "frontend", "forest_warp_vs_no_obstacles_warp": "forest / no obstacles, Warp frontend"}
    measured = [key for key in columns if any(key in r for r in report["ratios"])]  # only the ratios this run has
    if measured:
        lines += ["", "| envs | " + " | ".join(columns[key] for key in measured) + " |", "|---" * (len(measured) + 1) + "|"]
    for r in report["ratios"] if measured else []:
        earlier = before["ratios"].get(str(r["num_envs"]), {})
        cells = [f"{r.get(key, float('nan')):.2f}" + (f" [{earlier[key]:.2f}]" if key in earlier else "")
                 for key in measured]
        lines.append(f"| {r['num_envs']} | " + " | ".join(cells) + " |")
    if report.get("profiles"):
        lines += ["", "| profile | envs | torch ops per step | ms per step (physics), CPU | same, GPU |", "|---|---|---|---|---|"]
        for r in report["profiles"]:
            if r and "ops_per_step" in r:
                cpu, gpu = r["ms_per_step"], r.get("device_ms_per_step")
                on_gpu = f"{gpu['env_step']:.2f} ({gpu.get('physics', 0):.2f})" if gpu else "-"
                earlier = before["ops_per_step"].get(f"{r['variant']}@{r['num_envs']}")
                bracket = f" [{earlier:.0f}]" if earlier else ""
                lines.append(f"| {r['variant']} | {r['num_envs']} | {r['ops_per_step']:.0f}{bracket} | "
                             f"{cpu['env_step']:.2f} ({cpu.get('physics', 0):.2f}) | {on_gpu} |")
    lines += ["", "| training | envs | frames/s min / median / max |", "|---|---|---|"]
    for r in report["training"]:
        if "frames_per_s" in r:
            f = r["frames_per_s"]
            lines.append(f"| {r['variant']} | {r['num_envs']} | {f['min']:,.0f} / {f['median']:,.0f} / {f['max']:,.0f} |")
    if report.get("dense_forest_creation"):
        d = report["dense_forest_creation"]
        if "creation_s" in d:
            c = d["creation_s"]
            per_tile = c.get("obstacles_per_tile", {"min": c["colliders"] / c["tiles"]})
            lines += ["", f"Dense forest: {c['tiles']} tiles, {c['colliders']} colliders ({c['colliders'] / c['tiles']:.0f} per tile, "
                      f"at least {per_tile['min']:.0f}), "
                      f"{d['num_envs']} envs: creation {c['total_creation']:.1f} s (scene generation {c['scene_generation']:.1f} s, "
                      f"stage {c['stage_authoring']:.1f} s, physics model {c['physics_model_build']:.1f} s, first step {c['first_step']:.1f} s)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", type=int, nargs="*", help="env counts (default: 256 1024 4096 16384 on CUDA, 16 64 on CPU)")
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["compile", "steps", "profile", "dense", "training", "scene"])
    parser.add_argument("--append", action="store_true", help="add to today's results file instead of replacing it")
    parser.add_argument("--before", type=Path, help="an earlier results JSON, shown in brackets beside this run")
    parser.add_argument("--variants", nargs="+", choices=VARIANTS,
                        help="env-steps variants to measure (default: all; on a CPU all but the Warp frontend's)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every variant this many times, in turn, and pool the rates (noisy machines)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds: {args.rounds} is not accepted; give a whole number of at least 1")
    gpu = args.device.startswith("cuda")
    sizes = args.sizes or ([256, 1024, 4096, 16384] if gpu else [16, 64])
    date = datetime.date.today().isoformat()
    os.environ["WARP_CACHE_PATH"] = str(WARP_CACHE)
    report = {
        "date": date,
        "machine": machine(),
        "packages": {name: importlib.metadata.version(name) for name in PACKAGES},
        "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.run", *sys.argv[1:]]),
        "warp_compile": None if "compile" in args.skip else warp_compile(args.device),
        "env_steps": [],
        "profiles": [],
        "training": [],
        "before": earlier_run(args.before) if args.before else None,
    }
    stem = RESULTS / f"{report['machine']['host']}-{'gpu' if gpu else 'cpu'}-{date}"
    earlier = json.loads(stem.with_suffix(".json").read_text()) if args.append and stem.with_suffix(".json").exists() else None

    def save(**measured: list[dict]) -> None:
        """Write the report with what is measured so far, added to today's earlier results with ``--append``."""
        report.update(measured)
        saved = {key: value for key, value in report.items() if key != "saved"}
        if earlier is not None:
            for key in ("env_steps", "profiles", "training"):
                saved[key] = earlier.get(key, []) + report[key]
            saved["env_steps"] = pool_rounds(saved["env_steps"])
            saved["command"] = f"{earlier['command']}; {report['command']}"
            saved.setdefault("dense_forest_creation", earlier.get("dense_forest_creation"))
            saved["warp_compile"] = report["warp_compile"] or earlier.get("warp_compile")
            saved["before"] = report["before"] or earlier.get("before")
        saved["ratios"] = ratios(saved["env_steps"])
        RESULTS.mkdir(exist_ok=True)
        for suffix, text in ((".json", json.dumps(saved, indent=1)), (".md", markdown(saved))):
            with atomic_path(stem.with_suffix(suffix)) as tmp:
                tmp.write_text(text)
        report["saved"] = saved

    if "steps" not in args.skip:
        env_steps(args.device, sizes, 200 if gpu else 50, args.rounds, after_round=lambda done: save(env_steps=done),
                  variants=args.variants or [v for v in VARIANTS if gpu or v not in CUDA_ONLY])
    if "profile" not in args.skip:
        save(profiles=profiles(args.device, 4096 if gpu else 64))
    if "training" not in args.skip:
        save(training=training(args.device, 4096 if gpu else 64, 20 if gpu else 8))
    if "dense" not in args.skip:
        dense_envs = 4096 if gpu else 64
        print(f"env creation: dense forest at {dense_envs} envs", flush=True)
        report["dense_forest_creation"] = run_child(["benchmarks.env_steps", "--variant", "dense_forest", "--num-envs",
                                                  str(dense_envs), "--device", args.device, "--steps", "20", "--repeats", "1"],
                                                 timeout=900)
    if "scene" not in args.skip and not gpu:
        out = Path(tempfile.mkdtemp()) / "scene.json"
        subprocess.run([sys.executable, "-m", "benchmarks.scene_generation", "--quick", "--out", str(out)], check=False)
        report["scene_generation"] = json.loads(out.read_text()) if out.exists() else None
    save()
    report = report.pop("saved")
    print(markdown(report))
    print(f"results: {stem}.json")


if __name__ == "__main__":
    main()
