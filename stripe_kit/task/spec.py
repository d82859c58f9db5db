"""Training specs: a robot, Isaac Lab MDP terms and a scene spec, compiled to a registered Isaac Lab task.

:class:`TrainingSpec` is the facade through which the library reaches the scene: it holds a reference to its
:class:`~stripe_kit.scene.SceneSpec` and generates nothing itself. :meth:`TrainingSpec.env_cfg` compiles it to an
Isaac Lab manager-based env config; :meth:`TrainingSpec.register` registers a gymnasium task whose
``env_cfg_entry_point`` and ``rl_games_cfg_entry_point`` Isaac Lab's own tooling loads.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
from dataclasses import MISSING
from typing import Any

import gymnasium as gym
from isaaclab.assets import ArticulationCfg
from isaaclab.envs.manager_based_env_cfg import DefaultEventManagerCfg
from isaaclab.managers import TerminationTermCfg
from isaaclab.sim import SimulationCfg
from isaaclab.utils import configclass, replace

from ..errors import SpecError, check_number
from ..scene.spec import SceneSpec
from .agent import AgentSettings, default_device, rl_games_config
from .env import StripeEnvCfg, StripeSceneCfg, check_command_ranges
from .mdp.terminations import physics_diverged
from .obstacles import MAX_SLOTS, PHYSX_SIZE_BUCKETS, ColliderSlotsCfg
from .robots import check_robot_file

PHYSICS_BACKENDS = ("newton", "physx")
"""``newton``: Newton with MuJoCo-Warp, kitless (default). ``physx``: PhysX through Isaac Lab's ``PhysxAutoCfg``:
Isaac Sim's PhysX inside Isaac Sim, the ``ovphysx`` wheel kitless."""

DEFAULT_NJMAX = 64
"""MuJoCo-Warp constraint rows per world: the most the Ant used, 44 under random actions in the forest and 36 for a
trained walk policy running into trees (256 envs, one episode), with room to spare. Isaac Lab's Ant uses 45; 120
made the forest's physics step 20 % slower on CPU (64 envs)."""
DEFAULT_NCONMAX = 32
"""MuJoCo-Warp contacts per world (half of :data:`DEFAULT_NJMAX`: a pyramidal contact takes 4 rows)."""

BACKEND_SETTINGS = {"njmax": "newton", "nconmax": "newton", "obstacle_slots": "newton",
                    "physx_bounce_threshold": "physx", "physx_enhanced_determinism": "physx",
                    "physx_size_buckets": "physx"}
"""Settings of :class:`SimSettings` that only one backend reads, and that backend."""

REGISTERED: dict[str, TrainingSpec] = {}
"""Training specs registered in this process, by task id."""

REQUIRED_PARTS = {
    "scene": "a SceneSpec",
    "robot": "an isaaclab.assets.ArticulationCfg",
    "actions": "a @configclass of action term configs",
    "observations": "a @configclass of observation groups",
    "rewards": "a @configclass of RewardTermCfg",
    "terminations": "a @configclass of TerminationTermCfg",
}
"""Parts every :class:`TrainingSpec` needs, and what each accepts."""


def _is_missing(value: Any) -> bool:
    """Whether a field holds the dataclass ``MISSING`` marker (or a copy of it) or None."""
    return value is None or isinstance(value, type(MISSING))


def cfg_entry_point_names(task_id: str) -> tuple[str, str]:
    """Attributes that :meth:`TrainingSpec.register` sets on the registering module: the env and agent config
    factories of the task, such as ``Stripe_Forest_Walk_Ant_env_cfg`` and ``Stripe_Forest_Walk_Ant_rl_games_cfg``."""
    name = re.sub(r"\W", "_", task_id)
    return f"{name}_env_cfg", f"{name}_rl_games_cfg"


