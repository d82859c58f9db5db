"""Showcase tasks in the forest, registered with gymnasium on import (also through ``isaaclab.tasks``)."""

from __future__ import annotations

import math

from isaaclab.managers import CurriculumTermCfg as CurrTerm
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import SceneEntityCfg
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.utils import configclass
from isaaclab_tasks.core.locomotion import mdp as locomotion

from stripe_kit.task import SimSettings, TrainingSpec, mdp
from stripe_kit.task.robots import ANT_OFFLINE_CFG
from stripe_kit.task.sensors import RingPatternCfg, SceneRayCasterCfg

from .scenes import ForestSceneSpec

ANT_GEARS = {".*": 15.0}
"""Effort scale per joint [N m], as in Isaac Lab's Ant."""
ANT_BODY_RADIUS = 0.25
"""Radius of the Ant's torso disc for obstacle contact [m]."""
WALK_MAX_SPEED = 0.6
"""Walk speed beyond which progress earns nothing [m/s]: slow enough to steer around trees (on an H200 at 600
epochs, 6.9 % of episodes ended on a tree with the cap at 0.6 m/s, 8.9 % at 1 m/s with a fivefold collision
penalty, 41 % uncapped at 176 epochs)."""
RING_RANGE = 4.0
"""Range of the Ant's ring of range rays [m]."""
ANT_SENSORS = {
    "range_ring": SceneRayCasterCfg(
        body_name="torso",
        offset=SceneRayCasterCfg.OffsetCfg(pos=(0.0, 0.0, -0.2)),
        ray_alignment="yaw",
        pattern_cfg=RingPatternCfg(count=24, fov_deg=360.0),
        max_distance=RING_RANGE,
    )
}
"""A level ring of 24 range rays around the Ant's torso, 0.2 m below it (low enough for rocks and logs)."""


@configclass
class AntActionsCfg:
    """Joint efforts, clipped at the gear (unbounded efforts drive the solver to NaN)."""

    joint_effort = mdp.JointEffortActionCfg(asset_name="robot", joint_names=[".*"], scale=7.5, clip={".*": (-7.5, 7.5)})


@configclass
class AntPolicyObsCfg(ObsGroup):
    """What every forest Ant senses: its height above the ground, body motion, joints, and a ring of range rays
    (the distance to the ground or an obstacle in 24 directions, 0 to 1 over 4 m)."""

    base_height = ObsTerm(func=mdp.base_height_above_ground)
    base_lin_vel = ObsTerm(func=mdp.base_lin_vel)
    base_ang_vel = ObsTerm(func=mdp.base_ang_vel)
    base_up_proj = ObsTerm(func=locomotion.base_up_proj)
    joint_pos_norm = ObsTerm(func=mdp.joint_pos_limit_normalized)
    joint_vel_rel = ObsTerm(func=mdp.joint_vel_rel, scale=0.2)
    range_ring = ObsTerm(func=mdp.ray_distances, params={"sensor_cfg": SceneEntityCfg("range_ring")},
                         scale=1.0 / RING_RANGE)
    actions = ObsTerm(func=mdp.last_action)

    def __post_init__(self):
        self.enable_corruption = False
        self.concatenate_terms = True


@configclass
class WalkObservationsCfg:
    """The Ant's own observations plus its heading relative to its walk direction."""

    @configclass
    class PolicyCfg(AntPolicyObsCfg):
        heading = ObsTerm(func=mdp.walk_heading)

    policy: PolicyCfg = PolicyCfg()


@configclass
class WalkCommandsCfg:
    """Walk along x toward the side of the map with more room, turning back 6 m before its edge."""

    walk = mdp.WalkDirectionCommandCfg(turn_distance=6.0)


