"""The ``stripe-kit`` command line: help, and one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import pytest

from support import run_cli


def test_help_lists_each_command_with_one_line(stripe_kit_bin):
    proc = run_cli(stripe_kit_bin, "--help")
    assert proc.returncode == 0
    for command in ("train", "list"):
        assert any(line.split()[:1] == [command] and len(line.split()) > 1 for line in proc.stdout.splitlines()), proc.stdout


def test_list_shows_showcase_task_and_scene(stripe_kit_bin):
    proc = run_cli(stripe_kit_bin, "list")
    assert proc.returncode == 0, proc.stderr
    assert "Stripe-Forest-Walk-Ant" in proc.stdout
    assert "forest" in proc.stdout


@pytest.mark.parametrize(
    "args, named",
    [
        (["bogus"], "bogus"),
        (["train", "--task", "Stripe-Nope"], "Stripe-Nope"),
        (["train", "--num-envs", "-3"], "-3"),
        (["train", "--num-envs", "many"], "many"),
        (["train", "--device", "tpu"], "tpu"),
        (["train", "--physics", "bullet"], "bullet"),
        (["train", "--max-iterations", "0"], "0"),
        (["train", "--seed", "-1"], "-1"),
        (["train", "--frobnicate"], "--frobnicate"),
    ],
)
def test_bad_input_is_one_line_exit_2_without_traceback(stripe_kit_bin, args, named):
    proc = run_cli(stripe_kit_bin, *args)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("stripe-kit")]
    assert len(errors) == 1, proc.stderr
    assert named in errors[0]
    assert "Traceback" not in proc.stderr

NOISE = ("DeprecationWarning", "set_joint_effort_target_index", "MAX EPOCHS NUM!", "unmaintained since 2022",
         "FutureWarning", "[INFO]", "Started to train")
"""What Isaac Lab, rl_games and gym printed on the terminal of ``stripe-kit train`` before it kept to its own lines."""


def test_train_prints_only_its_own_lines_and_real_warnings(stripe_kit_bin, tmp_path):
    # a tree density of 0 makes the scene's one real warning: no tree can be placed
    proc = run_cli(stripe_kit_bin, "train", "--num-envs", "2", "--max-iterations", "2", "--device", "cpu",
                   "--runs-dir", str(tmp_path), "--run-name", "quiet", "--progress", "lines",
                   "agent.horizon_length=16", "agent.torch_compile=false", "env.scene_spec.assets.tree.density_range=0,0")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    output = proc.stdout + proc.stderr
    assert [noise for noise in NOISE if noise in output] == [], output
    assert "PlacementWarning: assets.tree (TreeSpec) can never place an instance" in proc.stderr, proc.stderr
    stdout = [line for line in proc.stdout.splitlines() if line.strip()]
    own = ("[stripe-kit] ", "run directory:", "checkpoint:", "logs:", "status:")
    assert all(line.startswith(own) for line in stdout), stdout
    # what the libraries printed is kept in the run directory
    console = (tmp_path / "Stripe-Forest-Walk-Ant" / "quiet" / "console.log").read_text()
    assert "MAX EPOCHS NUM!" in console and "[INFO]" in console

