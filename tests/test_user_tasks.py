"""Tasks and scenes in the user's own files (``--tasks``, ``STRIPE_KIT_TASKS``), and the README's section
"Your own scene and task" run as written, with tiny sizes."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from support import run_cli

REPO_ROOT = Path(__file__).resolve().parents[1]
SECTION = "### Your own scene and task"
FAST = ["agent.horizon_length=16", "agent.num_minibatches=2", "agent.mini_epochs=2", "agent.torch_compile=false"]
"""Overrides that keep a CPU epoch well under a second."""


def readme_section(title: str) -> str:
    """The text of a README section, up to the next heading of its level or above."""
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index(title + "\n")
    end = re.search(r"^#{2,3} ", text[start + len(title):], flags=re.MULTILINE)
    return text[start:start + len(title) + end.start()] if end else text[start:]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _set_option(args: list[str], option: str, value: str) -> None:
    assert option in args, f"the README's command {args} has no {option} for the test to shrink"
    args[args.index(option) + 1] = value


def tiny(args: list[str]) -> list[str]:
    """A README command with test sizes: 4 envs, 2 epochs of 16 steps, 2 short episodes."""
    args = list(args)
    if args[0] == "train":
        _set_option(args, "--num-envs", "4")
        _set_option(args, "--max-iterations", "2")
        _set_option(args, "--device", "cpu")
        args += FAST
    elif args[0] == "play":
        _set_option(args, "--episodes", "2")
        args += ["--num-envs", "2", "--device", "cpu", "sim.episode_length_s=0.5"]
    return args


def run_env(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=600)


def errors_of(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.startswith("stripe-kit")]


@pytest.fixture(scope="module")
def readme_run(stripe_kit_bin, tmp_path_factory) -> dict:
    """The README section's file written as my_tasks.py and each of its commands run in that folder."""
    section = readme_section(SECTION)
    work = tmp_path_factory.mktemp("readme")
    (python,) = code_blocks(section, "python")
    (work / "my_tasks.py").write_text(python)
    commands = [shlex.split(line, comments=True) for block in code_blocks(section, "bash") for line in block.splitlines()]
    commands = [args for args in commands if args]
    assert [args[1] for args in commands] == ["list", "scene", "scene", "train", "play", "export"]
    outputs = {}
    for args in commands:
        assert args[0] == ".venv/bin/stripe-kit", args
        args = tiny(args[1:])
        proc = run_cli(stripe_kit_bin, *args, cwd=work)
        assert proc.returncode == 0, f"{args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        outputs[" ".join(args[:2])] = proc.stdout
    return {"work": work, "outputs": outputs}