@configclass
class WalkRewardsCfg:
    """Walk along x through the forest, turning before the map's edge, upright and efficient, without touching trees.

    Isaac Lab's Ant rewards, with progress as the root velocity along the walk direction (a few torch ops where
    ``progress_reward`` takes 13: on a GPU, ops bound a step's time) and the heading bonus on the heading the policy
    observes. A fall or leaving the map costs 2 (Isaac Lab scales rewards by the 1/60 s step), as in the goal task;
    a collision costs 10: at 2, 11 % of the episodes of a 600-epoch H200 run still ended on a tree, most of them in
    the densest rows. Progress counts up to :data:`WALK_MAX_SPEED`: uncapped, speed paid more than any penalty, and
    half of a 4096-env H200 run's walk episodes ended on a tree.
    """

    progress = RewTerm(func=mdp.progress_along_walk, weight=1.0, params={"max_speed": WALK_MAX_SPEED})
    alive = RewTerm(func=mdp.is_alive, weight=0.5)
    upright = RewTerm(func=locomotion.upright_posture_bonus, weight=0.1, params={"threshold": 0.93})
    move_to_target = RewTerm(func=mdp.walk_heading_bonus, weight=0.5)
    action_l2 = RewTerm(func=mdp.action_l2, weight=-0.005)
    energy = RewTerm(func=locomotion.power_consumption, weight=-0.05, params={"gear_ratio": ANT_GEARS})
    near_obstacle = RewTerm(func=mdp.obstacle_proximity, weight=-0.5, params={"body_radius": ANT_BODY_RADIUS})
    fallen = RewTerm(func=mdp.termination_term, weight=-120.0, params={"term_name": "fallen"})
    collision = RewTerm(func=mdp.termination_term, weight=-600.0, params={"term_name": "collision"})
    off_map = RewTerm(func=mdp.termination_term, weight=-120.0, params={"term_name": "off_map"})


@configclass
class WalkTerminationsCfg:
    """End on time-out, on falling (relative to the ground under the robot), on hitting a tree, or off the map.

    Leaving the map truncates the episode as a time-out does (its value is bootstrapped: in the goal task the
    robot did nothing wrong), 1 m before the edge of the generated ground; the walk's rewards charge for it, as its
    command turns the robot away from the edges.
    """

    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    off_map = DoneTerm(func=mdp.off_terrain, params={"distance_buffer": 1.0}, time_out=True)
    fallen = DoneTerm(func=mdp.base_below_ground_height, params={"minimum_height": 0.31})
    collision = DoneTerm(func=mdp.obstacle_collision, params={"body_radius": ANT_BODY_RADIUS})


@configclass
class AntEventsCfg:
    """Reset the Ant at its tile's spawn point with jittered joints."""

    reset_base = EventTerm(func=mdp.reset_root_state_uniform, mode="reset", params={"pose_range": {}, "velocity_range": {}})
    reset_joints = EventTerm(
        func=mdp.reset_joints_by_offset, mode="reset", params={"position_range": (-0.2, 0.2), "velocity_range": (-0.1, 0.1)}
    )


@configclass
class ForestCurriculumCfg:
    """Move Ants that cross half their tile without falling, hitting a tree or leaving the map to denser, hillier
    rows, and those that fail back (distance alone sent the fastest Ants, colliding or not, to the densest rows)."""

    terrain_levels = CurrTerm(func=mdp.terrain_levels_by_distance,
                              params={"failure_terms": ("fallen", "collision", "off_map")})


@configclass
class GoalEventsCfg(AntEventsCfg):
    """Reset the Ant at its tile's spawn point facing any direction, with jittered joints."""

    def __post_init__(self):
        self.reset_base.params["pose_range"] = {"yaw": (-math.pi, math.pi)}


@configclass
class GoalCurriculumCfg:
    """Move Ants that reach their goal to denser, hillier rows, and those that fall short back."""

    terrain_levels = CurrTerm(func=mdp.terrain_levels_by_goal)


