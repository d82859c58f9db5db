"""HeadlessRun: the real ``stripe-kit train`` CLI in its own process, watched through its run directory and stopped
with SIGTERM at an epoch boundary with a checkpoint (4 CPU envs, a few epochs); a run that cannot start reports
failed with the CLI's message."""

from __future__ import annotations

import time

from train_support import FAST, TASK

from stripe_kit.train import TrainOptions
from stripe_kit.train.headless import HeadlessRun, train_arguments
from stripe_kit.train.runs import list_runs


def test_train_arguments_reproduce_the_options():
    options = TrainOptions(task=TASK, num_envs=4, device="cpu", max_iterations=3, seed=7, run_name="r",
                           runs_dir="/tmp/x", overrides=("agent.horizon_length=16",))
    args = train_arguments(options)
    assert args[:1] == ["train"]
    for pair in (["--task", TASK], ["--num-envs", "4"], ["--device", "cpu"], ["--max-iterations", "3"],
                 ["--seed", "7"], ["--run-name", "r"], ["--runs-dir", "/tmp/x"]):
        index = args.index(pair[0])
        assert args[index:index + 2] == pair
    assert args[-1] == "agent.horizon_length=16"


def test_headless_run_is_watched_and_stopped_with_sigterm(tmp_path):
    run = HeadlessRun(TrainOptions(task=TASK, num_envs=4, device="cpu", max_iterations=500, runs_dir=str(tmp_path),
                                   overrides=tuple(FAST)))
    assert run.status().state == "starting"
    run.start()
    try:
        deadline = time.monotonic() + 300
        while run.status().epoch < 2:
            assert run.running, run.status()
            assert time.monotonic() < deadline, "no progress"
            time.sleep(0.2)
        status = run.status()
        assert status.state == "running" and status.run_dir == str(run.run_dir)
        assert status.max_epochs == 500 and status.frames > 0
        assert run.stop()
        assert run.wait(180) == 0, run.log_path.read_text()[-2000:]
    finally:
        run.kill()
    status = run.status()
    assert status.state == "stopped", status
    assert 2 <= status.epoch < 500
    assert status.last_checkpoint and status.last_checkpoint.endswith("nn/last.pth")
    assert [r.status for r in list_runs(tmp_path) if r.path == run.run_dir] == ["stopped"]
    assert not run.stop()


def test_headless_run_that_cannot_start_reports_failed(tmp_path):
    run = HeadlessRun(TrainOptions(task="No-Such-Task", num_envs=4, device="cpu", runs_dir=str(tmp_path)))
    run.start()
    assert run.wait(180) not in (0, None)
    status = run.status()
    assert status.state == "failed"
    assert "No-Such-Task" in (status.error or ""), status
