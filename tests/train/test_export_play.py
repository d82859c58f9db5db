"""Export (ONNX, TorchScript) against rl_games' own player, play through the CLI, live play following a run, and the
runs listing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import gym
import numpy as np
import pytest
import torch
from support import run_cli, run_python
from train_support import TASK, TASK_OBS_DIM


@pytest.fixture(scope="module")
def exported(resume_runs, tmp_path_factory):
    from stripe_kit.train.export import export_policy

    out = tmp_path_factory.mktemp("exported")
    return export_policy(resume_runs["a"]["run_dir"], out)


def _rl_games_player(checkpoint: Path):
    """rl_games' PpoPlayerContinuous for the checkpoint, built from the run's own agent config, without an env."""
    from rl_games.torch_runner import Runner

    state = torch.load(checkpoint, weights_only=False)
    stripe = state["stripe"]
    from stripe_kit.task.spec import REGISTERED
    from stripe_kit.train.tasks import load_tasks

    load_tasks()
    agent_cfg = REGISTERED[stripe["task"]].agent_cfg("check", device="cpu")
    clip_obs, clip_actions = agent_cfg["params"]["env"]["clip_observations"], agent_cfg["params"]["env"]["clip_actions"]
    agent_cfg["params"]["config"]["env_info"] = {
        "observation_space": gym.spaces.Box(-clip_obs, clip_obs, (stripe["observation_dim"],)),
        "action_space": gym.spaces.Box(-clip_actions, clip_actions, (stripe["action_dim"],)),
    }
    runner = Runner()
    runner.load(agent_cfg)
    player = runner.create_player()
    player.restore(str(checkpoint))
    player.has_batch_dimension = True
    return player, clip_obs, clip_actions


def test_exported_onnx_and_torchscript_act_like_the_pytorch_policy(exported, resume_runs):
    import onnxruntime

    checkpoint = Path(resume_runs["a"]["run_dir"]) / "nn" / "last.pth"
    assert exported.checkpoint == checkpoint and (exported.observation_dim, exported.action_dim) == (TASK_OBS_DIM, 8)
    player, clip_obs, clip_actions = _rl_games_player(checkpoint)
    obs = torch.randn(512, TASK_OBS_DIM, generator=torch.Generator().manual_seed(1)) * 4.0  # well beyond the clip range
    # what training and play do: the wrapper clips observations, rl_games normalises them and rescales the mean
    # action, the wrapper clips actions
    with torch.no_grad():
        expected = torch.clamp(player.get_action(torch.clamp(obs, -clip_obs, clip_obs), is_deterministic=True),
                               -clip_actions, clip_actions)
    assert expected.abs().max() > 0
    onnx_actions = onnxruntime.InferenceSession(str(exported.files["onnx"])).run(None, {"obs": obs.numpy()})[0]
    script_actions = torch.jit.load(str(exported.files["torchscript"]))(obs).detach()
    onnx_diff = float(np.abs(onnx_actions - expected.numpy()).max())
    script_diff = float((script_actions - expected).abs().max())
    print(f"max abs diff vs rl_games player: onnx {onnx_diff:.2e}, torchscript {script_diff:.2e}")
    assert onnx_diff < 1e-5 and script_diff < 1e-5
    # any batch size
    single = onnxruntime.InferenceSession(str(exported.files["onnx"])).run(None, {"obs": obs[:1].numpy()})[0]
    assert single.shape == (1, 8)
    info = json.loads((exported.files["onnx"].parent / "policy.json").read_text())
    assert info["task"] == TASK and info["epoch"] == 4 and info["normalization"] == "baked in"
    assert max(info["max_abs_diff_vs_pytorch"].values()) < 1e-5


def test_cli_play_reports_return_length_and_success(stripe_kit_bin, resume_runs):
    proc = run_cli(stripe_kit_bin, "play", resume_runs["a"]["run_dir"], "--episodes", "4", "--num-envs", "4",
                   "sim.episode_length_s=0.5")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    lines = {line.split(":")[0]: line for line in proc.stdout.splitlines() if ":" in line}
    assert "(epoch 4)" in lines["checkpoint"]
    assert lines["episodes"].split()[1] == "4"
    assert "mean" in lines["return"] and "std" in lines["return"]
    mean_length = float(lines["length"].split()[2])
    assert 0 < mean_length <= 30  # episodes of at most 0.5 s at 60 Hz
    assert "n/a" in lines["success"]  # the walk task has no goal_reached termination


def test_runs_lists_task_status_epochs_and_best_reward(capsys, resume_runs):
    from stripe_kit.cli.main import main
    from stripe_kit.train.runs import list_runs

    root = resume_runs["root"]
    runs = {run.name: run for run in list_runs(root)}
    assert runs["A"].task == TASK and runs["A"].status == "finished"
    assert (runs["A"].epoch, runs["A"].max_epochs) == (4, 4)
    assert runs["B"].status == "finished" and runs["B"].epoch == 4
    assert main(["runs", "--runs-dir", root]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:5] == ["task", "run", "status", "epochs", "best"]
    assert any(line.split()[:4] == [TASK, "A", "finished", "4/4"] for line in out), out


def test_live_play_following_a_run_swaps_in_each_newer_checkpoint(resume_runs, tmp_path):
    # a copy of run A, played with follow=True; run B's policy then lands on its nn/last.pth by an atomic rename,
    # as a live training run writes its newest checkpoint every epoch
    run = tmp_path / "A"
    shutil.copytree(resume_runs["a"]["run_dir"], run)
    newer = Path(resume_runs["r"]["run_dir"]) / "nn" / "last.pth"
    result = run_python(
        f"""
        import json, os, shutil, time
        from stripe_kit.train.live_play import LivePlay

        def until(done, seconds=300):
            deadline = time.monotonic() + seconds
            while not done() and not play.status().ended and time.monotonic() < deadline:
                time.sleep(0.2)

        play = LivePlay({str(run)!r}, follow=True, num_envs=2, device="cpu", realtime=False).start()
        until(lambda: play.status().state == "playing" and play.status().steps > 10)
        before = play.status()
        shutil.copy({str(newer)!r}, {str(run / "nn" / "last.pth.tmp")!r})
        os.replace({str(run / "nn" / "last.pth.tmp")!r}, {str(run / "nn" / "last.pth")!r})
        until(lambda: play.status().swaps > 0)
        swapped = play.status()
        until(lambda: play.status().steps > swapped.steps + 10, 120)
        after = play.status()
        play.stop()
        play.wait(60)
        print("RESULT " + json.dumps({{name: [s.state, s.swaps, s.steps, s.error] for name, s in
                                      (("before", before), ("swapped", swapped), ("after", after))}}))
        """
    )
    assert result["before"][:2] == ["playing", 0], result
    assert result["swapped"][1] == 1 and result["swapped"][3] is None, result  # the newer policy, loaded once
    assert result["after"][0] == "playing" and result["after"][2] > result["swapped"][2], result  # and played on