@configclass
class GoalCommandsCfg:
    """A goal 2 to 3 m away, within 60 degrees of where the Ant faces, in the direction with the most room."""

    goal = mdp.SceneGoalCommandCfg(distance_range=(2.0, 3.0), bearing_range=(-math.pi / 3, math.pi / 3))


@configclass
class GoalObservationsCfg:
    """The Ant's own observations plus the goal in its base frame."""

    @configclass
    class PolicyCfg(AntPolicyObsCfg):
        goal = ObsTerm(func=mdp.generated_commands, params={"command_name": "goal"})

    policy: PolicyCfg = PolicyCfg()


@configclass
class GoalRewardsCfg:
    """Head for the goal around obstacles; a bonus for reaching it, a penalty for falling or hitting a tree.

    Isaac Lab scales every reward by the step (1/60 s here), so one-step events carry weights of hundreds: reaching
    the goal is worth 10, a fall or a collision costs 2. Walking toward the goal outweighs standing and facing it:
    with both at 0.5 per second, 64 CPU envs learned to stand facing the goal and none reached it in 300 epochs;
    with these weights 46 % of episodes end at the goal after 300 epochs (random policy: 6 %), and 99 % on the
    H100 with 4096 envs after 400.
    """

    toward_goal = RewTerm(func=mdp.velocity_toward_goal, weight=2.0)
    facing_goal = RewTerm(func=mdp.heading_to_goal, weight=0.1)
    reached = RewTerm(func=mdp.termination_term, weight=600.0, params={"term_name": "goal_reached"})
    alive = RewTerm(func=mdp.is_alive, weight=0.5)
    upright = RewTerm(func=locomotion.upright_posture_bonus, weight=0.1, params={"threshold": 0.93})
    action_l2 = RewTerm(func=mdp.action_l2, weight=-0.005)
    energy = RewTerm(func=locomotion.power_consumption, weight=-0.05, params={"gear_ratio": ANT_GEARS})
    near_obstacle = RewTerm(func=mdp.obstacle_proximity, weight=-0.5, params={"body_radius": ANT_BODY_RADIUS})
    fallen = RewTerm(func=mdp.termination_term, weight=-120.0, params={"term_name": "fallen"})
    collision = RewTerm(func=mdp.termination_term, weight=-120.0, params={"term_name": "collision"})


@configclass
class GoalTerminationsCfg(WalkTerminationsCfg):
    """The walk terminations, plus success on reaching the goal."""

    goal_reached = DoneTerm(func=mdp.goal_reached)


FOREST_WALK_ANT = TrainingSpec(
    scene=ForestSceneSpec(),
    robot=ANT_OFFLINE_CFG,
    actions=AntActionsCfg(),
    observations=WalkObservationsCfg(),
    rewards=WalkRewardsCfg(),
    terminations=WalkTerminationsCfg(),
    events=AntEventsCfg(),
    commands=WalkCommandsCfg(),
    curriculum=ForestCurriculumCfg(),
    sensors=ANT_SENSORS,
    description="Ant walks along x through the generated forest and back, turning before the map's edge, without hitting trees.",
)

FOREST_GOAL_ANT = TrainingSpec(
    scene=ForestSceneSpec(),
    robot=ANT_OFFLINE_CFG,
    actions=AntActionsCfg(),
    observations=GoalObservationsCfg(),
    rewards=GoalRewardsCfg(),
    terminations=GoalTerminationsCfg(),
    events=GoalEventsCfg(),
    commands=GoalCommandsCfg(),
    curriculum=GoalCurriculumCfg(),
    sensors=ANT_SENSORS,
    sim=SimSettings(episode_length_s=10.0),
    description="Ant reaches a goal 2 to 3 m ahead across its tile, around the trees.",
)

FOREST_WALK_ANT.register("Stripe-Forest-Walk-Ant")
FOREST_GOAL_ANT.register("Stripe-Forest-Goal-Ant")

from . import go2_tasks  # noqa: E402, F401  (registers Stripe-Forest-Velocity-Go2)
