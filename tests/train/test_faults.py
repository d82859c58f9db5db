"""Faults: kill -9 (during checkpoint writes and mid-training), SIGTERM, NaN, corrupt or foreign checkpoints."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from support import run_cli
from train_support import FAST, TASK, metrics_lines, start_cli, wait_for_epochs

WRITER = textwrap.dedent(
    """
    import sys, torch
    from stripe_kit.train.checkpoint import save_atomic
    path, start = sys.argv[1], int(sys.argv[2])
    torch.manual_seed(0)
    weights = torch.randn(4_000_000)  # 16 MB: each write takes long enough to be killed in the middle
    for epoch in range(start, start + 10**6):
        save_atomic({"epoch": epoch, "model": {"w": weights + epoch}}, path)
        print(epoch, flush=True)
    """
)


def test_kill_9_during_checkpoint_writes_leaves_the_previous_checkpoint_loadable(tmp_path):
    """Each kill lands while the writer's temporary file exists, so mid-write (a kill at a random moment missed
    every write now and then on a loaded machine)."""
    path = tmp_path / "last.pth"
    torch.manual_seed(0)
    weights = torch.randn(4_000_000)
    epoch = 0
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(epoch)],
                                stdout=subprocess.PIPE, text=True)
        proc.stdout.readline()  # one whole write done
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(f".last.pth.{proc.pid}.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.0005)  # until this writer's next write has begun
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = torch.load(path, weights_only=False)
        assert torch.allclose(state["model"]["w"] - state["epoch"], weights, atol=1e-4)  # one whole write
        assert state["epoch"] >= epoch
        epoch = state["epoch"] + 1
        assert [p.name for p in tmp_path.glob("*.pth")] == ["last.pth"]  # temporaries never look like checkpoints
    leftovers = list(tmp_path.glob(".*.tmp"))
    print(f"{len(leftovers)} of 6 kills landed mid-write")
    assert leftovers, "no kill landed during a write; the test proved nothing"
    from stripe_kit.train.checkpoint import remove_stale_temporaries

    assert remove_stale_temporaries(tmp_path) == sorted(leftovers)


@pytest.fixture(scope="module")
def killed_run(stripe_kit_bin, tmp_path_factory) -> Path:
    """A CLI run killed with SIGKILL after its third epoch (torch.compile on: the default path)."""
    root = tmp_path_factory.mktemp("killed")
    overrides = [o for o in FAST if "torch_compile" not in o]
    proc = start_cli(stripe_kit_bin, "train", "--num-envs", "4", "--device", "cpu", "--max-iterations", "1000",
                     "--run-name", "k", "--runs-dir", str(root), *overrides, log=root / "first")
    run_dir = root / TASK / "k"
    try:
        wait_for_epochs(run_dir, 3, proc)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return run_dir


def test_kill_9_mid_training_leaves_last_checkpoint_loadable(killed_run):
    state = torch.load(killed_run / "nn" / "last.pth", weights_only=False)
    epochs = [r["epoch"] for r in metrics_lines(killed_run)]
    assert state["epoch"] >= 3 and state["epoch"] in epochs
    assert not any(key.startswith("_orig_mod.") for key in state["model"])  # compiled model, clean keys
    assert all(p.suffix == ".pth" and not p.name.startswith(".") for p in (killed_run / "nn").glob("*.pth"))
    assert json.loads((killed_run / "run.json").read_text())["status"] == "running"  # it never got to say more


def test_resume_after_kill_then_sigterm_stops_at_epoch_boundary_with_exit_0(stripe_kit_bin, killed_run):
    before = torch.load(killed_run / "nn" / "last.pth", weights_only=False)["epoch"]
    log = killed_run.parent / "resumed"
    proc = start_cli(stripe_kit_bin, "train", "--resume", str(killed_run), log=log)
    try:
        wait_for_epochs(killed_run, before + 1, proc)
        asked = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()
    assert proc.returncode == 0, out[-2000:] + err[-3000:]
    print(f"SIGTERM to exit: {time.monotonic() - asked:.2f} s")
    assert "SIGTERM received" in err and "Traceback" not in err
    assert "status:        stopped" in out and f"stripe-kit train --resume {killed_run}" in out
    records = metrics_lines(killed_run)
    epochs = [r["epoch"] for r in records]
    assert epochs == list(range(1, epochs[-1] + 1)), epochs  # continues, no duplicate or missing epoch
    state = torch.load(killed_run / "nn" / "last.pth", weights_only=False)
    assert state["epoch"] == epochs[-1] > before and state["frame"] == records[-1]["frames"]
    manifest = json.loads((killed_run / "run.json").read_text())
    assert manifest["status"] == "stopped" and manifest["stop_reason"] == "SIGTERM received"
    assert manifest["resumes"][0]["from_epoch"] == before
    assert not list((killed_run / "nn").glob(".*.tmp"))


def test_nan_rewards_exit_non_zero_with_one_line_naming_the_epoch(stripe_kit_bin, tmp_path):
    proc = run_cli(stripe_kit_bin, "train", "--num-envs", "4", "--device", "cpu", "--max-iterations", "3",
                   "--run-name", "n", "--runs-dir", str(tmp_path), *FAST, "env.rewards.alive.weight=nan")
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("stripe-kit")]
    assert len(errors) == 1, proc.stderr[-3000:]
    assert errors[0].startswith("stripe-kit: error: NaN or infinite rewards") and "at epoch 1" in errors[0]
    assert errors[0].endswith("no checkpoint was written before it")
    assert "Traceback" not in proc.stderr
    assert json.loads((tmp_path / TASK / "n" / "run.json").read_text())["status"] == "failed"


# --- corrupt, foreign and incompatible checkpoints: one line naming the file, exit 2, before any simulation ---

@pytest.fixture()
def run_copy(resume_runs, tmp_path) -> Path:
    target = tmp_path / TASK / "copy"
    shutil.copytree(resume_runs["a"]["run_dir"], target, ignore=shutil.ignore_patterns(".lock", "summaries"))
    return target


def _main(capsys, *argv: str) -> tuple[int, list[str]]:
    from stripe_kit.cli.main import main

    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, [line for line in err.splitlines() if line.startswith("stripe-kit")]


def test_truncated_checkpoint_is_one_line_exit_2(stripe_kit_bin, run_copy):
    last = run_copy / "nn" / "last.pth"
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    proc = run_cli(stripe_kit_bin, "train", "--resume", str(run_copy), "--max-iterations", "8")
    errors = [line for line in proc.stderr.splitlines() if line.startswith("stripe-kit")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr[-3000:]
    assert str(last) in errors[0] and "truncated or corrupt" in errors[0]
    assert "Traceback" not in proc.stderr


def test_checkpoint_with_other_network_shape_is_one_line_exit_2(capsys, run_copy):
    last = run_copy / "nn" / "last.pth"
    state = torch.load(last, weights_only=False)
    state["model"]["a2c_network.mu.weight"] = torch.zeros(12, state["model"]["a2c_network.mu.weight"].shape[1])
    torch.save(state, last)
    code, errors = _main(capsys, "train", "--resume", str(run_copy), "--max-iterations", "8")
    assert code == 2 and len(errors) == 1
    assert str(last) in errors[0] and "network shape mismatch: a2c_network.mu.weight is [12, 64]" in errors[0]
    code, errors = _main(capsys, "export", str(last))
    assert code == 2 and "a2c_network.mu" in errors[0]


def test_checkpoint_of_another_task_is_one_line_exit_2(capsys, run_copy):
    last = run_copy / "nn" / "last.pth"
    state = torch.load(last, weights_only=False)
    state["stripe"]["task"] = "Stripe-Forest-Goal-Ant"
    torch.save(state, last)
    code, errors = _main(capsys, "train", "--resume", str(run_copy), "--max-iterations", "8")
    assert code == 2 and errors == [f"stripe-kit: error: {last}: written for task Stripe-Forest-Goal-Ant, not {TASK}"]


def test_file_that_is_no_checkpoint_is_one_line_exit_2(capsys, tmp_path):
    junk = tmp_path / "junk.pth"
    torch.save({"hello": 1}, junk)
    code, errors = _main(capsys, "export", str(junk))
    assert code == 2 and errors == [f"stripe-kit: error: {junk}: not an rl_games checkpoint (no 'model' weights in it)"]


@pytest.mark.parametrize(
    "argv, named",
    [
        (["train", "agent.learning_rate=fast"], "agent.learning_rate"),
        (["train", "agent.nope=1"], "agent.nope"),
        (["train", "env.rewards.alivee.weight=1"], "env.rewards.alivee"),
        (["train", "sim.episode_length_s=-3"], "sim.episode_length_s"),
        (["train", "physics.x=1"], "physics.x"),
        (["train", "learning_rate"], "learning_rate"),
        (["train", "--resume", "/nonexistent/run"], "/nonexistent/run"),
        (["train", "--checkpoint-every", "0"], "0"),
        (["play", "/nonexistent/run"], "/nonexistent/run"),
        (["export", "/nonexistent/run.pth"], "/nonexistent/run.pth"),
        (["runs", "x=1"], "x=1"),
    ],
)
def test_bad_cli_input_is_one_line_exit_2(capsys, argv, named):
    code, errors = _main(capsys, *argv)
    assert code == 2 and len(errors) == 1 and named in errors[0], errors


def test_resume_rejects_conflicting_options(capsys, run_copy):
    code, errors = _main(capsys, "train", "--resume", str(run_copy), "--task", "Stripe-Forest-Goal-Ant")
    assert code == 2 and "the resumed run's task" in errors[0]
    code, errors = _main(capsys, "train", "--resume", str(run_copy), "--num-envs", "8")
    assert code == 2 and "num_envs" in errors[0]


def test_resuming_a_finished_run_does_nothing(capsys, run_copy):
    from stripe_kit.cli.main import main

    assert main(["train", "--resume", str(run_copy)]) == 0
    out = capsys.readouterr().out
    assert "status:        finished at epoch 4/4" in out and "larger --max-iterations" in out


def test_second_process_cannot_train_a_locked_run(capsys, run_copy):
    import fcntl

    with open(run_copy / ".lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        code, errors = _main(capsys, "train", "--resume", str(run_copy), "--max-iterations", "8")
    assert code == 2 and "another process is training this run directory" in errors[0]
    assert os.path.exists(run_copy / ".lock")
