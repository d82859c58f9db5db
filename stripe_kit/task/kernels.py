"""Warp kernels of the per-step scene work: obstacle slots that follow the robots, ray casts, and the walk's
direction at the map's edges and at reset; :func:`run_stage` to replay them from a CUDA graph on the Warp frontend,
:func:`warp_view` to pass torch buffers to them cheaply.

Each is one launch with fixed shapes and no host synchronisation, so a step that calls them can be captured in a
CUDA graph. They read an :class:`~stripe_kit.task.obstacle_index.ObstacleIndex` (cells listing the obstacles
within reach) and the generated ground's height grid.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import warp as wp


def warp_view(tensor: Any, dtype: Any) -> wp.array:
    """A Warp array over a torch tensor that lives as long as the env (the same memory), made once and kept on the
    tensor: ``wp.from_torch`` costs the host tens of microseconds, and the reset path runs at nearly every step of a
    few thousand envs."""
    views = tensor.__dict__.setdefault("_stripe_warp_views", {})
    view = views.get(dtype)
    if view is None:
        view = views[dtype] = wp.from_torch(tensor, dtype=dtype)
    return view


def run_stage(env: Any, stage: str, launch: Callable[[], None]) -> None:
    """Run ``launch`` (fixed-shape kernel launches) as a stage of the env's Warp-frontend call switch: recorded in a
    CUDA graph at its first call and replayed after, where that frontend captures; called directly otherwise (the
    torch managers, a CPU). A graph launch costs the host less than a ``wp.launch`` of two dozen arguments.

    Args:
        env: The env.
        stage: The stage's name, ``<Owner>_<what>`` (Isaac Lab's ``ManagerCallSwitch`` rule; the owner's mode is its
            default mode).
        launch: What to run.
    """
    switch = getattr(env, "_manager_call_switch", None)
    if switch is None:
        launch()
    else:
        switch.call_stage(stage=stage, warp_call={"fn": launch}, stable_call={"fn": launch})


@wp.func
def cell_of_point(x: wp.float32, y: wp.float32, origin: wp.vec2f, cell: wp.float32, nx: wp.int32, ny: wp.int32) -> wp.int32:
    """Flat index of the index cell holding a point, clamped to the grid (a non-finite point reads cell 0)."""
    fi = (x - origin[0]) / cell
    fj = (y - origin[1]) / cell
    if not (wp.isfinite(fi) and wp.isfinite(fj)):
        return 0
    i = wp.int32(wp.floor(wp.clamp(fi, 0.0, wp.float32(nx - 1))))
    j = wp.int32(wp.floor(wp.clamp(fj, 0.0, wp.float32(ny - 1))))
    return i * ny + j


@wp.func
def _write_slot(e: wp.int32, column: wp.int32, obstacle: wp.int32, parked: wp.int32,
                obstacle_pose: wp.array(dtype=wp.transformf), obstacle_size: wp.array(dtype=wp.vec3f),
                slot_shape: wp.array2d(dtype=wp.int32), slot_geom: wp.array2d(dtype=wp.int32),
                shape_transform: wp.array(dtype=wp.transformf), shape_scale: wp.array(dtype=wp.vec3f),
                geom_pos: wp.array2d(dtype=wp.vec3f), geom_quat: wp.array2d(dtype=wp.quatf),
                geom_size: wp.array2d(dtype=wp.vec3f), positions: wp.array2d(dtype=wp.vec3f),
                radii: wp.array2d(dtype=wp.float32), slot_obstacle: wp.array2d(dtype=wp.int32),
                slot_pose: wp.array2d(dtype=wp.transformf)):
    pose = obstacle_pose[obstacle]
    size = obstacle_size[obstacle]
    slot_pose[e, column] = pose
    shape = slot_shape[e, column]
    if shape >= 0:
        shape_transform[shape] = pose
        shape_scale[shape] = size
    geom = slot_geom[e, column]
    if geom >= 0:
        # MuJoCo-Warp's per-world copy of the shape (what Newton's notify_model_changed would write), w-first
        q = wp.transform_get_rotation(pose)
        geom_pos[e, geom] = wp.transform_get_translation(pose)
        geom_quat[e, geom] = wp.quatf(q[3], q[0], q[1], q[2])
        geom_size[e, geom] = size
    positions[e, column] = wp.transform_get_translation(pose)
    radii[e, column] = size[0]
    if obstacle == parked:
        slot_obstacle[e, column] = -1
    else:
        slot_obstacle[e, column] = obstacle


@wp.kernel
def follow_obstacles_kernel(
    root_pose: wp.array(dtype=wp.transformf),
    origin: wp.vec2f,
    cell: wp.float32,
    nx: wp.int32,
    ny: wp.int32,
    cell_start: wp.array(dtype=wp.int32),
    cell_items: wp.array(dtype=wp.int32),
    obstacle_group: wp.array(dtype=wp.int32),
    obstacle_pose: wp.array(dtype=wp.transformf),
    obstacle_size: wp.array(dtype=wp.vec3f),
    group_start: wp.array(dtype=wp.int32),
    slot_shape: wp.array2d(dtype=wp.int32),
    slot_geom: wp.array2d(dtype=wp.int32),
    shape_transform: wp.array(dtype=wp.transformf),
    shape_scale: wp.array(dtype=wp.vec3f),
    geom_pos: wp.array2d(dtype=wp.vec3f),
    geom_quat: wp.array2d(dtype=wp.quatf),
    geom_size: wp.array2d(dtype=wp.vec3f),
    positions: wp.array2d(dtype=wp.vec3f),
    radii: wp.array2d(dtype=wp.float32),
    slot_obstacle: wp.array2d(dtype=wp.int32),
    slot_pose: wp.array2d(dtype=wp.transformf),
):
    """Put each env's slots on the obstacles listed around its robot's root; park the slots left over.

    Slots come in groups, each a run of columns (``group_start[g]`` up to ``group_start[g + 1]``) that holds the
    obstacles whose ``obstacle_group`` is ``g``: one group per collider kind on Newton (capsules, then spheres),
    one per kind and size bucket on PhysX, whose shapes keep their spawned size. The last row of ``obstacle_pose``
    and ``obstacle_size`` is the parked pose, far below the ground. Every slot's pose goes to ``slot_pose`` (what a
    backend without writable model arrays, PhysX, writes to its kinematic slot bodies); a slot whose
    ``slot_shape`` is -1 has no Newton shape to write, one whose ``slot_geom`` is -1 no MuJoCo-Warp geom.
    """
    e = wp.tid()
    p = wp.transform_get_translation(root_pose[e])
    c = cell_of_point(p[0], p[1], origin, cell, nx, ny)
    parked = obstacle_pose.shape[0] - 1
    for g in range(group_start.shape[0] - 1):
        column = wp.int32(group_start[g])
        end = group_start[g + 1]
        for k in range(cell_start[c], cell_start[c + 1]):
            o = cell_items[k]
            if obstacle_group[o] == g and column < end:
                _write_slot(e, column, o, parked, obstacle_pose, obstacle_size, slot_shape, slot_geom,
                            shape_transform, shape_scale, geom_pos, geom_quat, geom_size, positions, radii,
                            slot_obstacle, slot_pose)
                column += 1
        for s in range(column, end):
            _write_slot(e, s, parked, parked, obstacle_pose, obstacle_size, slot_shape, slot_geom, shape_transform,
                        shape_scale, geom_pos, geom_quat, geom_size, positions, radii, slot_obstacle, slot_pose)


@wp.func
def ground_height(heights: wp.array2d(dtype=wp.float32), x0: wp.float32, y0: wp.float32, resolution: wp.float32,
                  x: wp.float32, y: wp.float32) -> wp.float32:
    """Bilinear height of the ground grid under a point (edge heights beyond the grid, as ``SceneTensors``)."""
    nx = heights.shape[0]
    ny = heights.shape[1]
    u = (x - x0) / resolution
    v = (y - y0) / resolution
    if not (wp.isfinite(u) and wp.isfinite(v)):
        return heights[0, 0]
    u = wp.clamp(u, 0.0, wp.float32(nx - 1))
    v = wp.clamp(v, 0.0, wp.float32(ny - 1))
    i = wp.min(wp.int32(u), nx - 2)
    j = wp.min(wp.int32(v), ny - 2)
    fu = u - wp.float32(i)
    fv = v - wp.float32(j)
    low = heights[i, j] * (1.0 - fu) + heights[i + 1, j] * fu
    high = heights[i, j + 1] * (1.0 - fu) + heights[i + 1, j + 1] * fu
    return low * (1.0 - fv) + high * fv


@wp.func
def ray_ground(start: wp.vec3f, direction: wp.vec3f, max_distance: wp.float32, heights: wp.array2d(dtype=wp.float32),
               x0: wp.float32, y0: wp.float32, resolution: wp.float32) -> wp.float32:
    """Distance along a unit ray to the ground, or -1 when it does not reach it within ``max_distance``.

    A vertical ray reads the height under it; any other marches in half-cell steps and refines the crossing by
    bisection (1/256 of a half cell).
    """
    above = start[2] - ground_height(heights, x0, y0, resolution, start[0], start[1])
    if above <= 0.0:
        return 0.0
    horizontal = wp.sqrt(direction[0] * direction[0] + direction[1] * direction[1])
    if horizontal < 1.0e-6:
        if direction[2] < 0.0 and above <= -direction[2] * max_distance:
            return above / -direction[2]
        return -1.0
    step = 0.5 * resolution / horizontal
    count = wp.min(wp.int32(wp.ceil(max_distance / step)), 100000)
    low = wp.float32(0.0)
    hit = wp.float32(-1.0)
    for k in range(1, count + 1):
        t = wp.min(wp.float32(k) * step, max_distance)
        p = start + direction * t
        if p[2] - ground_height(heights, x0, y0, resolution, p[0], p[1]) <= 0.0:
            high = t
            for _ in range(8):
                mid = 0.5 * (low + high)
                q = start + direction * mid
                if q[2] - ground_height(heights, x0, y0, resolution, q[0], q[1]) > 0.0:
                    low = mid
                else:
                    high = mid
            hit = high
            break
        low = t
    return hit


@wp.func
def ray_capsule(start: wp.vec3f, direction: wp.vec3f, a: wp.vec3f, b: wp.vec3f, radius: wp.float32) -> wp.float32:
    """Distance along a unit ray to a capsule (segment ``a``-``b``, a sphere when they meet); 0 from inside, -1 on a miss."""
    ba = b - a
    oa = start - a
    baba = wp.dot(ba, ba)
    along = wp.float32(0.0)
    if baba > 0.0:
        along = wp.clamp(wp.dot(oa, ba) / baba, 0.0, 1.0)
    if wp.length(oa - ba * along) <= radius:
        return 0.0
    best = wp.float32(-1.0)
    if baba > 1.0e-12:
        bard = wp.dot(ba, direction)
        baoa = wp.dot(ba, oa)
        qa = baba - bard * bard
        if qa > 1.0e-9:
            qb = baba * wp.dot(direction, oa) - baoa * bard
            qc = baba * wp.dot(oa, oa) - baoa * baoa - radius * radius * baba
            disc = qb * qb - qa * qc
            if disc >= 0.0:
                t = (-qb - wp.sqrt(disc)) / qa
                y = baoa + t * bard
                if t >= 0.0 and y > 0.0 and y < baba:
                    best = t
    for end in range(2):
        centre = a
        if end == 1:
            centre = b
        oc = start - centre
        hb = wp.dot(direction, oc)
        disc = hb * hb - (wp.dot(oc, oc) - radius * radius)
        if disc >= 0.0:
            t = -hb - wp.sqrt(disc)
            if t >= 0.0 and (best < 0.0 or t < best):
                best = t
    return best


@wp.func
def yaw_only(q: wp.quatf) -> wp.quatf:
    """The rotation about z of an orientation (x, y, z, w)."""
    yaw = wp.atan2(2.0 * (q[3] * q[2] + q[0] * q[1]), 1.0 - 2.0 * (q[1] * q[1] + q[2] * q[2]))
    return wp.quatf(0.0, 0.0, wp.sin(0.5 * yaw), wp.cos(0.5 * yaw))


@wp.kernel
def cast_scene_rays_kernel(
    body_pose: wp.array(dtype=wp.transformf),
    offset_pos: wp.vec3f,
    offset_quat: wp.quatf,
    alignment: wp.int32,
    ray_starts: wp.array(dtype=wp.vec3f),
    ray_directions: wp.array(dtype=wp.vec3f),
    max_distance: wp.float32,
    heights: wp.array2d(dtype=wp.float32),
    x0: wp.float32,
    y0: wp.float32,
    resolution: wp.float32,
    origin: wp.vec2f,
    cell: wp.float32,
    nx: wp.int32,
    ny: wp.int32,
    cell_start: wp.array(dtype=wp.int32),
    cell_items: wp.array(dtype=wp.int32),
    obstacle_pose: wp.array(dtype=wp.transformf),
    obstacle_size: wp.array(dtype=wp.vec3f),
    pos_w: wp.array(dtype=wp.vec3f),
    quat_w: wp.array(dtype=wp.quatf),
    hits_w: wp.array2d(dtype=wp.vec3f),
    distances: wp.array2d(dtype=wp.float32),
):
    """Cast one ray of one env's sensor against the ground and every obstacle within the sensor's reach.

    As Isaac Lab's ray caster: the offset moves and turns the ray pattern in the body frame, the reported sensor
    pose is the body's, and rays turn with the body (``alignment`` 2), with its yaw only (1) or not at all (0). A ray that hits nothing within ``max_distance`` reports
    that distance, its end as the hit point.
    """
    e, r = wp.tid()
    pose = body_pose[e]
    pos = wp.transform_get_translation(pose)
    quat = wp.transform_get_rotation(pose)
    frame = wp.quat_identity(dtype=wp.float32)
    if alignment == 1:
        frame = yaw_only(quat)
    elif alignment == 2:
        frame = quat
    # as Isaac Lab's ray caster: the offset moves and turns the ray pattern, the sensor's pose is the body's
    start = pos + wp.quat_rotate(frame, offset_pos + ray_starts[r])
    direction = wp.normalize(wp.quat_rotate(frame, wp.quat_rotate(offset_quat, ray_directions[r])))
    if r == 0:
        pos_w[e] = pos
        quat_w[e] = quat
    best = max_distance
    t = ray_ground(start, direction, max_distance, heights, x0, y0, resolution)
    if t >= 0.0:
        best = wp.min(best, t)
    c = cell_of_point(pos[0], pos[1], origin, cell, nx, ny)
    for k in range(cell_start[c], cell_start[c + 1]):
        o = cell_items[k]
        obstacle = obstacle_pose[o]
        size = obstacle_size[o]
        axis = wp.quat_rotate(wp.transform_get_rotation(obstacle), wp.vec3f(0.0, 0.0, size[1]))
        centre = wp.transform_get_translation(obstacle)
        t = ray_capsule(start, direction, centre - axis, centre + axis, size[0])
        if t >= 0.0:
            best = wp.min(best, t)
    hits_w[e, r] = start + direction * best
    distances[e, r] = best


@wp.kernel
def reset_walk_direction_kernel(mask: wp.array(dtype=wp.bool), env_origins: wp.array(dtype=wp.vec3f),
                                bounds_sum_x: wp.float32, turns: wp.array(dtype=wp.float32),
                                direction: wp.array(dtype=wp.vec2f), ending_turns: wp.array(dtype=wp.float32)):
    """A new episode's walk direction for one env if ``mask`` holds it: along x toward the side of the map with
    more room from the env's origin (``bounds_sum_x``: the map's lowest plus highest x); no turns yet. The ending
    episode's turns add to ``ending_turns[0]`` and the env to its count, ``ending_turns[1]``."""
    e = wp.tid()
    if not mask[e]:
        return
    wp.atomic_add(ending_turns, 0, turns[e])
    wp.atomic_add(ending_turns, 1, 1.0)
    sign = wp.float32(-1.0)
    if env_origins[e][0] * 2.0 < bounds_sum_x:
        sign = 1.0
    direction[e] = wp.vec2f(sign, 0.0)
    turns[e] = 0.0


