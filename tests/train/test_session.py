"""TrainingSession in one process: a failing session, a stopped one, a NaN one, one after the other."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from support import run_python
from train_support import FAST, TASK, metrics_lines


@pytest.fixture(scope="module")
def sessions(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("sessions")
    return run_python(
        f"""
        import json, threading, time
        from stripe_kit.train import TrainOptions, TrainingSession, TrainingBusyError
        common = dict(task={TASK!r}, num_envs=4, device="cpu", runs_dir={str(root)!r}, overrides={tuple(FAST)!r})
        out = {{}}

        # 1. an override that passes validation but breaks the env build: the worker fails, nothing hangs
        started = time.monotonic()
        broken = common["overrides"] + ("env.scene.robot.spawn.usd_path=/nonexistent/robot.usd",)
        bad = TrainingSession(TrainOptions(max_iterations=3, run_name="bad", **dict(common, overrides=broken)))
        status = bad.start().wait(300)
        out["bad"] = dict(status.__dict__, alive=bad.running, seconds=time.monotonic() - started)

        # 2. stop from another thread once two epochs are done; meanwhile a second start is refused
        session = TrainingSession(TrainOptions(max_iterations=500, run_name="stop", **common))
        epochs, reached = [], threading.Event()

        def watch(metrics):
            epochs.append((metrics["epoch"], time.monotonic()))
            if metrics["epoch"] >= 2:
                reached.set()

        session.subscribe(watch)
        session.start()
        try:
            TrainingSession(TrainOptions(max_iterations=2, run_name="other", **common)).start()
            out["busy"] = None
        except TrainingBusyError as error:
            out["busy"] = str(error)
        assert reached.wait(300)
        stop_epoch = epochs[-1][0]
        asked = time.monotonic()
        during = session.stop()
        status = session.wait(300)
        out["stop"] = dict(status.__dict__, alive=session.running, during=during.state, stop_epoch=stop_epoch,
                           latency=time.monotonic() - asked, checkpoint_latency=epochs[-1][1] - asked,
                           epoch_seconds=[b[1] - a[1] for a, b in zip(epochs, epochs[1:])])

        # 3. a third session in the same process; its rewards turn NaN after epoch 2
        nan = TrainingSession(TrainOptions(max_iterations=6, run_name="nan", **common))

        def poison(metrics):
            if metrics["epoch"] == 2:
                nan.env.reward_manager.get_term_cfg("alive").weight = float("nan")

        nan.subscribe(poison)
        status = nan.start().wait(300)
        out["nan"] = dict(status.__dict__, alive=nan.running)
        print("RESULT " + json.dumps(out))
        """,
        timeout=600,
    )


def test_worker_error_ends_in_failed_state_without_hanging(sessions):
    bad = sessions["bad"]
    assert bad["state"] == "failed" and not bad["alive"]
    assert "/nonexistent/robot.usd" in bad["error"] and "\n" not in bad["error"]
    assert bad["seconds"] < 120


def test_second_concurrent_session_is_refused(sessions):
    assert sessions["busy"] is not None and "another training session is live" in sessions["busy"]


def test_stop_from_another_thread_ends_within_one_epoch_with_a_loadable_checkpoint(sessions):
    stop = sessions["stop"]
    assert stop["state"] == "stopped" and not stop["alive"] and stop["during"] == "stopping"
    # the epoch under way when stop() was called is the last one
    assert stop["stop_epoch"] <= stop["epoch"] <= stop["stop_epoch"] + 1
    print(f"stop() to last checkpoint {stop['checkpoint_latency']:.2f} s, to ended {stop['latency']:.2f} s "
          f"(env close included); epochs take {[round(s, 2) for s in stop['epoch_seconds']]} s")
    assert stop["checkpoint_latency"] <= max(stop["epoch_seconds"]) * 3 + 5
    assert stop["latency"] < 60
    checkpoint = torch.load(stop["last_checkpoint"], weights_only=False)
    assert checkpoint["epoch"] == stop["epoch"] and checkpoint["frame"] == stop["frames"]
    assert not any(key.startswith("_orig_mod.") for key in checkpoint["model"])
    run_dir = Path(stop["run_dir"])
    assert metrics_lines(run_dir)[-1]["epoch"] == stop["epoch"]
    assert (run_dir / "learning_curve.png").is_file()


def test_nan_rewards_fail_the_run_keeping_the_last_good_checkpoint(sessions):
    nan = sessions["nan"]
    assert nan["state"] == "failed" and not nan["alive"]
    assert "rewards" in nan["error"] and "at epoch 3" in nan["error"] and "(epoch 2)" in nan["error"]
    checkpoint = torch.load(nan["last_checkpoint"], weights_only=False)
    assert checkpoint["epoch"] == 2 and nan["epoch"] == 2
    assert all(torch.isfinite(value).all() for value in checkpoint["model"].values() if value.is_floating_point())
    import json

    manifest = json.loads((Path(nan["run_dir"]) / "run.json").read_text())
    assert manifest["status"] == "failed" and "NaN" in manifest["error"]


def test_stop_while_the_env_is_built_ends_with_an_epoch_0_checkpoint_that_resumes(tmp_path):
    out = run_python(
        f"""
        import json, torch
        from stripe_kit.train import TrainOptions, TrainingSession
        common = dict(task={TASK!r}, num_envs=4, device="cpu", runs_dir={str(tmp_path)!r}, overrides={tuple(FAST)!r})
        session = TrainingSession(TrainOptions(max_iterations=50, run_name="early", **common)).start()
        during = session.stop()  # the env is still being built
        status = session.wait(300)
        saved = torch.load(status.last_checkpoint, weights_only=False)  # before the resume replaces it
        saved = dict(epoch=saved["epoch"], frame=saved["frame"], task=saved["stripe"]["task"])
        resumed = TrainingSession(TrainOptions(resume=status.run_dir, max_iterations=1)).start().wait(300)
        print("RESULT " + json.dumps(dict(during=during.state, status=status.__dict__, saved=saved,
                                          resumed=resumed.__dict__)))
        """,
        timeout=600,
    )
    status, resumed = out["status"], out["resumed"]
    assert out["during"] == "stopping"
    assert status["state"] == "stopped" and status["epoch"] == 0 and status["error"] is None
    assert out["saved"] == {"epoch": 0, "frame": 0, "task": TASK}
    assert resumed["state"] == "finished" and resumed["epoch"] == 1, resumed
