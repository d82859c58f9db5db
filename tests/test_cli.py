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
