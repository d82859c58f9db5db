"""Render one env of a running STRIPE-kit env with Newton's Warp ray tracer, on the env's device (CPU or CUDA).

Renderer choice, measured on the shared 2-core CPU VM (Stripe-Forest-Walk-Ant, 1 env, camera following the Ant):

- Newton 1.6's ``SensorTiledCamera`` (pure Warp, no OpenGL; the same kernels on CUDA) is the one used. At
  320 x 240 it rendered a frame in 273 ms with shadows and the textured terrain (3.7 frames/s), 134 ms without
  shadows, 75 ms at 160 x 120, with the machine's load average about 4; ``benchmarks/video.py`` measured 1.2
  frames/s at 320 x 240 and 0.31 at 640 x 480 with the load average at 8 (``benchmarks/results/video-vm-cpu.json``).
  Warp runs CPU kernels on one core, so CPU videos default to 320 x 240; on CUDA every pixel is a thread.
- Newton's ``ViewerGL`` headless (Isaac Lab 3's ``video_capture_backend`` "newton_gl") needs pyglet, which is not
  installed, and an OpenGL context: this VM has only Mesa's software EGL (llvmpipe). Not measured.
- MuJoCo's renderer needs the same OpenGL context and draws only MuJoCo's geoms: the colliders, no visual meshes.
- Isaac Lab's viser visualizer streams a scene to a browser; it writes no video.

The env's Newton model holds the robot and the scene's physics only: the terrain as height fields and a few
obstacle collider slots per env. So the renderer builds a small model of its own, with one world: the robot's
shapes (its visual shapes, or its collision shapes for robots such as the Ant that have none), one body per robot
link, and the scene's visual meshes (:mod:`stripe_kit.render.scene_meshes`) within ``scene_radius`` of the robot.
Each frame copies env 0's link poses from Isaac Lab's articulation data into that model's state (a device copy),
refits its BVH and ray traces one image: no host sync but the copy of the frame, which the recorder batches.
"""

from __future__ import annotations

import re
import numpy as np
import torch
import warp as wp
from isaaclab.utils import configclass

from .camera import FollowCamera, FollowCameraCfg
from .scene_meshes import scene_render_meshes

@configclass
class RenderCfg:
    """Image size, camera and look of the rendered env."""

    width: int = 640
    """Image width [px] (even: H.264's 4:2:0 chroma needs it)."""
    height: int = 480
    """Image height [px] (even)."""
    camera: FollowCameraCfg = FollowCameraCfg()
    """Camera following the robot."""
    scene_radius: float = 60.0
    """Half side of the square of scene meshes around the robot that are rendered [m]; the renderer rebuilds
    them around the robot when it leaves the inner half of that square."""
    shadows: bool = True
    """Cast shadows from the sun."""
    sun_direction: tuple[float, float, float] = (-0.45, 0.35, -0.82)
    """Direction the sunlight travels (world axes)."""
    sky_color: tuple[int, int, int] = (176, 206, 232)
    """sRGB colour where no ray hits [0-255]."""
    robot_color: tuple[float, float, float] | None = (0.92, 0.52, 0.16)
    """sRGB colour of robots drawn from their collision shapes (they have no visual ones); None keeps the model's."""


