"""TrainingPanelModel.start_headless ("Run headless" of the Kit window): the real ``stripe-kit train`` CLI in its own
process (4 CPU envs), watched by the model through its run directory (state, epochs, metric history), stopped with
SIGTERM by the model's stop at an epoch boundary with nn/last.pth; the run then shows up as stopped in the run list.
HeadlessRun itself is tested in tests/train/test_headless.py."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from train_support import FAST, TASK  # noqa: E402

from stripe_kit.ui import TrainingPanelModel  # noqa: E402


def test_start_headless_is_watched_and_stopped_with_sigterm(tmp_path):
    model = TrainingPanelModel(tasks=[TASK], runs_dir=tmp_path, overrides=FAST, device="cpu")
    for name, value in (("num_envs", "4"), ("max_iterations", "500"), ("seed", "5")):
        assert model.set_option(name, value), model.error
    events: list[str] = []
    model.subscribe(events.append)

    assert model.start_headless(), model.error
    run = model.headless
    try:
        assert model.running and model.session is None
        assert "headless" in model.message and str(run.process.pid) in model.message
        assert run.run_dir.parent == tmp_path / TASK
        assert not model.start() and "live already" in model.error  # one run at a time
        assert not model.start_headless() and "live already" in model.error

        deadline = time.monotonic() + 300
        while model.poll().epoch < 2:
            assert run.running, (model.status(), run.log_path.read_text()[-2000:])
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.2)
        status = model.poll()
        assert status.state == "running", status
        assert status.run_dir == str(run.run_dir) and status.max_epochs == 500
        assert 0 < model.progress < 1
        assert model.history.epochs[:2] == [1, 2]  # read from metrics.jsonl of the run directory
        assert "metrics" in events and "state" in events

        assert model.stop(), model.error
        assert "SIGTERM" in model.message
        assert run.wait(180) == 0, run.log_path.read_text()[-2000:]
    finally:
        run.kill()
    status = model.poll()
    assert status.state == "stopped", status
    assert 2 <= status.epoch < 500
    assert status.last_checkpoint == str(run.run_dir / "nn" / "last.pth")
    assert Path(status.last_checkpoint).is_file()
    assert not model.running
    assert model.message == f"stopped at epoch {status.epoch}"
    assert [r.status for r in model.runs if r.path == run.run_dir] == ["stopped"]
    assert model.history.epochs[-1] == status.epoch
    assert not model.stop() and "no training run" in model.error
