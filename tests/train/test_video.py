"""Videos: ``stripe-kit train --video-every`` and ``stripe-kit play --video`` on CPU, through the real stack.

One tiny training run (2 envs, 2 epochs, a video every epoch) serves every test: its videos are checked where the
README says they are, then its checkpoint plays into a video, and the renderer shows the robot where it stands.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from support import run_cli, run_python
from train_support import FAST, TASK


def _frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def video_run(stripe_kit_bin, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("video")
    proc = run_cli(stripe_kit_bin, "train", "--task", TASK, "--num-envs", "2", "--device", "cpu",
                   "--max-iterations", "2", "--runs-dir", str(root), "--run-name", "V", "--video-every", "1",
                   "--video-length", "12", *FAST, timeout=400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return root / TASK / "V"


def test_train_video_every_writes_one_video_per_interval_into_the_run(video_run):
    videos = sorted(path.name for path in (video_run / "videos").iterdir())
    assert videos == ["epoch_0.mp4", "epoch_1.mp4"]  # the policy after 0 and after 1 epoch; no temporaries left
    frames = _frames(video_run / "videos" / "epoch_0.mp4")
    assert len(frames) == 12 and frames[0].shape == (240, 320, 3)  # CPU default size


def test_play_video_moves_and_shows_the_robot(stripe_kit_bin, video_run, tmp_path):
    video = tmp_path / "play.mp4"
    proc = run_cli(stripe_kit_bin, "play", str(video_run), "--episodes", "1", "--num-envs", "1", "--video", str(video),
                   "--video-length", "30", timeout=400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert f"video:      {video}" in proc.stdout
    frames = _frames(video)
    assert len(frames) == 30
    change = np.abs(frames[0].astype(int) - frames[-1].astype(int)).max(axis=2)
    assert (change > 24).mean() > 0.005, "the first and last frames are alike: nothing moved"
    assert not list(tmp_path.glob(".*tmp*")), "a temporary video file was left behind"

    # the robot is in the picture: the same frame rendered with the robot hidden differs where the robot stands
    shown_hidden = run_python(f"""
        import json, gymnasium as gym, numpy as np, torch
        from isaaclab.app import launch_simulation
        from stripe_kit.task import REGISTERED
        from stripe_kit.train.tasks import load_tasks
        from stripe_kit.render import EnvRenderer, default_video_cfg
        load_tasks()
        cfg = REGISTERED[{TASK!r}].env_cfg(num_envs=1, device="cpu")
        with launch_simulation(cfg, {{"headless": True, "device": "cpu"}}):
            env = gym.make({TASK!r}, cfg=cfg)
            env.reset()
            for _ in range(5):
                env.step(torch.zeros(1, 8))
            renderer = EnvRenderer(env.unwrapped, default_video_cfg("cpu").render)
            shown = renderer.render().numpy().astype(int)
            renderer.camera.reset()
            hidden = renderer.render(show_robot=False).numpy().astype(int)
            env.close()
        differs = np.abs(shown - hidden).max(axis=2) > 24
        rows, cols = np.nonzero(differs)
        print("RESULT " + json.dumps({{"fraction": float(differs.mean()), "row": float(rows.mean()),
                                       "col": float(cols.mean()), "shape": list(differs.shape)}}))
        """, timeout=400)
    height, width = shown_hidden["shape"]
    assert shown_hidden["fraction"] > 0.01, shown_hidden  # the Ant covers a good part of the picture
    # the camera looks at the robot: what differs lies around the middle of the picture
    assert abs(shown_hidden["row"] - height / 2) < height / 4 and abs(shown_hidden["col"] - width / 2) < width / 4


@pytest.mark.parametrize("args, field, accepted", [
    (["train", "--video-every", "0"], "--video-every", "positive-integer"),
    (["play", "RUN", "--video", "x.mp4", "--video-length", "-1"], "--video-length", "positive-integer"),
])
def test_bad_video_numbers_fail_in_one_line(stripe_kit_bin, args, field, accepted):
    proc = run_cli(stripe_kit_bin, *args)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert field in proc.stderr and accepted in proc.stderr and "Traceback" not in proc.stderr


def test_bad_video_path_fails_in_one_line(stripe_kit_bin, tmp_path):
    missing = tmp_path / "missing" / "play.mp4"
    for path, accepted in ((missing, "existing directory"), (tmp_path / "play.avi", ".mp4")):
        # checked before the checkpoint is read or anything is built
        proc = run_cli(stripe_kit_bin, "play", "RUN", "--video", str(path))
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "video" in proc.stderr and str(path) in proc.stderr and accepted in proc.stderr
