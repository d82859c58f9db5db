"""Unitree Go2 velocity tracking in the forest: Isaac Lab's ``Isaac-Velocity-Rough-UnitreeGo2`` MDP in a TrainingSpec.

Actions, commands, observations, rewards, events and the terrain curriculum are those of Isaac Lab's
``isaaclab_tasks.core.velocity`` config for the Go2 on rough terrain, with these changes for the forest:

- the height scan is a :class:`~stripe_kit.task.sensors.SceneRayCaster` (the same 1.6 m x 1.0 m grid at 0.1 m, cast
  from 20 m above the base): Isaac Lab's ``RayCaster`` sees only the ground mesh, this one sees trees, rocks and logs
  as well; a level ring of 24 range rays around the base (4 m) is observed too;
- velocity commands are redrawn when an obstacle or the map's edge blocks them (``mdp.SceneVelocityCommand``), and
  hitting an obstacle costs 1 and ends the episode: a command that leads into a trunk can be neither tracked nor
  refused without a penalty, so the tracking error would stop measuring the gait;
- episodes also end 1 m before the map's edge (a truncation, as a time-out);
- the terrain curriculum demotes robots that fall or hit an obstacle (``mdp.terrain_levels_by_tracking``);
- robots reset at their tile's spawn point (any yaw), without the stock +-0.5 m xy jitter that put them into trees.
"""

from __future__ import annotations

import math

from isaaclab.managers import CurriculumTermCfg as CurrTerm
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.sensors import ContactSensorCfg
from isaaclab.sensors.ray_caster.patterns import GridPatternCfg
from isaaclab.utils import configclass
from isaaclab.utils.noise import UniformNoiseCfg as Unoise
from isaaclab_tasks.core.velocity import mdp as velocity

from stripe_kit.task import AgentSettings, SimSettings, TrainingSpec, mdp
from stripe_kit.task.robots import GO2_OFFLINE_CFG
from stripe_kit.task.sensors import RingPatternCfg, SceneRayCasterCfg

from . import tasks
from .scenes import ForestSceneSpec

GO2_STANDING_HEIGHT = 0.4
"""Target base height above the ground [m], as Isaac Lab's Go2 rough task (its ``init_state.pos``)."""
GO2_BODY_RADIUS = 0.3
"""Radius of the disc around the Go2's base that must not touch an obstacle [m] (half its length plus the hips)."""
GO2_RING_RANGE = 4.0
"""Range of the Go2's ring of range rays [m]."""
GO2_SCAN_HEIGHT = 20.0
"""Height above the base from which the scan's rays are cast [m]; the scan reads, as Isaac Lab's, the base's height
above each hit minus 0.5 m (the sensor's position is the base's, as in Isaac Lab's ray caster)."""
GO2_DT = 0.005
GO2_DECIMATION = 4

GO2_SENSORS = {
    "height_scanner": SceneRayCasterCfg(
        body_name="base",
        offset=SceneRayCasterCfg.OffsetCfg(pos=(0.0, 0.0, GO2_SCAN_HEIGHT)),
        ray_alignment="yaw",
        pattern_cfg=GridPatternCfg(resolution=0.1, size=(1.6, 1.0)),
        max_distance=50.0,
    ),
    "range_ring": SceneRayCasterCfg(
        body_name="base",
        ray_alignment="yaw",
        pattern_cfg=RingPatternCfg(count=24, fov_deg=360.0),
        max_distance=GO2_RING_RANGE,
    ),
    "contact_forces": ContactSensorCfg(
        prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=3, track_air_time=True, update_period=GO2_DT
    ),
}
"""Height scan and range ring against the generated ground and obstacles; contact forces on every body (the feet
for the air-time reward, the base for the body-contact termination), as Isaac Lab's Go2 task."""


@configclass
class Go2CommandsCfg:
    """Isaac Lab's velocity commands (planar velocity and a heading, resampled every 10 s), redrawn when blocked."""

    base_velocity = mdp.SceneVelocityCommandCfg(
        body_radius=GO2_BODY_RADIUS,
        asset_name="robot",
        resampling_time_range=(10.0, 10.0),
        rel_standing_envs=0.02,
        rel_heading_envs=1.0,
        heading_command=True,
        heading_control_stiffness=0.5,
        debug_vis=False,
        ranges=mdp.UniformVelocityCommandCfg.Ranges(
            lin_vel_x=(-1.0, 1.0), lin_vel_y=(-1.0, 1.0), ang_vel_z=(-1.0, 1.0), heading=(-math.pi, math.pi)
        ),
    )


