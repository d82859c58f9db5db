"""The articulated robots of a few envs of a live env, drawn in a viser scene and moved at a fixed rate.

:class:`RobotView` reuses Newton's own viser viewer (``newton.viewer.ViewerViser``) on the GUI's server: Newton
turns the model's shapes of the first envs into meshes (capsules, boxes, the robot's USD meshes), which are added
to the scene once as batched meshes, one instance per env; :meth:`RobotView.update` then reads the bodies' poses
(Newton's ``state.body_q``) and moves the instances. It runs in the front end's thread, on a timer, and only reads:
no kernel is launched there, so the env's own thread (training or play) is never slowed by more than a copy of a
few poses. :meth:`RobotView.update` also draws the ray scans of the followed env
(:class:`~stripe_kit.task.sensors.SceneRayCaster` hits) when :attr:`RobotView.show_rays` is set.

Envs on another physics (PhysX) fall back to points at their robots' root positions. Needs viser and Newton; no
omni, carb or isaacsim import.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

MAX_ENVS = 4
"""Envs whose robots are drawn."""
ROBOT_COLOR = (230, 60, 40)
RAY_COLOR = (255, 200, 0)
RAYS_NODE = "/robots/rays"
POINTS_NODE = "/robots/points"


def _numpy(value: Any) -> np.ndarray:
    """A NumPy array from a torch tensor, a warp array or an array-like (no copy on the CPU where possible)."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy"):
        return value.numpy()
    return np.asarray(value)


def compose(body: np.ndarray, local: np.ndarray) -> np.ndarray:
    """World transforms (N, 7: position, quaternion x y z w) of shapes at ``local`` on bodies at ``body``."""
    from scipy.spatial.transform import Rotation

    rotation = Rotation.from_quat(body[:, 3:7])  # scipy's quaternions are (x, y, z, w), as Newton's
    out = np.empty((len(body), 7), dtype=np.float32)
    out[:, :3] = body[:, :3] + rotation.apply(local[:, :3])
    out[:, 3:] = (rotation * Rotation.from_quat(local[:, 3:7])).as_quat()
    return out


def _viewer_class() -> type:
    """``ViewerViser`` subclassed to draw into a server it is given and only the worlds it is told."""
    from newton.viewer import ViewerViser
    from newton._src.viewer.viewer import ViewerBase

    class SharedServerViewer(ViewerViser):
        """Newton's viser viewer on an existing ``viser.ViserServer``, rendering only ``worlds``."""

        def __init__(self, server: Any, worlds: set[int]):  # noqa: D107 - ViewerViser.__init__ opens its own server
            self._worlds = set(worlds)
            self._scalar_buffers, self._scalar_accumulators, self._scalar_smoothing = {}, {}, {}
            self._scalar_dirty, self._plot_handles, self._plot_folder = set(), {}, None
            self._plot_history_size = 250
            self._plane_meshes, self._plane_handles, self._plane_geometry_keys = {}, {}, {}
            ViewerBase.__init__(self)
            self._running, self.verbose = True, False
            self._meshes, self._instances, self._scene_handles = {}, {}, {}
            self._gaussian_splats, self._line_segment_counts, self._line_versions = {}, {}, {}
            self._server = server
            self._camera_request, self._pending_camera_clients = None, set()
            self._port, self.is_jupyter_notebook, self._share_url = server.get_port(), False, None
            self._frame_dt, self._record_to_viser, self._serializer = 0.0, None, None

        def _should_render_world(self, world_idx: int) -> bool:
            return int(world_idx) in self._worlds  # global shapes (the ground, world -1) are drawn by the page

    return SharedServerViewer


class _Batch:
    """One batch of Newton's viewer: a shape geometry instanced on bodies of the drawn envs."""

    def __init__(self, batch: Any, visible: bool):
        self.name, self.mesh, self.visible = batch.name, batch.mesh, visible
        self.parents = np.asarray(batch.parents.numpy(), dtype=np.int64)
        self.local = np.asarray(batch.xforms.numpy(), dtype=np.float32).reshape(-1, 7)
        self.scales = np.asarray(batch.scales.numpy(), dtype=np.float32).reshape(-1, 3)
        self.colors = np.asarray(batch.colors.numpy(), dtype=np.float32).reshape(-1, 3)
        self.drawn = False


