"""Resume: run B (2 epochs, then resumed to 4) matches run A (4 epochs straight) where it must."""

from __future__ import annotations

from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from train_support import TASK_OBS_DIM, metrics_lines


def _max_diff(left: dict, right: dict) -> float:
    assert left.keys() == right.keys()
    return max(float((left[key].double() - right[key].double()).abs().max()) for key in left)


def test_runs_end_as_asked(resume_runs):
    assert resume_runs["a"]["state"] == "finished" and resume_runs["a"]["epoch"] == 4
    assert resume_runs["b"]["state"] == "finished" and resume_runs["b"]["epoch"] == 2
    assert resume_runs["r"]["state"] == "finished" and resume_runs["r"]["epoch"] == 4
    assert resume_runs["r"]["run_dir"] == resume_runs["b"]["run_dir"]


def test_resumed_state_equals_the_uninterrupted_run_at_that_epoch(resume_runs):
    a_dir, root = Path(resume_runs["a"]["run_dir"]), Path(resume_runs["root"])
    at_two = torch.load(a_dir / "nn" / "epoch_2.pth", weights_only=False)
    restored = torch.load(root / "restored.pt", weights_only=False)
    assert (restored["epoch"], restored["frame"]) == (at_two["epoch"], at_two["frame"]) == (2, 2 * 4 * 16)
    assert restored["last_lr"] == at_two["last_lr"]
    # model weights with the observation and value normalisers
    assert any("running_mean_std" in key for key in restored["model"])
    assert _max_diff({k.removeprefix("_orig_mod."): v for k, v in restored["model"].items()}, at_two["model"]) == 0.0
    # optimizer: every moment tensor and the step counts, and the learning rate in its param groups
    saved, loaded = at_two["optimizer"], restored["optimizer"]
    assert saved["state"].keys() == loaded["state"].keys() and saved["state"]
    for index, entry in saved["state"].items():
        for name, value in entry.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(loaded["state"][index][name])), (index, name)
    assert [g["lr"] for g in saved["param_groups"]] == [g["lr"] for g in loaded["param_groups"]]
    assert restored["curriculum_restored"]
    assert at_two["curriculum"]["terrain_levels"].shape == (4,) and at_two["rng"]["torch"] is not None


def test_resumed_counters_and_metrics_continue(resume_runs):
    a_dir, b_dir = Path(resume_runs["a"]["run_dir"]), Path(resume_runs["b"]["run_dir"])
    a_last = torch.load(a_dir / "nn" / "last.pth", weights_only=False)
    b_last = torch.load(b_dir / "nn" / "last.pth", weights_only=False)
    assert (b_last["epoch"], b_last["frame"]) == (a_last["epoch"], a_last["frame"]) == (4, 4 * 4 * 16)
    assert resume_runs["r"]["frames"] == resume_runs["a"]["frames"]
    records = metrics_lines(b_dir)
    assert [r["epoch"] for r in records] == [1, 2, 3, 4]
    assert [r["frames"] for r in records] == [64, 128, 192, 256]
    assert all(r["fps"] and r["fps"] > 0 for r in records)
    assert records[2]["time_s"] >= records[1]["time_s"]
    # TensorBoard: rl_games' epoch counter continues in a second event file instead of restarting at 1
    events = EventAccumulator(str(b_dir / "summaries"))
    events.Reload()
    epochs = sorted(event.value for event in events.Scalars("info/epochs"))
    assert epochs == [1, 2, 3, 4], epochs
    assert len(list((b_dir / "summaries").glob("events.out.tfevents.*"))) == 2


def test_run_directory_is_complete(resume_runs):
    import json

    b_dir = Path(resume_runs["b"]["run_dir"])
    manifest = json.loads((b_dir / "run.json").read_text())
    assert manifest["status"] == "finished" and manifest["epoch"] == 4 and manifest["max_epochs"] == 4
    assert manifest["resumes"][0]["from_epoch"] == 2
    assert manifest["observation_dim"] == TASK_OBS_DIM and manifest["action_dim"] == 8
    assert manifest["overrides"][0] == "agent.horizon_length=16"
    assert (b_dir / "params" / "env.yaml").is_file() and (b_dir / "params" / "agent.yaml").is_file()
    assert (b_dir / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (b_dir / "nn").glob("*.pth")) == [
        "epoch_1.pth", "epoch_2.pth", "epoch_3.pth", "epoch_4.pth", "last.pth"]
    assert not list((b_dir / "nn").glob("*.tmp")) and not list((b_dir / "nn").glob(".*.tmp"))