@configclass
class Go2ActionsCfg:
    """Joint position targets around the standing pose, scaled by 0.25 (Isaac Lab's Go2)."""

    joint_pos = mdp.JointPositionActionCfg(asset_name="robot", joint_names=[".*"], scale=0.25, use_default_offset=True)


@configclass
class Go2ObservationsCfg:
    """Isaac Lab's velocity observations with the obstacle-aware height scan, plus the range ring."""

    @configclass
    class PolicyCfg(ObsGroup):
        base_lin_vel = ObsTerm(func=mdp.base_lin_vel, noise=Unoise(n_min=-0.1, n_max=0.1))
        base_ang_vel = ObsTerm(func=mdp.base_ang_vel, noise=Unoise(n_min=-0.2, n_max=0.2))
        projected_gravity = ObsTerm(func=mdp.projected_gravity, noise=Unoise(n_min=-0.05, n_max=0.05))
        velocity_commands = ObsTerm(func=mdp.generated_commands, params={"command_name": "base_velocity"})
        joint_pos = ObsTerm(func=mdp.joint_pos_rel, noise=Unoise(n_min=-0.01, n_max=0.01))
        joint_vel = ObsTerm(func=mdp.joint_vel_rel, noise=Unoise(n_min=-1.5, n_max=1.5))
        actions = ObsTerm(func=mdp.last_action)
        height_scan = ObsTerm(
            func=mdp.height_scan,
            params={"sensor_cfg": SceneEntityCfg("height_scanner"), "offset": 0.5},
            noise=Unoise(n_min=-0.1, n_max=0.1),
            clip=(-1.0, 1.0),
        )
        range_ring = ObsTerm(func=mdp.ray_distances, params={"sensor_cfg": SceneEntityCfg("range_ring")},
                             scale=1.0 / GO2_RING_RANGE)

        def __post_init__(self):
            self.enable_corruption = True
            self.concatenate_terms = True

    policy: PolicyCfg = PolicyCfg()


@configclass
class Go2EventsCfg:
    """Isaac Lab's velocity events, the reset without its xy jitter (robots start at their clear spawn point)."""

    physics_material = EventTerm(
        func=mdp.randomize_rigid_body_material,
        mode="startup",
        params={
            "asset_cfg": SceneEntityCfg("robot", body_names=".*"),
            "static_friction_range": (0.8, 0.8),
            "dynamic_friction_range": (0.6, 0.6),
            "restitution_range": (0.0, 0.0),
            "num_buckets": 64,
        },
    )
    add_base_mass = EventTerm(
        func=mdp.randomize_rigid_body_mass,
        mode="startup",
        params={
            "asset_cfg": SceneEntityCfg("robot", body_names="base"),
            "mass_distribution_params": (1 / 1.25, 1.25),
            "operation": "scale",
            "distribution": "log_uniform",
        },
    )
    base_com = EventTerm(
        func=mdp.randomize_rigid_body_com,
        mode="startup",
        params={
            "asset_cfg": SceneEntityCfg("robot", body_names="base"),
            "com_range": {"x": (-0.05, 0.05), "y": (-0.05, 0.05), "z": (-0.01, 0.01)},
        },
    )
    reset_base = EventTerm(
        func=mdp.reset_root_state_uniform,
        mode="reset",
        params={
            "pose_range": {"yaw": (-math.pi, math.pi)},
            "velocity_range": {
                "x": (-0.5, 0.5), "y": (-0.5, 0.5), "z": (-0.5, 0.5),
                "roll": (-0.5, 0.5), "pitch": (-0.5, 0.5), "yaw": (-0.5, 0.5),
            },
        },
    )
    reset_robot_joints = EventTerm(
        func=mdp.reset_joints_by_scale, mode="reset", params={"position_range": (0.5, 1.5), "velocity_range": (0.0, 0.0)}
    )
    push_robot = EventTerm(
        func=mdp.push_by_setting_velocity,
        mode="interval",
        interval_range_s=(10.0, 15.0),
        params={"velocity_range": {"x": (-0.5, 0.5), "y": (-0.5, 0.5)}},
    )


