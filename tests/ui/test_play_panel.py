"""Kit-free tests of the play panel and run gallery models on run directories written here (no simulation)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from stripe_kit.train.live_play import newest_checkpoint
from stripe_kit.ui.play_panel import NEWEST, PlayPanelModel
from stripe_kit.ui.robot_view import compose
from stripe_kit.ui.run_gallery import RunGalleryModel, newest_video, run_checkpoints, run_videos, video_html


def _run(root: Path, name: str, epochs: int = 3, videos: tuple[str, ...] = ()) -> Path:
    run = root / "Task-A" / name
    (run / "nn").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"task": "Task-A", "status": "finished", "max_epochs": epochs}))
    (run / "metrics.jsonl").write_text("".join(
        json.dumps({"epoch": e, "mean_reward": None if e == 1 else float(e)}) + "\n" for e in range(1, epochs + 1)))
    for checkpoint in ("last", "best", "epoch_2", "epoch_10"):
        (run / "nn" / f"{checkpoint}.pth").write_bytes(b"not a checkpoint")
    for video in videos:
        (run / "videos").mkdir(exist_ok=True)
        (run / "videos" / video).write_bytes(b"\x00\x00\x00\x18ftypmp42")
    return run


def test_gallery_reads_curves_videos_and_checkpoints(tmp_path):
    run = _run(tmp_path, "one", videos=("epoch_10.mp4", "epoch_9.mp4", "clip.mp4"))
    assert [p.name for p in run_videos(run)] == ["epoch_9.mp4", "epoch_10.mp4", "clip.mp4"]
    assert newest_video(run).name == "epoch_10.mp4"
    assert run_checkpoints(run) == ["last", "best", "epoch_10", "epoch_2"]
    assert newest_checkpoint(run).name == "last.pth"
    assert 'data-video="epoch_10.mp4"' in video_html(newest_video(run))
    assert "base64," in video_html(run / "videos" / "clip.mp4")
    assert "too large" in video_html(newest_video(run), max_bytes=4)
    gallery = RunGalleryModel(tmp_path)
    events = []
    gallery.subscribe(events.append)
    assert gallery.refresh() and events == ["gallery"]
    assert not gallery.refresh() and events == ["gallery"]  # nothing changed, nothing sent
    card = gallery.card("Task-A/one")
    assert card.curve == ([2, 3], [2.0, 3.0])  # the epoch without a finished episode is left out
    assert card.summary() == "finished, epoch 3/3, best reward 3.00, 3 videos"
    (run / "videos" / "epoch_11.mp4").write_bytes(b"x")
    assert gallery.refresh() and newest_video(run).name == "epoch_11.mp4"


def test_play_panel_choices_and_refusals(tmp_path):
    _run(tmp_path, "one")
    model = PlayPanelModel(tmp_path, device="cpu")
    assert model.refresh_runs() == ["Task-A/one"] and model.run == "Task-A/one"
    assert model.checkpoints == [NEWEST, "last", "best", "epoch_10", "epoch_2"]
    assert model.select_checkpoint("epoch_2") and model.checkpoint == "epoch_2"
    assert not model.select_checkpoint("epoch_3") and "epoch_3" in model.error
    assert not model.select_run("Task-A/two") and "Task-A/one" in model.error
    assert not model.stop() and model.error == "no play is live"
    assert model.start()  # a bad checkpoint file fails in the play thread, reported in one line
    model.play.wait(60)
    model.poll()
    assert model.status().state == "failed" and model.error and "\n" not in model.error
    assert model.status_lines()[0] == "state: failed"


def test_compose_matches_rotation():
    turn = np.array([[0.0, 0.0, np.sin(np.pi / 4), np.cos(np.pi / 4)]])  # 90 degrees about z (x, y, z, w)
    body = np.concatenate([[[1.0, 2.0, 3.0]], turn], axis=1)
    local = np.array([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]])
    world = compose(body, local)
    np.testing.assert_allclose(world[0, :3], [1.0, 3.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(compose(body, np.concatenate([[[0.0, 0.0, 0.0]], turn], axis=1))[0, 3:],
                               [0.0, 0.0, 1.0, 0.0], atol=1e-6)
