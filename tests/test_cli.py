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
        (["train", "--frontend", "jax"], "jax"),
        (["train", "--frontend", "warp", "--physics", "physx"], "warp"),
        (["play", "runs/none", "--frontend", "jax"], "jax"),
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


def test_every_command_that_takes_a_task_or_scene_takes_tasks_sources():
    from stripe_kit.cli.main import build_parser

    parser = build_parser()
    positional = {"scene": ["preview", "forest"], "play": ["run"], "export": ["run"]}
    for command in ("scene", "train", "list", "play", "export", "gui"):
        args, extras = parser.parse_known_args([command, *positional.get(command, []), "--tasks", "a.py",
                                                "--tasks", "pkg.tasks"])
        assert args.tasks == ["a.py", "pkg.tasks"] and not extras, command


def test_export_of_a_folder_that_is_not_a_run_says_so(tmp_path, capsys):
    from stripe_kit.cli.main import main

    assert main(["export", str(tmp_path)]) == 2
    (error,) = capsys.readouterr().err.splitlines()
    assert error.startswith("stripe-kit: error:") and str(tmp_path) in error
    assert "not a run directory" in error and ".pth" in error and "first epoch" not in error
    # a run directory without a checkpoint yet
    (tmp_path / "run.json").write_text('{"task": "Stripe-Forest-Walk-Ant"}')
    assert main(["export", str(tmp_path)]) == 2
    (error,) = capsys.readouterr().err.splitlines()
    assert "no checkpoint in this run directory (it ended before its first epoch)" in error


def test_readme_commands_run_the_venv_script():
    """``make`` does not put stripe-kit on the PATH: every command line says .venv/bin/stripe-kit."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    lines = [line.strip() for block in re.findall(r"^```bash\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
             for line in block.splitlines()]
    commands = [line for line in lines if "stripe-kit" in line.split("#")[0]]
    assert len(commands) > 15
    bare = [line for line in commands if not line.startswith(".venv/bin/stripe-kit ")]
    assert not bare, bare
    prose = re.sub(r"^```.*?^```", "", readme, flags=re.MULTILINE | re.DOTALL)
    assert not re.findall(r"`stripe-kit [a-z]", prose), re.findall(r"`stripe-kit [^`]*`", prose)
