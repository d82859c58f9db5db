"""The anchor task (Isaac Lab's Go2 rough velocity task, offline) is configured as our Go2 task: config only.

Building the env takes 75-120 s on CPU; the training smoke run is documented in ``benchmarks/anchor_tasks.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

ANCHOR_FILE = Path(__file__).resolve().parents[1] / "benchmarks" / "anchor_tasks.py"


@pytest.fixture(scope="module")
def specs() -> tuple:
    """The anchor's spec and our Go2 forest task's spec."""
    from stripe_kit.task import REGISTERED
    from stripe_kit.train.tasks import load_tasks

    load_tasks([str(ANCHOR_FILE)])
    return REGISTERED["Anchor-Velocity-Rough-Go2"], REGISTERED["Stripe-Forest-Velocity-Go2"]


def _strings(value: object, path: str = "") -> list[tuple[str, str]]:
    """Every string in a nested dict/list (a config's ``to_dict()``), with its dotted path."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings(item, f"{path}.{key}")]
    if isinstance(value, (list, tuple)):
        return [s for index, item in enumerate(value) for s in _strings(item, f"{path}.{index}")]
    return []


def test_anchor_matches_our_go2_task_and_is_offline(specs: tuple) -> None:
    from isaaclab_tasks.core.velocity.config.go2.rough_env_cfg import UnitreeGo2RoughEnvCfg

    from stripe_kit.task.robots import GO2_OFFLINE_CFG

    anchor, ours = specs
    cfg = anchor.env_cfg(num_envs=4, device="cpu")
    isaaclab = UnitreeGo2RoughEnvCfg()
    # Isaac Lab's timing, equal to ours
    assert (cfg.sim.dt, cfg.decimation, cfg.episode_length_s) == (isaaclab.sim.dt, isaaclab.decimation,
                                                                   isaaclab.episode_length_s)
    assert (ours.sim.dt, ours.sim.decimation, ours.sim.episode_length_s) == (0.005, 4, 20.0)
    assert (cfg.sim.dt, cfg.decimation) == (ours.sim.dt, ours.sim.decimation)
    # our physics config, robot file and agent
    assert cfg.sim.physics.to_dict() == ours._physics_cfg(ours.sim).to_dict()
    assert cfg.scene.robot.spawn.usd_path == GO2_OFFLINE_CFG.spawn.usd_path
    assert anchor.agent_cfg("x", device="cpu") == ours.agent_cfg("x", device="cpu")
    assert dataclasses.asdict(anchor.agent) == dataclasses.asdict(ours.agent)
    # Isaac Lab's own MDP, terrain generator and height scanner, plus our divergence termination
    assert set(vars(cfg.rewards)) == set(vars(isaaclab.rewards))
    assert cfg.terminations.physics_diverged is not None
    sub_terrains = cfg.scene.terrain.terrain_generator.sub_terrains
    assert sub_terrains.keys() == isaaclab.scene.terrain.terrain_generator.sub_terrains.keys()
    assert all(sub.convert_to_heightfield for sub in sub_terrains.values())
    assert cfg.scene.height_scanner.pattern_cfg.size == isaaclab.scene.height_scanner.pattern_cfg.size
    # nothing on NVIDIA's asset server, but for debug markers (``*visualizer_cfg``), which debug_vis=False never loads
    assert not (cfg.commands.base_velocity.debug_vis or cfg.scene.contact_forces.debug_vis
                or cfg.scene.height_scanner.debug_vis or cfg.scene.terrain.debug_vis)
    remote = [(path, s) for path, s in _strings(cfg.to_dict())
              if ("://" in s or s.endswith((".mdl", ".hdr"))) and "visualizer_cfg" not in path]
    assert not remote, remote