def _rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0


class RobotView:
    """Robots of the first :data:`MAX_ENVS` envs of a live env, drawn in ``server``'s scene.

    Args:
        server: A ``viser.ViserServer``.
        max_envs: How many envs' robots are drawn.
    """

    def __init__(self, server: Any, max_envs: int = MAX_ENVS):
        self.server = server
        self.max_envs = max_envs
        self.env: Any = None
        """The unwrapped env drawn (None: none)."""
        self.follow = 0
        """Env whose ray scans are drawn."""
        self.show_rays = False
        """Draw the followed env's ray scans."""
        self.updates = 0
        """Pose updates sent since :meth:`attach`."""
        self._viewer: Any = None
        self._batches: list[_Batch] = []
        self._bodies: np.ndarray | None = None
        self._last: np.ndarray | None = None
        self._points: Any = None
        self._rays: Any = None
        self._times: list[float] = []
        self._reads: list[float] = []

    @property
    def meshes(self) -> bool:
        """Whether the robots are drawn as meshes (Newton), not as points."""
        return self._viewer is not None

    @property
    def rate(self) -> float:
        """Pose updates sent per second over the last 3 s (none is sent while the env does not step)."""
        return _rate(self._times)

    @property
    def read_rate(self) -> float:
        """Pose reads per second over the last 3 s: the rate the robots move at while the env steps."""
        return _rate(self._reads)

    def attach(self, env: Any) -> None:
        """Draw the robots of ``env`` (an Isaac Lab env, wrapped or not); replaces any drawn before."""
        env = getattr(env, "unwrapped", env)
        if env is self.env:
            return
        self.detach()
        self.env = env
        try:
            self._attach_newton(env)
        except Exception:  # noqa: BLE001 - a robot the viewer cannot mesh is still drawn, as points
            logger.exception("robot meshes unavailable; drawing points")
            self._detach_viewer()

    def _attach_newton(self, env: Any) -> None:
        from ..task.env import physics_backend

        if physics_backend(env.cfg.sim.physics) != "newton":
            return
        import newton
        from isaaclab_newton.physics.newton_manager import NewtonManager

        model = NewtonManager.get_model()
        worlds = set(range(min(self.max_envs, int(model.world_count))))
        viewer = _viewer_class()(self.server, worlds)
        viewer.set_model(model)
        shape_flags = model.shape_flags.numpy()
        shape_body = model.shape_body.numpy()
        visual = bool(np.any((shape_flags & int(newton.ShapeFlags.VISIBLE)) & (shape_body >= 0)))
        viewer.show_visual, viewer.show_collision = True, not visual  # the Ant has collision shapes only
        self._viewer = viewer
        self._batches = [_Batch(batch, viewer._should_show_shape(batch.flags, False, batch.geo_type))
                         for batch in viewer._shape_instances.values() if not batch.static]
        parents = [batch.parents for batch in self._batches]
        self._bodies = np.unique(np.concatenate(parents)) if parents else None

    def detach(self) -> None:
        """Remove the drawn robots and rays."""
        self._detach_viewer()
        for node in (self._points, self._rays):
            if node is not None:
                node.remove()
        self._points = self._rays = None
        self.env = None
        self.updates = 0
        self._times, self._reads = [], []

    def _detach_viewer(self) -> None:
        if self._viewer is not None:
            for handle in list(self._viewer._scene_handles.values()):
                try:
                    handle.remove()
                except Exception:  # noqa: BLE001 - gone already
                    pass
        self._viewer = None
        self._batches = []
        self._bodies = None
        self._last = None

    # -- reading ------------------------------------------------------------------------------------------------------

    def body_poses(self) -> np.ndarray | None:
        """Poses (bodies, 7: position, quaternion x y z w) of every body of the Newton model (None without one)."""
        if self._viewer is None:
            return None
        from isaaclab_newton.physics.newton_manager import NewtonManager

        state = NewtonManager.get_state_0()
        return None if state is None or state.body_q is None else _numpy(state.body_q).reshape(-1, 7)

    def root_positions(self) -> np.ndarray | None:
        """Root positions (max_envs, 3) of the drawn robots (None without a robot)."""
        try:
            robot = self.env.scene["robot"]
        except (KeyError, TypeError, AttributeError):
            return None
        return np.asarray(_numpy(robot.data.root_pos_w), dtype=np.float32).reshape(-1, 3)[:self.max_envs].copy()

    def ray_hits(self) -> np.ndarray | None:
        """Hit points (rays, 3) of every :class:`~stripe_kit.task.sensors.SceneRayCaster` of the followed env, as
        last computed by the env (nothing is computed here); None without such a sensor."""
        from ..task.sensors import SceneRayCaster

        hits = []
        for sensor in getattr(self.env.scene, "sensors", {}).values():
            data = getattr(sensor, "_data", None) if isinstance(sensor, SceneRayCaster) else None
            if data is not None and self.follow < data._ray_hits_w.shape[0]:
                hits.append(np.asarray(_numpy(data._ray_hits_w)[self.follow], dtype=np.float32).reshape(-1, 3))
        return np.concatenate(hits) if hits else None

    # -- drawing ------------------------------------------------------------------------------------------------------

    def update(self) -> bool:
        """Move the drawn robots to the env's current poses (and redraw the rays); call it on a timer from the
        front end's thread. Returns True if something was sent."""
        if self.env is None:
            return False
        try:
            with self.server.atomic():  # one bundle per update: the browser applies it at once
                sent = self._update_meshes() if self._viewer is not None else self._update_points()
                self._update_rays()
        except Exception:  # noqa: BLE001 - an env closing under us: drawn again once attached anew
            logger.debug("robot view update failed", exc_info=True)
            return False
        now = time.monotonic()
        self._reads = [t for t in self._reads if t > now - 3.0] + [now]
        if sent:
            self.updates += 1
            self._times = [t for t in self._times if t > now - 3.0] + [now]
        return sent

    def _update_meshes(self) -> bool:
        poses = self.body_poses()
        if poses is None:
            return False
        drawn = poses[self._bodies].copy() if self._bodies is not None else None
        if drawn is not None and self._last is not None and np.array_equal(drawn, self._last):
            return False  # the env did not step (an update of the policy): nothing to send
        self._last = drawn
        for batch in self._batches:
            if not batch.visible:
                continue
            world = compose(poses[batch.parents], batch.local)
            handle = self._viewer._scene_handles.get(batch.name) if batch.drawn else None
            if handle is None:  # first time: Newton's viewer adds the batched mesh
                self._viewer.log_instances(batch.name, batch.mesh, world, batch.scales, batch.colors, None)
                batch.drawn = True
            else:  # then only the poses change (two messages per batch)
                handle.batched_positions = world[:, :3]
                handle.batched_wxyzs = world[:, [6, 3, 4, 5]]
        return bool(self._batches)

    def _update_points(self) -> bool:
        positions = self.root_positions()
        if positions is None:
            return False
        if self._points is None:
            self._points = self.server.scene.add_point_cloud(
                POINTS_NODE, points=positions, colors=ROBOT_COLOR, point_size=0.5, point_shape="circle")
        else:
            self._points.points = positions
        return True

    def _update_rays(self) -> None:
        hits = self.ray_hits() if self.show_rays else None
        if hits is None or not len(hits):
            if self._rays is not None:
                self._rays.remove()
                self._rays = None
            return
        if self._rays is None or len(self._rays.points) != len(hits):
            if self._rays is not None:
                self._rays.remove()
            self._rays = self.server.scene.add_point_cloud(
                RAYS_NODE, points=hits, colors=RAY_COLOR, point_size=0.08, point_shape="circle")
        else:
            self._rays.points = hits
