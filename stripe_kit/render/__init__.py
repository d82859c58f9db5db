"""Videos of STRIPE-kit envs, kitless, on CPU and CUDA: Newton's Warp ray tracer renders one env's robot, the
terrain and the scene's visual meshes from a camera following the robot; PyAV encodes MP4.

- :mod:`~stripe_kit.render.camera`: the follow camera.
- :mod:`~stripe_kit.render.scene_meshes`: the generated scene's visual meshes, merged per part.
- :mod:`~stripe_kit.render.renderer`: the render model and the ray tracer (the renderer choice, with numbers).
- :mod:`~stripe_kit.render.video`: the MP4 writer.
- :mod:`~stripe_kit.render.recorder`: videos of a live env (``stripe-kit play --video``, ``train --video-every``).
"""

from .camera import FollowCamera, FollowCameraCfg
from .recorder import VideoCfg, VideoRecorder, default_video_cfg
from .renderer import EnvRenderer, RenderCfg
from .video import VideoWriter, check_video_path

__all__ = [
    "EnvRenderer", "FollowCamera", "FollowCameraCfg", "RenderCfg", "VideoCfg", "VideoRecorder", "VideoWriter",
    "check_video_path", "default_video_cfg",
]