@configclass
class Go2RewardsCfg:
    """Isaac Lab's Go2 rough rewards (the shared velocity rewards with the Go2's weights and base height), plus
    penalties for coming near an obstacle and for hitting one (1 per hit after Isaac Lab's 0.02 s step scaling)."""

    track_lin_vel_xy_exp = RewTerm(
        func=mdp.track_lin_vel_xy_exp, weight=1.5, params={"command_name": "base_velocity", "std": math.sqrt(0.25)}
    )
    track_ang_vel_z_exp = RewTerm(
        func=mdp.track_ang_vel_z_exp, weight=0.75, params={"command_name": "base_velocity", "std": math.sqrt(0.25)}
    )
    lin_vel_z_l2 = RewTerm(func=mdp.lin_vel_z_l2, weight=-2.0)
    ang_vel_xy_l2 = RewTerm(func=mdp.ang_vel_xy_l2, weight=-0.05)
    dof_torques_l2 = RewTerm(func=mdp.joint_torques_l2, weight=-0.0002)
    dof_acc_l2 = RewTerm(func=mdp.joint_acc_l2, weight=-2.5e-7)
    action_rate_l2 = RewTerm(func=mdp.action_rate_l2, weight=-0.005)
    feet_air_time = RewTerm(
        func=velocity.feet_air_time,
        weight=0.01,
        params={
            "sensor_cfg": SceneEntityCfg("contact_forces", body_names=".*_foot"),
            "command_name": "base_velocity",
            "threshold": 0.5,
        },
    )
    base_height_l2 = RewTerm(
        func=mdp.base_height_l2,
        weight=-30.0,
        params={"target_height": GO2_STANDING_HEIGHT, "sensor_cfg": SceneEntityCfg("height_scanner")},
    )
    near_obstacle = RewTerm(func=mdp.obstacle_proximity, weight=-0.5, params={"body_radius": GO2_BODY_RADIUS})
    collision = RewTerm(func=mdp.termination_term, weight=-50.0, params={"term_name": "collision"})


@configclass
class Go2TerminationsCfg:
    """Time-out, the base touching anything (Isaac Lab's body contact), hitting an obstacle, or nearing the edge."""

    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    off_map = DoneTerm(func=mdp.off_terrain, params={"distance_buffer": 1.0}, time_out=True)
    base_contact = DoneTerm(
        func=mdp.illegal_contact,
        params={"sensor_cfg": SceneEntityCfg("contact_forces", body_names="base"), "threshold": 1.0},
    )
    collision = DoneTerm(func=mdp.obstacle_collision, params={"body_radius": GO2_BODY_RADIUS})


@configclass
class Go2CurriculumCfg:
    """Promote robots that covered half their commanded distance and ended by time-out; demote those that fell, hit
    an obstacle or fell short (Isaac Lab's ``terrain_levels_vel`` promotes by distance alone: a robot that walked
    into a tree after covering ground rose a row)."""

    terrain_levels = CurrTerm(
        func=mdp.terrain_levels_by_tracking,
        params={"command_name": "base_velocity", "failure_terms": ("base_contact", "collision")},
    )


GO2_AGENT = AgentSettings(
    network=(512, 256, 128),
    horizon_length=24,
    num_minibatches=4,
    mini_epochs=5,
    learning_rate=1e-3,
    kl_threshold=0.01,
    entropy_coef=0.005,
    reward_scale=0.6,
    max_epochs=1500,
)
"""Isaac Lab's rl_games PPO settings for rough-terrain quadrupeds (``rl_games_rough_ppo_cfg.yaml`` of its ANYmal-C
velocity task): a larger network and a learning rate 3x the Ant's."""

FOREST_VELOCITY_GO2 = TrainingSpec(
    scene=ForestSceneSpec(),
    robot=GO2_OFFLINE_CFG,
    actions=Go2ActionsCfg(),
    observations=Go2ObservationsCfg(),
    rewards=Go2RewardsCfg(),
    terminations=Go2TerminationsCfg(),
    events=Go2EventsCfg(),
    commands=Go2CommandsCfg(),
    curriculum=Go2CurriculumCfg(),
    sensors=GO2_SENSORS,
    sim=SimSettings(dt=GO2_DT, decimation=GO2_DECIMATION, episode_length_s=20.0, njmax=400, nconmax=160),
    agent=GO2_AGENT,
    description="Unitree Go2 tracks commanded planar and yaw velocities through the forest (Isaac Lab's Go2 MDP).",
)

# entry points on stripe_forest.tasks, the package's task module, so Isaac Lab's list_envs lists it with the others
FOREST_VELOCITY_GO2.register("Stripe-Forest-Velocity-Go2", module=tasks.__name__)