def test_readme_section_lists_previews_trains_plays_and_exports_the_users_task(readme_run):
    work, out = readme_run["work"], readme_run["outputs"]
    listing = out["list --tasks"]
    assert re.search(r"^  Paddock-Walk-Ant .*between fence posts", listing, flags=re.MULTILINE), listing
    assert re.search(r"^  paddock +SceneSpec$", listing, flags=re.MULTILINE), listing
    assert (work / "paddock.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert re.search(r"\d+ post, \d+ rock", out["scene preview"]), out["scene preview"]
    from pxr import Usd

    stage = Usd.Stage.Open(str(work / "paddock.usda"))
    paths = [str(prim.GetPath()) for prim in stage.Traverse()]
    assert "/World/StripeScene/Post/Prototypes/Variant0" in paths
    assert "/World/StripeScene/Looks/Color966e46" in paths  # the posts' face colour (150, 110, 70), as a material
    assert any(path.startswith("/World/StripeScene/Colliders/Post/Capsule_") for path in paths)

    run_dir = work / "runs" / "Paddock-Walk-Ant" / "first"
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "finished" and manifest["epoch"] == 2
    assert manifest["tasks"] == [str(work / "my_tasks.py")]
    assert "task:       Paddock-Walk-Ant" in out["play runs/Paddock-Walk-Ant/first"]
    assert "episodes:   2 " in out["play runs/Paddock-Walk-Ant/first"]
    info = json.loads((run_dir / "exported" / "policy.json").read_text())
    assert info["task"] == "Paddock-Walk-Ant" and (run_dir / "exported" / "policy.onnx").is_file()


def test_a_run_whose_task_file_moved_names_it_and_takes_its_new_place(readme_run, stripe_kit_bin):
    # (runs last among the README tests: it moves the file)
    work = readme_run["work"]
    run_dir = work / "runs" / "Paddock-Walk-Ant" / "first"
    (work / "moved").mkdir()
    (work / "my_tasks.py").rename(work / "moved" / "my_tasks.py")
    lost = run_cli(stripe_kit_bin, "play", str(run_dir), "--episodes", "1", cwd=work)
    assert lost.returncode == 2 and "Traceback" not in lost.stderr
    (error,) = errors_of(lost)
    assert str(work / "my_tasks.py") in error and "--tasks" in error and "Paddock-Walk-Ant" in error

    resumed = run_cli(stripe_kit_bin, "train", "--resume", str(run_dir), "--tasks", "moved/my_tasks.py",
                      "--max-iterations", "3", cwd=work)
    assert resumed.returncode == 0, resumed.stdout[-2000:] + resumed.stderr[-3000:]
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["epoch"] == 3 and manifest["tasks"] == [str(work / "moved" / "my_tasks.py")]


STANDALONE = '''
from stripe_kit.scene import NoiseTerrainSpec, RockSpec, SceneSpec

GLADE = SceneSpec(name="glade", terrain=NoiseTerrainSpec(style="flat", tile_size=(6.0, 6.0), num_rows=2, num_cols=2),
                  assets=[RockSpec(density_range=(0.2, 0.4))])
_DRAFT = SceneSpec(name="draft")
'''


def test_a_standalone_scene_of_a_file_or_module_is_listed_previewed_and_exported(stripe_kit_bin, tmp_path):
    (tmp_path / "glade_scenes.py").write_text(STANDALONE)
    # a file through the environment variable (with an empty entry, as a trailing separator leaves)
    env = {"STRIPE_KIT_TASKS": f"{tmp_path / 'glade_scenes.py'}{os.pathsep}"}
    listing = run_env(stripe_kit_bin, "list", env=env, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr[-3000:]
    scenes = listing.stdout.split("scenes:")[1].split()
    assert "glade" in scenes and "forest" in scenes and "draft" not in scenes  # private names are not scenes
    exported = run_env(stripe_kit_bin, "scene", "export", "glade", "--seed", "2", "-o", "glade.usda", env=env,
                       cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert re.search(r"glade\.usda \([1-9]\d* rock;", exported.stdout), exported.stdout
    # a module name, importable from PYTHONPATH
    preview = run_env(stripe_kit_bin, "scene", "preview", "glade", "--tasks", "glade_scenes", "-o", "glade.png",
                      "--size", "256", env={"PYTHONPATH": str(tmp_path)}, cwd=tmp_path)
    assert preview.returncode == 0, preview.stderr[-3000:]
    assert (tmp_path / "glade.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args, env, named",
    [
        (["train", "--tasks", "no/such/tasks.py", "--device", "cpu"], {}, "no/such/tasks.py"),
        (["scene", "preview", "forest", "--tasks", "no_such_tasks_module"], {}, "no_such_tasks_module"),
        (["gui", "--port", "8097"], {"STRIPE_KIT_TASKS": "missing_tasks.py"}, "missing_tasks.py"),
    ],
)
def test_a_bad_tasks_source_is_one_line_naming_it_exit_2(stripe_kit_bin, tmp_path, args, env, named):
    proc = run_env(stripe_kit_bin, *args, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    (error,) = errors_of(proc)
    assert named in error and ("--tasks" in error or "STRIPE_KIT_TASKS" in error)
    assert "Python file" in error and "module name" in error
    assert "Traceback" not in proc.stderr


def test_the_entry_points_name_the_registering_module_for_isaac_lab():
    """What Isaac Lab's list_envs and load_cfg_from_registry read: "module:attribute" strings of the task's module."""
    code = """
import gymnasium as gym
from isaaclab_tasks.utils.parse_cfg import load_cfg_from_registry
from stripe_kit.task import REGISTERED
from stripe_kit.train.tasks import load_tasks
load_tasks()
REGISTERED["Stripe-Forest-Walk-Ant"].replace(description="here").register("Stripe-Test-Here")
kwargs = gym.spec("Stripe-Test-Here").kwargs
env_cfg = load_cfg_from_registry("Stripe-Test-Here", "env_cfg_entry_point")
agent_cfg = load_cfg_from_registry("Stripe-Test-Here", "rl_games_cfg_entry_point")
print("RESULT", kwargs["env_cfg_entry_point"], kwargs["rl_games_cfg_entry_point"], type(env_cfg).__name__,
      agent_cfg["params"]["config"]["name"], gym.spec("Stripe-Forest-Walk-Ant").kwargs["env_cfg_entry_point"])
"""
    proc = run_cli(sys.executable, "-c", code)
    lines = [line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    assert lines[0] == ["__main__:Stripe_Test_Here_env_cfg", "__main__:Stripe_Test_Here_rl_games_cfg", "StripeEnvCfg",
                        "stripe_test_here", "stripe_forest.tasks:Stripe_Forest_Walk_Ant_env_cfg"]
