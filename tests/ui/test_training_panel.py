"""Training panel view-model: options validated with one-line errors, a real 4-env CPU run started, watched and
stopped, failures that keep the options and the history.

The runs happen in a fresh interpreter (one simulation per process), as in the training-runtime tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))

from support import run_python  # noqa: E402
from train_support import FAST, TASK  # noqa: E402

from stripe_kit.ui import TrainingPanelModel  # noqa: E402

SHORT = ("sim.episode_length_s=1",)
"""Episodes that end within the first epochs, so that rewards are reported early."""


def test_options_are_validated_with_one_line_errors(tmp_path):
    model = TrainingPanelModel(tasks=[TASK, "Stripe-Forest-Goal-Ant"], runs_dir=tmp_path)
    events = []
    model.subscribe(events.append)
    assert model.task == TASK
    assert model.set_option("num_envs", "4") and model.options["num_envs"].value == 4
    assert not model.set_option("num_envs", "0")
    assert model.options["num_envs"].value == 4 and "num_envs" in model.error and "\n" not in model.error
    assert not model.set_option("max_iterations", "abc") and model.options["max_iterations"].error
    assert model.set_option("max_iterations", "") and model.options["max_iterations"].value is None
    assert not model.set_option("device", "tpu") and "device" in model.error
    assert model.set_option("device", "cpu") and model.error is None
    assert not model.select_task("Nope") and model.task == TASK
    assert model.select_task("Stripe-Forest-Goal-Ant")
    assert events[-1] == "selection" and "error" in events
    assert model.status().state == "idle" and model.poll().state == "idle"
    assert not model.stop() and model.error  # nothing to stop
    assert model.refresh_runs() == []


def test_registered_tasks_listed():
    assert {"Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant"} <= set(TrainingPanelModel().tasks)


@pytest.fixture(scope="module")
def panel_runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("panel")
    return run_python(
        f"""
        import json, time
        from stripe_kit.ui import TrainingPanelModel
        model = TrainingPanelModel(runs_dir={str(root)!r}, overrides={tuple(FAST) + SHORT!r})
        events = []
        model.subscribe(events.append)
        out = {{"tasks": model.tasks}}
        model.select_task({TASK!r})
        for name, value in (("num_envs", "4"), ("device", "cpu"), ("max_iterations", "200"), ("seed", "7")):
            assert model.set_option(name, value), model.error

        # 1. a real run: starting -> running (epochs advance, history grows) -> stopped with a checkpoint
        assert model.start(), model.error
        states = [model.poll().state]
        out["second_start"] = (model.start(), model.error)
        deadline = time.monotonic() + 120
        while (len(model.history) < 3 or model.history.rewards[-1] is None) and time.monotonic() < deadline \
                and not model.status().ended:
            states.append(model.poll().state)
            time.sleep(0.05)
        assert model.stop(), model.error
        states.append(model.poll().state)
        status = model.wait(120)
        states.append(status.state)
        history = model.history
        out["run"] = dict(states=states, status=status.__dict__, epochs=history.epochs, rewards=history.rewards,
                          lengths=history.episode_lengths, lines=model.status_lines(), progress=model.progress,
                          runs=[(r.name, r.status) for r in model.runs], running=model.running)

        # 2. an invalid option: refused before anything starts, options and history intact
        model.options["num_envs"].value = 0  # bypassing set_option, as a buggy front end could
        out["invalid"] = dict(started=model.start(), error=model.error, history=len(model.history),
                              state=model.poll().state)
        model.set_option("num_envs", "4")

        # 3. an override that breaks the env build: the run fails in its worker, the panel keeps its state
        model.overrides = model.overrides + ("env.scene.robot.spawn.usd_path=/nonexistent/robot.usd",)
        assert model.start(), model.error
        status = model.wait(120)
        out["failed"] = dict(state=status.state, error=model.error, history=model.history.epochs,
                             options={{n: f.value for n, f in model.options.items()}}, events=events[-3:])
        print("RESULT " + json.dumps(out))
        """, timeout=300)


def test_start_poll_stop_real_run(panel_runs):
    assert {"Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant"} <= set(panel_runs["tasks"])
    run = panel_runs["run"]
    assert run["states"][0] in ("starting", "running")
    assert "running" in run["states"]
    assert run["states"][-1] == "stopped" and not run["running"]
    started, error = panel_runs["second_start"]
    assert not started and "live" in error
    status = run["status"]
    assert status["epoch"] >= 3 and status["frames"] > 0
    assert status["last_checkpoint"] and Path(status["last_checkpoint"]).is_file()
    assert run["epochs"][:3] == [1, 2, 3] and len(run["rewards"]) == len(run["lengths"]) == len(run["epochs"])
    assert any(r is not None for r in run["rewards"])
    assert any(line.startswith("checkpoint: ") for line in run["lines"])
    assert 0 < run["progress"] < 1
    assert run["runs"] and run["runs"][-1][1] == "stopped"


def test_failures_keep_options_and_history(panel_runs):
    epochs = panel_runs["run"]["epochs"]
    invalid = panel_runs["invalid"]
    assert not invalid["started"] and "num_envs" in invalid["error"] and "\n" not in invalid["error"]
    assert invalid["history"] == len(epochs) and invalid["state"] == "stopped"
    failed = panel_runs["failed"]
    assert failed["state"] == "failed"
    assert failed["error"] and "\n" not in failed["error"]
    assert failed["history"] == epochs  # the failed run never reached an epoch: the last run's history stays
    assert failed["options"] == {"num_envs": 4, "device": "cpu", "physics": None, "frontend": None, "max_iterations": 200,
                                 "seed": 7}
    assert "error" in failed["events"]


def test_physics_option_reaches_the_run_options():
    model = TrainingPanelModel(tasks=["Stripe-Forest-Walk-Ant"], physics="physx")  # as the Kit extension starts
    assert model.train_options().physics == "physx"
    assert model.set_option("physics", "newton") and model.train_options().physics == "newton"
    assert not model.set_option("physics", "bullet")
    assert "physics" in model.error and "newton, physx" in model.error and "\n" not in model.error
    assert model.train_options().physics == "newton"


def test_frontend_option_reaches_the_run_options_and_the_headless_command():
    from stripe_kit.errors import SpecError
    from stripe_kit.train.headless import train_arguments

    model = TrainingPanelModel(tasks=["Stripe-Forest-Walk-Ant"])
    assert model.train_options().frontend is None  # the device's faster one
    assert model.set_option("frontend", "warp") and model.train_options().frontend == "warp"
    command = train_arguments(model.train_options())
    assert command[command.index("--frontend") + 1] == "warp"
    assert not model.set_option("frontend", "jax")
    assert "frontend" in model.error and "torch, warp" in model.error and "\n" not in model.error
    assert model.set_option("physics", "physx")
    with pytest.raises(SpecError, match="frontend: got 'warp'; expected torch with physics 'physx'"):
        model.train_options().validate()  # what a start checks first
