"""End to end: the CLI trains the showcase task on Newton (kitless, CPU) with rl_games, and Isaac Lab's CLI sees it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from support import run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_stripe_kit_train_writes_a_complete_run_directory(stripe_kit_bin, tmp_path):
    proc = run_cli(
        stripe_kit_bin, "train", "--num-envs", "8", "--max-iterations", "3", "--device", "cpu",
        "--seed", "7", "--run-name", "e2e", "--runs-dir", str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = tmp_path / "Stripe-Forest-Walk-Ant" / "e2e"
    assert f"run directory: {run_dir}" in proc.stdout
    assert "checkpoint:" in proc.stdout and "logs:" in proc.stdout

    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["task"] == "Stripe-Forest-Walk-Ant"
    assert manifest["seed"] == 7 and manifest["device"] == "cpu" and manifest["num_envs"] == 8
    assert manifest["status"] == "finished"
    assert manifest["packages"]["isaaclab"] == "3.0.0"

    env_cfg = yaml.unsafe_load((run_dir / "params" / "env.yaml").read_text())
    assert env_cfg["scene"]["num_envs"] == 8 and env_cfg["seed"] == 7
    assert env_cfg["scene_spec"]["name"] == "forest"
    agent_cfg = yaml.unsafe_load((run_dir / "params" / "agent.yaml").read_text())
    assert agent_cfg["params"]["config"]["max_epochs"] == 3
    assert agent_cfg["params"]["config"]["device"] == "cpu"

    checkpoints = list((run_dir / "nn").glob("*.pth"))
    assert checkpoints, list(run_dir.rglob("*"))
    # last.pth is the final epoch's (best.pth may be an earlier epoch's, once an episode has ended)
    state = torch.load(run_dir / "nn" / "last.pth", map_location="cpu", weights_only=False)
    assert state["epoch"] == 3
    assert any("a2c_network.actor_mlp" in key for key in state["model"])
    assert state["frame"] == 3 * 8 * 32

    events = EventAccumulator(str(run_dir / "summaries"))
    events.Reload()
    assert "performance/step_fps" in events.Tags()["scalars"], events.Tags()


def test_stripe_kit_train_on_physx_checkpoints(stripe_kit_bin, tmp_path):
    """The PhysX issue's acceptance command: kitless PhysX (ovphysx) trains the forest walk and checkpoints."""
    proc = run_cli(
        stripe_kit_bin, "train", "--task", "Stripe-Forest-Walk-Ant", "--physics", "physx", "--device", "cpu",
        "--num-envs", "4", "--max-iterations", "2", "--run-name", "physx", "--runs-dir", str(tmp_path),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = tmp_path / "Stripe-Forest-Walk-Ant" / "physx"
    env_cfg = yaml.unsafe_load((run_dir / "params" / "env.yaml").read_text())
    assert "ovphysx" in env_cfg["sim"]["physics"], env_cfg["sim"]["physics"]  # PhysxAutoCfg, not Newton's config
    state = torch.load(run_dir / "nn" / "last.pth", map_location="cpu", weights_only=False)
    assert state["epoch"] == 2 and state["frame"] == 2 * 4 * 32
    assert all(torch.isfinite(value).all() for value in state["model"].values() if value.is_floating_point())


def test_stripe_kit_train_and_play_on_the_warp_frontend(stripe_kit_bin, tmp_path):
    """``--frontend warp``: the run is built on Isaac Lab's Warp frontend (twins eagerly on a CPU), checkpoints,
    records its frontend, and plays back on it."""
    proc = run_cli(
        stripe_kit_bin, "train", "--frontend", "warp", "--device", "cpu", "--num-envs", "4", "--max-iterations", "2",
        "--run-name", "warp", "--runs-dir", str(tmp_path), "agent.horizon_length=16",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    run_dir = tmp_path / "Stripe-Forest-Walk-Ant" / "warp"
    assert json.loads((run_dir / "run.json").read_text())["frontend"] == "warp"
    assert "ManagerCallSwitch configuration" in (run_dir / "console.log").read_text()  # Isaac Lab's Warp env built it
    state = torch.load(run_dir / "nn" / "last.pth", map_location="cpu", weights_only=False)
    assert state["epoch"] == 2 and state["frame"] == 2 * 4 * 16
    played = run_cli(stripe_kit_bin, "play", str(run_dir), "--frontend", "warp", "--episodes", "1", "--num-envs", "1",
                     "--device", "cpu", "sim.episode_length_s=1")
    assert played.returncode == 0, played.stdout[-3000:] + played.stderr[-3000:]
    assert "episodes:   1" in played.stdout, played.stdout


def _listed_tasks(stdout: str) -> set[str]:
    """Task ids in the rows of Isaac Lab's ``list_envs`` table."""
    return {cells[2] for line in stdout.splitlines() if len(cells := [c.strip() for c in line.split("|")]) > 3
            and cells[1].isdigit()}


def test_isaaclab_list_envs_shows_the_tasks_from_the_repository_root_and_elsewhere(tmp_path):
    # the README's command, run where the README runs it: Isaac Lab lists the project's own tasks there
    root = run_cli(sys.executable, "-m", "isaaclab", "list_envs", cwd=REPO_ROOT)
    assert root.returncode == 0, root.stderr[-3000:]
    assert _listed_tasks(root.stdout) == {"Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant",
                                         "Stripe-Forest-Velocity-Go2"}, root.stdout
    assert "stripe_forest.tasks:Stripe_Forest_Walk_Ant_env_cfg" in root.stdout
    # outside the project: every registered task, Isaac Lab's own included
    elsewhere = _listed_tasks(run_cli(sys.executable, "-m", "isaaclab", "list_envs", cwd=tmp_path).stdout)
    assert {"Stripe-Forest-Walk-Ant", "Stripe-Forest-Goal-Ant", "Isaac-Ant"} <= elsewhere
    keyword = run_cli(sys.executable, "-m", "isaaclab", "list_envs", "--keyword", "Forest-Goal", cwd=REPO_ROOT)
    assert _listed_tasks(keyword.stdout) == {"Stripe-Forest-Goal-Ant"}, keyword.stdout


def test_isaaclab_cli_trains_the_tasks(tmp_path):

    proc = run_cli(
        sys.executable, "-m", "isaaclab", "train", "--rl_library", "rl_games", "--task", "Stripe-Forest-Walk-Ant",
        "--device", "cpu", "--num_envs", "8", "--max_iterations", "2", cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    checkpoints = list((tmp_path / "logs" / "rl_games").rglob("*.pth"))
    assert checkpoints, proc.stdout[-2000:]
