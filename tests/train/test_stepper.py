"""SteppedTraining driven by a plain asyncio loop standing in for Kit's app update, on the real stack.

One process: a run whose env build fails (the error surfaces through run() and status); a run that trains two
epochs while a concurrent task ticks on the same loop, is stopped from the loop and ends at an epoch boundary; a run
whose serving task is cancelled.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from support import run_python
from train_support import FAST, TASK, metrics_lines

GAP_FACTOR = 3.0
GAP_SLACK_S = 0.25
"""The loop's longest gap between two ticks, while the env is stepped, must stay under
``GAP_FACTOR * slowest env step + GAP_SLACK_S``. A gap holds at most one served request (one env step) plus the loop's
own work (the reply, one ``sleep(0)`` round, the ticker's 2 ms sleep) and hand-overs of the GIL with the learner
thread (Python switches every 5 ms), and a machine shared with other jobs may deschedule the process for a while:
the factor and the slack absorb those, while a loop blocked for a whole epoch (16 steps and PPO's update) or for the
learner's wait on its next action would exceed the bound."""


@pytest.fixture(scope="module")
def stepped(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("stepped")
    return run_python(
        f"""
        import asyncio, json, threading, time
        from stripe_kit.train import TrainOptions
        from stripe_kit.train.stepper import SteppedTraining
        common = dict(task={TASK!r}, num_envs=4, device="cpu", runs_dir={str(root)!r}, overrides={tuple(FAST)!r})
        out = {{}}

        # 1. the env build fails on the loop's thread: run() raises the learner's error, nothing hangs
        broken = common["overrides"] + ("env.scene.robot.spawn.usd_path=/nonexistent/robot.usd",)
        bad = SteppedTraining(TrainOptions(max_iterations=3, run_name="bad", **dict(common, overrides=broken)))

        async def run_bad():
            bad.start()
            try:
                await bad.run(lambda: asyncio.sleep(0))
                return None
            except Exception as error:
                return type(error).__name__

        started = time.monotonic()
        raised = asyncio.run(run_bad())
        out["bad"] = dict(bad.status().__dict__, raised=raised, alive=bad.running, seconds=time.monotonic() - started,
                          build_thread=bad.stats.build_thread, loop_thread=threading.get_ident())

        # 2. train on the loop while a concurrent task ticks; stop from the loop once two epochs are done
        training = SteppedTraining(TrainOptions(max_iterations=500, run_name="stepped", **common))
        learner_threads, epochs = set(), []

        def watch(metrics):
            learner_threads.add(threading.get_ident())
            epochs.append((metrics["epoch"], time.monotonic()))

        training.subscribe(watch)
        ticks = dict(n=0, gaps=[], during_build=0.0, stop_epoch=None, stop_state=None, asked=None)

        async def ticker(done):
            last, last_stepping = time.perf_counter(), False
            while not done.is_set():
                await asyncio.sleep(0.002)
                now = time.perf_counter()
                stats = training.stats
                stepping = stats.build_s is not None and stats.close_thread is None
                if stepping and last_stepping:
                    ticks["gaps"].append(now - last)
                elif stepping:
                    ticks["during_build"] = now - last
                last, last_stepping = now, stepping
                ticks["n"] += 1
                status = training.status()
                if ticks["stop_epoch"] is None and status.epoch >= 2:
                    ticks["stop_epoch"], ticks["asked"] = status.epoch, time.monotonic()
                    ticks["stop_state"] = training.stop().state

        async def main():
            done = asyncio.Event()
            tick_task = asyncio.ensure_future(ticker(done))
            training.start()
            result = await training.run(lambda: asyncio.sleep(0))
            ended = time.monotonic()
            done.set()
            await tick_task
            return result, ended

        started = time.monotonic()
        result, ended = asyncio.run(main())
        loop_thread = threading.get_ident()  # asyncio.run runs the loop on this thread
        stats = training.stats
        gaps = sorted(ticks["gaps"])
        out["stepped"] = dict(
            training.status().__dict__, result_status=result.status, result_epochs=result.epochs,
            seconds=time.monotonic() - started, stop_epoch=ticks["stop_epoch"], stop_state=ticks["stop_state"],
            stop_latency=ended - ticks["asked"], epoch_seconds=[b[1] - a[1] for a, b in zip(epochs, epochs[1:])],
            loop_thread=loop_thread, build_thread=stats.build_thread, step_threads=sorted(stats.step_threads),
            close_thread=stats.close_thread, learner_threads=sorted(learner_threads),
            learner_alive=training._thread.is_alive(),
            learner_listed=any(t is training._thread for t in threading.enumerate()),
            threads=[t.name for t in threading.enumerate()],
            steps=stats.steps, step_mean=stats.step_s_mean, step_max=stats.step_s_max, build_s=stats.build_s,
            close_s=stats.close_s, ticks=ticks["n"], gap_max=gaps[-1] if gaps else None,
            gap_p99=gaps[int(len(gaps) * 0.99)] if gaps else None, gap_count=len(gaps),
            during_build=ticks["during_build"],
        )

        # 3. the serving task is cancelled mid-run (Kit shutting down): the learner ends too, its checkpoint kept
        cancelled = SteppedTraining(TrainOptions(max_iterations=50, run_name="cancelled", **common))

        async def cancel_after_one_epoch():
            cancelled.start()
            serving = asyncio.ensure_future(cancelled.run(lambda: asyncio.sleep(0)))
            while cancelled.status().epoch < 1 and not serving.done():
                await asyncio.sleep(0.01)
            serving.cancel()
            try:
                await serving
            except asyncio.CancelledError:
                return True
            return False

        raised = asyncio.run(cancel_after_one_epoch())
        status = cancelled.wait(60)
        out["cancelled"] = dict(status.__dict__, raised=raised, alive=cancelled.running,
                                closed_on=cancelled.stats.close_thread, loop_thread=threading.get_ident())
        print("RESULT " + json.dumps(out))
        """,
        timeout=300,
    )


def test_env_build_error_surfaces_through_run_and_status(stepped):
    bad = stepped["bad"]
    assert bad["state"] == "failed" and not bad["alive"] and bad["raised"] is not None
    assert "/nonexistent/robot.usd" in bad["error"] and "\n" not in bad["error"]
    assert bad["build_thread"] == bad["loop_thread"]  # the build was tried on the loop's thread
    assert bad["seconds"] < 120


def test_stepped_training_runs_on_the_loop_and_stops_at_an_epoch_boundary(stepped):
    run = stepped["stepped"]
    print(f"\nstepped run: {run['seconds']:.1f} s, build {run['build_s']:.2f} s, close {run['close_s']:.2f} s, "
          f"{run['steps']} steps, env step mean {run['step_mean'] * 1e3:.2f} ms max {run['step_max'] * 1e3:.2f} ms; "
          f"loop gaps while stepping ({run['gap_count']}, {run['ticks']} ticks): max {run['gap_max'] * 1e3:.2f} ms "
          f"p99 {run['gap_p99'] * 1e3:.2f} ms (across the env build {run['during_build']:.2f} s); "
          f"epochs take {[round(s, 2) for s in run['epoch_seconds']]} s; "
          f"stop() to run() returning {run['stop_latency']:.2f} s")
    # two epochs or more, ended by stop() at the epoch boundary with the checkpoint of that epoch
    assert run["state"] == "stopped" and run["error"] is None and run["result_status"] == "stopped"
    assert run["stop_state"] == "stopping" and run["stop_epoch"] >= 2
    assert run["stop_epoch"] <= run["epoch"] <= run["stop_epoch"] + 1 and run["result_epochs"] == run["epoch"]
    checkpoint = torch.load(run["last_checkpoint"], weights_only=False)
    assert Path(run["last_checkpoint"]).name == "last.pth" and checkpoint["epoch"] == run["epoch"]
    assert checkpoint["frame"] == run["frames"]
    run_dir = Path(run["run_dir"])
    assert metrics_lines(run_dir)[-1]["epoch"] == run["epoch"]
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "stopped" and manifest["epoch"] == run["epoch"]
    # the env was built, stepped and closed on the loop's thread; rl_games ran in another one, now gone
    loop = run["loop_thread"]
    assert run["build_thread"] == loop and run["step_threads"] == [loop] and run["close_thread"] == loop
    assert run["learner_threads"] and loop not in run["learner_threads"]
    assert not run["learner_alive"] and not run["learner_listed"]
    assert "stripe-kit-training" not in run["threads"]
    # the loop was never blocked by more than about one env step while training
    assert run["steps"] >= 2 * 16 and run["gap_count"] > run["steps"]
    assert run["gap_max"] < GAP_FACTOR * run["step_max"] + GAP_SLACK_S
    assert run["gap_p99"] < GAP_FACTOR * run["step_mean"] + GAP_SLACK_S
    assert run["seconds"] < 120


def test_cancelled_serving_task_ends_the_learner_keeping_its_checkpoint(stepped):
    run = stepped["cancelled"]
    assert run["raised"] and not run["alive"]
    assert run["state"] == "failed" and "SteppingEnded" in run["error"]
    assert run["closed_on"] == run["loop_thread"]
    checkpoint = torch.load(run["last_checkpoint"], weights_only=False)
    assert checkpoint["epoch"] == run["epoch"] >= 1