@configclass
class SimSettings:
    """Simulation settings of a task, with defaults instead of hard-coded values."""

    dt: float = 1 / 120
    """Physics step [s]."""
    decimation: int = 2
    """Physics steps per policy step."""
    episode_length_s: float = 16.0
    """Episode length [s]."""
    num_envs: int = 64
    """Default number of environments (the CLI and GUI override it)."""
    physics: str = "newton"
    """Physics backend, one of :data:`PHYSICS_BACKENDS`."""
    obstacle_reach: float | None = None
    """Distance from a robot's root within which every scene obstacle collides in its world [m]. None: the
    robot's horizontal radius (from its USD) plus ``robot_top_speed`` times the policy step, since the obstacles
    around each robot are refreshed every policy step."""
    robot_top_speed: float = 5.0
    """Fastest a robot's root is expected to move [m/s]; sets the default obstacle reach."""
    obstacle_slots: dict[str, int] | None = None
    """Newton only: collider slots per kind ('capsule', 'sphere') in each environment. None: the most obstacles of
    the kind within the reach of any point of the generated scene; a smaller count is refused when the env is
    built. Each slot is one more primitive per world for the broadphase. (PhysX derives each size bucket's slots
    from the scene.)"""
    njmax: int | None = None
    """Newton only: MuJoCo-Warp constraint rows per world. None: :data:`DEFAULT_NJMAX`. Every solver kernel spans
    all rows of every world, used or not, so a generous value costs speed; too small a value drops contacts (MuJoCo-Warp
    prints ``nefc overflow`` and flags the world)."""
    nconmax: int | None = None
    """Newton only: MuJoCo-Warp contacts per world. None: :data:`DEFAULT_NCONMAX`."""
    physx_bounce_threshold: float | None = None
    """PhysX only: relative speed below which contacts do not bounce [m/s]. None: 0.2."""
    physx_enhanced_determinism: bool | None = None
    """PhysX only: PhysX's enhanced determinism (same results whatever the order of additions; slower). None: off."""
    physx_size_buckets: int | None = None
    """PhysX only: size buckets per obstacle kind, 1 to 16. A PhysX shape keeps the size it was spawned with, so
    every capsule and sphere takes the largest size of its bucket (in physics, ray casts and terms alike) and each
    bucket has slots of its own: more buckets, truer sizes and more slots per env. None: 4, chosen by
    ``benchmarks.physx_size_buckets`` on the forest: radii grow by at most 6 cm (one bucket: 30 cm), at 12 slots
    per env (one bucket: 8) and 0.63x of one bucket's env-steps/s (2-core CPU, 64 envs)."""
    max_root_speed: float | None = 50.0
    """Root speed [m/s] above which a robot's simulation counts as diverged (non-finite state always does): the
    task gets a ``physics_diverged`` termination and that step's reward counts zero, so a rare blow-up costs one
    episode instead of the run. None: no such term."""

    def __post_init__(self):
        check_number("sim.dt", self.dt, 0.0, 0.1, low_open=True)
        check_number("sim.decimation", self.decimation, 1, 100, integer=True)
        check_number("sim.episode_length_s", self.episode_length_s, 0.0, 3600.0, low_open=True)
        check_number("sim.num_envs", self.num_envs, 1, 65536, integer=True)
        if self.obstacle_reach is not None:
            check_number("sim.obstacle_reach", self.obstacle_reach, 0.0, 100.0, low_open=True)
        check_number("sim.robot_top_speed", self.robot_top_speed, 0.0, 100.0)
        if self.obstacle_slots is not None:
            if not isinstance(self.obstacle_slots, dict) or set(self.obstacle_slots) != {"capsule", "sphere"}:
                raise SpecError("sim.obstacle_slots", self.obstacle_slots,
                                "None or a dict with 'capsule' and 'sphere' slot counts")
            for kind, count in self.obstacle_slots.items():
                check_number(f"sim.obstacle_slots.{kind}", count, 0, MAX_SLOTS, integer=True)
        if self.max_root_speed is not None:
            check_number("sim.max_root_speed", self.max_root_speed, 0.0, 1e4, low_open=True)
        if self.njmax is not None:
            check_number("sim.njmax", self.njmax, 1, 100000, integer=True)
        if self.nconmax is not None:
            check_number("sim.nconmax", self.nconmax, 1, 100000, integer=True)
        if self.physx_size_buckets is not None:
            check_number("sim.physx_size_buckets", self.physx_size_buckets, 1, 16, integer=True)
        if self.physx_bounce_threshold is not None:
            check_number("sim.physx_bounce_threshold", self.physx_bounce_threshold, 0.0, 100.0)
        self.check_backend(self.physics)

    def for_backend(self, physics: str) -> SimSettings:
        """These settings on ``physics``: a task's solver settings for its own backend are tuned for it, so on the
        other backend they are cleared (that backend's defaults apply). A setting given for the wrong backend
        afterwards (``sim.njmax=64`` with ``--physics physx``) is refused, as ever, when the settings are built."""
        if physics not in PHYSICS_BACKENDS:
            raise SpecError("physics", physics, f"one of {', '.join(PHYSICS_BACKENDS)}")
        if physics == self.physics:
            return self
        cleared = {name: None for name, owner in BACKEND_SETTINGS.items() if owner != physics}
        return dataclasses.replace(self, physics=physics, **cleared)

    def check_backend(self, physics: str, field: str = "sim.physics") -> None:
        """Fail in one line when ``physics`` is no backend, or a setting of the other backend is given."""
        if physics not in PHYSICS_BACKENDS:
            raise SpecError(field, physics, f"one of {', '.join(PHYSICS_BACKENDS)}")
        for name, owner in BACKEND_SETTINGS.items():
            value = getattr(self, name)
            if value is not None and owner != physics:
                raise SpecError(f"sim.{name}", value,
                                f"None with physics='{physics}' (a {owner}-only setting; "
                                f"{physics} settings: {', '.join(n for n, o in BACKEND_SETTINGS.items() if o == physics)})")