@wp.kernel
def mean_kernel(sum_and_count: wp.array(dtype=wp.float32), mean: wp.array(dtype=wp.float32)):
    """``mean[0]``: ``sum_and_count[0]`` over ``sum_and_count[1]`` (0 for no count), so that a logged mean is
    computed on the device inside a captured stage."""
    mean[0] = sum_and_count[0] / wp.max(sum_and_count[1], 1.0)


@wp.kernel
def walk_direction_kernel(
    root_pose: wp.array(dtype=wp.transformf),
    low: wp.vec2f,
    high: wp.vec2f,
    turn_distance: wp.float32,
    side_distance: wp.float32,
    turns: wp.array(dtype=wp.float32),
    direction: wp.array(dtype=wp.vec2f),
):
    """One env's walk direction (:class:`~stripe_kit.task.mdp.commands.WalkDirectionCommand`): along x the way it
    points, turned around within ``turn_distance`` of the edge ahead, bent 45 degrees away from a side edge within
    ``side_distance``; counts the turns."""
    e = wp.tid()
    p = wp.transform_get_translation(root_pose[e])
    sign = wp.float32(1.0)
    if direction[e][0] < 0.0:
        sign = -1.0
    room_ahead = p[0] - low[0]
    if sign > 0.0:
        room_ahead = high[0] - p[0]
    if room_ahead < turn_distance:
        sign = -sign
        turns[e] = turns[e] + 1.0
    inward = wp.float32(0.0)
    if p[1] - low[1] < side_distance:
        inward = inward + 1.0
    if high[1] - p[1] < side_distance:
        inward = inward - 1.0
    scale = 1.0 / wp.sqrt(1.0 + inward * inward)
    direction[e] = wp.vec2f(sign * scale, inward * scale)
