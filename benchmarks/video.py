"""Video cost: rendering frames/s of the follow camera, and training frames/s with and without ``--video-every``.

``python -m benchmarks.video --device cpu --num-envs 4 --iterations 12 --video-every 4 --video-length 32`` writes
``benchmarks/results/video-<machine>-<device>.json``:

- ``render``: frames/s of :class:`~stripe_kit.render.EnvRenderer` (Newton's Warp ray tracer, shadows and textured
  terrain on) on the device, at each ``--sizes`` (min/median/max of ``--repeats`` timings of ``--frames`` frames,
  each timed with device syncs around the render and its host copy), in a 1-env Walk-Ant, and H.264 encoding frames/s of the same frames (PyAV, one thread).
- ``training``: rl_games frames/s (env steps x envs over whole epochs, collection plus update) of two training runs
  in one process, the first without videos and the second with ``--video-every``, same task, seed and size; the
  ratio is the share of throughput that the videos keep (the target: >= 0.95 at 4096 envs on the GPU with
  ``--video-every 50``). Epochs after the first are measured (the first compiles kernels).

The GPU run the lead makes: ``--device cuda:0 --num-envs 4096 --iterations 150 --video-every 50``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sys
import tempfile
from pathlib import Path

from stripe_kit.files import atomic_path

from . import gpu_name, run_python, spread

RESULTS = Path(__file__).resolve().parent / "results"

RENDER = """
import json, tempfile, time, gymnasium as gym, numpy as np, torch
from isaaclab.app import launch_simulation
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks
from stripe_kit.render import EnvRenderer, RenderCfg, VideoWriter
load_tasks()
device = {device!r}
cfg = REGISTERED[{task!r}].env_cfg(num_envs=1, device=device)
cfg.seed = 1
sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
out = {{}}
with launch_simulation(cfg, {{"headless": True, "device": device}}):
    env = gym.make({task!r}, cfg=cfg)
    env.reset()
    for width, height in {sizes!r}:
        renderer = EnvRenderer(env.unwrapped, RenderCfg(width=width, height=height))
        renderer.render(); sync()
        rates, frames = [], []
        for _ in range({repeats}):
            elapsed = 0.0
            for _ in range({frames}):
                env.step(torch.rand(1, env.unwrapped.action_manager.total_action_dim) * 2 - 1)  # the robot moves
                sync()
                start = time.perf_counter()
                frames.append(renderer.render().cpu().numpy().copy())
                sync()
                elapsed += time.perf_counter() - start
            rates.append({frames} / elapsed)
        with tempfile.TemporaryDirectory() as tmp:
            encode = []
            for _ in range({repeats}):
                start = time.perf_counter()
                writer = VideoWriter(tmp + "/x.mp4", 60.0, width, height)
                writer.write(np.stack(frames[:{frames}]))
                writer.close()
                encode.append({frames} / (time.perf_counter() - start))
        out[f"{{width}}x{{height}}"] = {{"render_frames_per_s": rates, "encode_frames_per_s": encode}}
    env.close()
print("RESULT " + json.dumps(out))
"""

TRAIN = """
import json
from pathlib import Path
from stripe_kit.train import TrainOptions, TrainingSession
from stripe_kit.train.monitor import read_metrics
common = dict(task={task!r}, num_envs={num_envs}, device={device!r}, max_iterations={iterations}, seed=42,
              runs_dir={runs!r}, overrides={overrides!r})
out = {{}}
for name, video in (("without_video", {{}}), ("with_video", {{"video_every": {every}, "video_length": {length}}})):
    result = TrainingSession(TrainOptions(run_name=name, **common, **video)).start().wait(36000)
    run_dir = Path(result.run_dir)
    rows = read_metrics(run_dir / "metrics.jsonl")
    videos = sorted(p.name for p in (run_dir / "videos").glob("*.mp4")) if video else []
    out[name] = {{"fps": [row["fps"] for row in rows[1:]], "frames": rows[-1]["frames"],
                 "time_s": rows[-1]["time_s"] - rows[0]["time_s"], "frames_timed": rows[-1]["frames"] - rows[0]["frames"],
                 "videos": videos}}
print("RESULT " + json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="Stripe-Forest-Walk-Ant")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--sizes", default="320x240,640x480", help="image sizes WxH, comma separated")
    parser.add_argument("--frames", type=int, default=10, help="frames per render timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--num-envs", type=int, default=4, help="training envs (0: skip the training comparison)")
    parser.add_argument("--iterations", type=int, default=12, help="epochs of each training run")
    parser.add_argument("--video-every", type=int, default=50)
    parser.add_argument("--video-length", type=int, default=None, help="frames per video (default: one episode)")
    parser.add_argument("--machine", default=socket.gethostname(), help="name in the results file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("overrides", nargs="*", help="KEY=VALUE overrides of both training runs")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]
    render = run_python(RENDER.format(task=args.task, device=args.device, sizes=sizes, frames=args.frames,
                                repeats=args.repeats), timeout=3600)
    result = {
        "benchmark": "video", "task": args.task, "device": args.device, "renderer": "newton SensorTiledCamera",
        "machine": {"host": socket.gethostname(), "cpu": platform.processor() or platform.machine(),
                    "gpu": gpu_name(args.device)},
        "command": " ".join(sys.argv),
        "load_average_at_end": list(os.getloadavg()),
        "render": {size: {key: spread(values) for key, values in rates.items()} for size, rates in render.items()},
    }
    if args.num_envs:
        with tempfile.TemporaryDirectory() as runs:
            train = run_python(TRAIN.format(task=args.task, num_envs=args.num_envs, device=args.device,
                                      iterations=args.iterations, runs=runs, overrides=tuple(args.overrides),
                                      every=args.video_every, length=args.video_length), timeout=36000)
        throughput = {name: run["frames_timed"] / run["time_s"] for name, run in train.items()}
        result["training"] = {
            "num_envs": args.num_envs, "iterations": args.iterations, "video_every": args.video_every,
            "video_length": args.video_length, "overrides": args.overrides,
            **{name: {"frames_per_s": throughput[name], "epoch_fps": spread(run["fps"]), "videos": run["videos"]}
               for name, run in train.items()},
            "with_over_without": throughput["with_video"] / throughput["without_video"],
        }
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out / f"video-{args.machine}-{args.device.replace(':', '')}.json") as tmp:
        tmp.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