class EnvRenderer:
    """Ray traces one env (its robot, the terrain and the scene's objects) from a camera following its robot."""

    def __init__(self, env, cfg: RenderCfg | None = None, env_index: int = 0, robot: str = "robot"):
        """Build the render model from the env's Newton model and generated scene.

        Args:
            env: A built :class:`~stripe_kit.task.env.StripeEnv` on Newton physics.
            cfg: Image size, camera and look.
            env_index: The env whose robot is followed and drawn.
            robot: Name of the robot articulation in the env's scene.
        """
        from ..errors import SpecError

        from ..task.env import physics_backend

        if physics_backend(env.cfg.sim.physics) != "newton":
            raise SpecError("video", "physics 'physx'", "an env on Newton physics (videos draw the robot from the "
                            "Newton model; PhysX envs have none)")
        self.cfg = cfg or RenderCfg()
        for name in ("width", "height"):
            value = getattr(self.cfg, name)
            if not isinstance(value, int) or value < 16 or value > 4096 or value % 2:
                raise SpecError(f"video.{name}", value, "an even number of pixels from 16 to 4096")
        self.env = env
        self.env_index = env_index
        self.device = str(env.device)
        self._robot = env.scene[robot]
        self._poses = None  # link poses of the robot in env_index, a torch view of the articulation data
        self.camera = FollowCamera(self.cfg.camera, self.device)
        self._center: np.ndarray | None = None
        self._build(self._root_xy())

    # the render model
    def _root_xy(self) -> np.ndarray:
        return wp.to_torch(self._robot.data.root_link_pose_w.warp)[self.env_index, :2].cpu().numpy()

    def _build(self, center: np.ndarray) -> None:
        import newton
        from newton.sensors import SensorTiledCamera

        builder = newton.ModelBuilder(up_axis=newton.Axis.Z, gravity=0.0)
        visual = newton.ModelBuilder.ShapeConfig(has_shape_collision=False, has_particle_collision=False,
                                                 density=0.0, is_visible=True)
        self._add_robot(builder, visual)
        self.robot_shapes = builder.shape_count
        for mesh in scene_render_meshes(self.env.generated_scene, tuple(center), self.cfg.scene_radius):
            if not len(mesh.faces):
                continue
            source = newton.Mesh(mesh.vertices, mesh.faces.reshape(-1), normals=mesh.normals, uvs=mesh.uvs,
                                 texture=mesh.texture, color=mesh.color, compute_inertia=False)
            builder.add_shape_mesh(-1, mesh=source, cfg=visual, color=mesh.color, label=mesh.name)
        with wp.ScopedDevice(self.device):
            self.model = builder.finalize(device=self.device)
        self.state = self.model.state()
        config = SensorTiledCamera.RenderConfig(enable_textures=True, enable_shadows=self.cfg.shadows)
        self.sensor = SensorTiledCamera(self.model, default_render_config=config)
        sun = np.asarray(self.cfg.sun_direction, float)
        self.sensor.utils.create_default_light(enable_shadows=self.cfg.shadows,
                                               direction=wp.vec3f(*(sun / np.linalg.norm(sun))))
        width, height = self.cfg.width, self.cfg.height
        self.rays = self.sensor.utils.compute_camera_rays_pinhole(width, height,
                                                                  camera_fovs=np.radians(self.cfg.camera.fov_deg))
        self.image = self.sensor.utils.create_color_image_output(width, height)
        self.camera_transforms = wp.zeros((1, 1), dtype=wp.transformf, device=self.device)
        self._camera_pose = wp.to_torch(self.camera_transforms).reshape(7)
        r, g, b = self.cfg.sky_color
        self.clear = SensorTiledCamera.ClearData(clear_color=(0xFF << 24) | (b << 16) | (g << 8) | r)
        self._body_q = wp.to_torch(self.state.body_q)
        self._center = np.asarray(center, float)

    def _add_robot(self, builder, visual) -> None:
        """One body per robot link, holding that link's shapes from env ``env_index`` of the env's Newton model."""
        import newton
        from isaaclab_newton.physics import NewtonManager

        source = NewtonManager.get_model()
        labels = list(source.body_label if hasattr(source, "body_label") else source.body_key)
        shape_body = source.shape_body.numpy()
        flags = source.shape_flags.numpy()
        types = source.shape_type.numpy()
        transforms = source.shape_transform.numpy()
        scales = source.shape_scale.numpy()
        colors = source.shape_color.numpy() if source.shape_color is not None else None
        prefix = self._robot.cfg.prim_path.replace("{ENV_REGEX_NS}", "/World/envs/env_[^/]+")
        pattern = re.compile(prefix + "/(?:.+/)?([^/]+)")
        env_part = f"/env_{self.env_index}/"
        body_of = {match.group(1): index for index, label in enumerate(labels)
                   if env_part in label and (match := pattern.fullmatch(label))}
        names = list(self._robot.body_names)
        missing = [name for name in names if name not in body_of]
        if missing:
            raise RuntimeError(f"the robot's links {missing} are not bodies of the Newton model under {prefix}")
        for name in names:
            body = builder.add_body(label=name, mass=1.0)
            shapes = np.flatnonzero(shape_body == body_of[name])
            shown = shapes[(flags[shapes] & int(newton.ShapeFlags.VISIBLE)) != 0]
            painted = not shown.size
            for shape in shown if shown.size else shapes:
                color = self.cfg.robot_color if painted and self.cfg.robot_color is not None else (
                    tuple(float(c) for c in colors[shape]) if colors is not None else None)
                builder.add_shape(body=body, type=int(types[shape]), xform=wp.transformf(*transforms[shape]),
                                  cfg=visual, scale=tuple(float(s) for s in scales[shape]),
                                  src=source.shape_source[shape], color=color, label=f"{name}_{shape}")

    # frames
    def render(self, show_robot: bool = True) -> torch.Tensor:
        """Ray trace the current state of the followed env; returns an RGB image (H, W, 3) uint8 on the device.

        Args:
            show_robot: False hides the robot (its links are moved far below the ground), for comparisons.
        """
        if self.device.startswith("cuda"):
            # torch's copies and Warp's kernels in one stream, in order, with no sync between them
            with wp.ScopedStream(wp.stream_from_torch(torch.cuda.current_stream(self.device))):
                self._trace(show_robot)
        else:
            self._trace(show_robot)
        pixels = wp.to_torch(self.image).view(torch.uint8)
        return pixels.reshape(self.cfg.height, self.cfg.width, 4)[..., :3]

    def _trace(self, show_robot: bool) -> None:
        """Copy the robot's link poses and the camera pose into the render model, refit and ray trace."""
        poses = wp.to_torch(self._robot.data.body_link_pose_w.warp)[self.env_index]
        self._body_q.copy_(poses)
        if not show_robot:
            self._body_q[:, 2] -= 1.0e4
        scene_data = getattr(self.env, "scene_data", None)
        root = wp.to_torch(self._robot.data.root_link_pose_w.warp)[self.env_index, :3]
        self._camera_pose.copy_(self.camera.follow(root, scene_data.height_at if scene_data is not None else None))
        self.model.bvh_refit_shapes(self.state)
        self.sensor.update(self.state, self.camera_transforms, self.rays, color_image=self.image,
                           clear_data=self.clear)

    def recenter_if_needed(self) -> bool:
        """Rebuild the scene meshes around the robot when it left the inner half of the rendered square (a host
        sync: call it between videos, not per frame). Returns whether it rebuilt."""
        xy = self._root_xy()
        if np.abs(xy - self._center).max() <= 0.5 * self.cfg.scene_radius:
            return False
        self._build(xy)
        return True