@configclass
class TrainingSpec:
    """A task: robot, Isaac Lab manager term configs, sensors, sim settings and the scene spec it trains in.

    The MDP fields take ordinary Isaac Lab manager configs (the ``@configclass`` groups of ``ObsTerm``,
    ``RewTerm``...); terms reach the generated scene through ``env.generated_scene`` and ``env.obstacles``.
    """

    scene: SceneSpec = MISSING
    """Generator of the scene the task trains in."""
    robot: ArticulationCfg = MISSING
    """The robot; its prim path is set to each environment's ``Robot``."""
    actions: object = MISSING
    observations: object = MISSING
    rewards: object = MISSING
    terminations: object = MISSING
    events: object | None = None
    commands: object | None = None
    curriculum: object | None = None
    sensors: dict[str, Any] = {}
    """Sensor configs by scene-entity name (``{ENV_REGEX_NS}`` paths)."""
    sim: SimSettings = SimSettings()
    agent: AgentSettings = AgentSettings()
    description: str = ""
    """One line shown by ``stripe-kit list``."""

    def check(self) -> None:
        """Check that every required part is there, in one line naming each missing one.

        ``@configclass`` copies the ``MISSING`` marker, so a missing part is found by its type, not by identity.
        """
        missing = [name for name in REQUIRED_PARTS if _is_missing(getattr(self, name, None))]
        if missing:
            first, rest = missing[0], missing[1:]
            also = f" (also missing: {', '.join(rest)})" if rest else ""
            raise SpecError(f"TrainingSpec.{first}", None, REQUIRED_PARTS[first],
                            message=f"missing; expected {REQUIRED_PARTS[first]}{also}")
        for name in REQUIRED_PARTS:
            if name not in ("scene", "robot") and isinstance(getattr(self, name), type):
                raise SpecError(f"TrainingSpec.{name}", getattr(self, name).__name__,
                                f"an instance ({getattr(self, name).__name__}()), not the class")
        if not isinstance(self.scene, SceneSpec):
            raise SpecError("TrainingSpec.scene", type(self.scene).__name__, "a SceneSpec")
        if not isinstance(self.robot, ArticulationCfg):
            raise SpecError("TrainingSpec.robot", type(self.robot).__name__, "an isaaclab.assets.ArticulationCfg")
        check_robot_file(self.robot, "TrainingSpec.robot")
        check_command_ranges(self.commands, "TrainingSpec.commands")

    def env_cfg(self, num_envs: int | None = None, device: str | None = None, physics: str | None = None) -> StripeEnvCfg:
        """Compile to an Isaac Lab env config; nothing is generated until the env is built.

        Args:
            num_envs: Number of environments; :attr:`SimSettings.num_envs` when None.
            device: Simulation device; CUDA when available, else CPU, when None.
            physics: Physics backend; :attr:`SimSettings.physics` when None.
        """
        self.check()
        physics = physics or self.sim.physics
        sim = self.sim.for_backend(physics)  # a Newton task's MuJoCo-Warp settings do not follow it onto PhysX
        scene = StripeSceneCfg(num_envs=num_envs or sim.num_envs, env_spacing=0.0, replicate_physics=True)
        scene.obstacles = replace(scene.obstacles, spawn=ColliderSlotsCfg())
        scene.robot = replace(self.robot, prim_path="{ENV_REGEX_NS}/Robot")
        if physics == "physx":
            scene.robot = _never_sleeping(scene.robot)
        for name, sensor in self.sensors.items():
            setattr(scene, name, sensor)
        cfg = StripeEnvCfg(
            scene_spec=self.scene,
            scene=scene,
            actions=self.actions,
            observations=self.observations,
            rewards=self.rewards,
            terminations=self._terminations(),
            # no events: Isaac Lab's default reset to the scene's default state (None breaks its event manager)
            events=self.events if self.events is not None else DefaultEventManagerCfg(),
            commands=self.commands,
            curriculum=self.curriculum,
            decimation=sim.decimation,
            episode_length_s=sim.episode_length_s,
            obstacle_reach=sim.obstacle_reach,
            robot_top_speed=sim.robot_top_speed,
            obstacle_slots=None if sim.obstacle_slots is None else dict(sim.obstacle_slots),
            physx_size_buckets=sim.physx_size_buckets or PHYSX_SIZE_BUCKETS,
            sim=SimulationCfg(
                dt=sim.dt,
                render_interval=sim.decimation,
                device=device or default_device(),
                physics=self._physics_cfg(sim),
            ),
        )
        return cfg

    def _terminations(self, terminations: object | None = None) -> object:
        """``terminations`` (the spec's when None), plus ``physics_diverged`` unless disabled or already there."""
        terminations = self.terminations if terminations is None else terminations
        if self.sim.max_root_speed is None or hasattr(terminations, "physics_diverged"):
            return terminations
        terminations = copy.copy(terminations)
        terminations.physics_diverged = TerminationTermCfg(func=physics_diverged,
                                                           params={"max_root_speed": self.sim.max_root_speed})
        return terminations

    def agent_cfg(self, name: str = "stripe", device: str | None = None) -> dict[str, Any]:
        """rl_games PPO config of the task; valid for any number of environments."""
        return rl_games_config(name, self.agent, device)

    def register(self, task_id: str, module: str | None = None) -> None:
        """Register the task with gymnasium so ``stripe-kit train``, ``isaaclab train`` and ``gym.make`` find it.

        The ``env_cfg_entry_point`` and ``rl_games_cfg_entry_point`` are ``"module:attribute"`` strings naming
        config factories that this call sets on ``module`` (see :func:`cfg_entry_point_names`), so Isaac Lab's
        ``list_envs`` counts the task as one of the module's, as it does for a project's own tasks.

        Args:
            task_id: Gymnasium id, conventionally ``Stripe-<Scene>-<Goal>-<Robot>``.
            module: Module the entry points name; the calling module when None.
        """
        if not isinstance(task_id, str) or not task_id.strip() or " " in task_id:
            raise SpecError("task_id", task_id, "a gymnasium id without spaces, such as 'Stripe-Forest-Walk-Ant'")
        self.check()
        if module is None:
            module = sys._getframe(1).f_globals.get("__name__")
        if module not in sys.modules:
            raise SpecError("module", module, "the name of an imported module (the one registering the task)")
        experiment = task_id.lower().replace("-", "_")
        env_attr, agent_attr = cfg_entry_point_names(task_id)
        owner = sys.modules[module]
        for attr in (env_attr, agent_attr):
            existing = getattr(owner, attr, None)
            if existing is not None and not getattr(existing, "_stripe_task_id", None):
                raise SpecError("task_id", task_id, f"an id whose entry-point names do not clash with {module}.{attr}")
        setattr(owner, env_attr, self._env_entry_point(task_id))
        setattr(owner, agent_attr, self._agent_entry_point(task_id, experiment))
        gym.register(
            id=task_id,
            entry_point=self._env_class(),
            disable_env_checker=True,
            kwargs={
                "env_cfg_entry_point": f"{module}:{env_attr}",
                "rl_games_cfg_entry_point": f"{module}:{agent_attr}",
            },
        )
        REGISTERED[task_id] = self

    def _env_class(self) -> str:
        """``module:class`` of the env gymnasium builds for the task."""
        return "stripe_kit.task.env:StripeEnv"

    def _env_entry_point(self, task_id: str):
        """``env_cfg_entry_point``: a function building the env config with the task's defaults."""

        def env_cfg_entry_point() -> StripeEnvCfg:
            return self.env_cfg()

        env_cfg_entry_point._stripe_task_id = task_id
        return env_cfg_entry_point

    def _agent_entry_point(self, task_id: str, experiment: str):
        """``rl_games_cfg_entry_point``: a function building the agent config."""

        def rl_games_cfg_entry_point() -> dict[str, Any]:
            return self.agent_cfg(experiment)

        rl_games_cfg_entry_point._stripe_task_id = task_id
        return rl_games_cfg_entry_point

    def _physics_cfg(self, sim: SimSettings):
        """Physics config of ``sim``'s backend, with solver settings suited to legged robots among obstacles."""
        if sim.physics == "physx":
            from isaaclab.physics import PhysxAutoCfg
            from isaaclab_physx.physics import PhysxCfg

            try:
                from isaaclab_ov.physics import OvPhysxCfg
            except ImportError:  # only Isaac Sim's PhysX, inside Isaac Sim
                ovphysx = None
            else:
                ovphysx = OvPhysxCfg(enable_enhanced_determinism=bool(sim.physx_enhanced_determinism))
            isaacsim = PhysxCfg(bounce_threshold_velocity=0.2 if sim.physx_bounce_threshold is None
                                else sim.physx_bounce_threshold,
                                enable_enhanced_determinism=bool(sim.physx_enhanced_determinism))
            return PhysxAutoCfg(isaacsim_physx=isaacsim, ovphysx=ovphysx)
        from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg

        return NewtonCfg(
            solver_cfg=MJWarpSolverCfg(
                njmax=sim.njmax or DEFAULT_NJMAX, nconmax=sim.nconmax or DEFAULT_NCONMAX, cone="pyramidal",
                integrator="implicitfast", impratio=1,
            ),
            num_substeps=1,
            debug_mode=False,
        )



def _never_sleeping(robot: ArticulationCfg) -> ArticulationCfg:
    """The robot with PhysX's sleep threshold 0: an asleep PhysX body is not woken by the kinematic obstacle slots
    that are teleported onto it, so it would walk through them."""
    from isaaclab_physx.sim.schemas import PhysxArticulationCfg

    def awake(fragments: list) -> list:
        fragments = [replace(f, sleep_threshold=0.0) if isinstance(f, PhysxArticulationCfg) else f for f in fragments]
        if not any(isinstance(f, PhysxArticulationCfg) for f in fragments):
            fragments.append(PhysxArticulationCfg(sleep_threshold=0.0))
        return fragments

    props = robot.spawn.articulation_props
    if isinstance(props, dict):
        props = {target: awake(list(fragments)) for target, fragments in props.items()} or {"": awake([])}
    elif props is None or isinstance(props, (list, tuple)):
        props = awake(list(props or []))
    elif hasattr(props, "sleep_threshold"):  # a legacy articulation cfg
        props = replace(props, sleep_threshold=0.0)
    else:
        props = awake([props])
    return replace(robot, spawn=replace(robot.spawn, articulation_props=props))
