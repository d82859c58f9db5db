"""Videos of STRIPE-kit envs, kitless, on CPU and CUDA: Newton's Warp ray tracer renders one env's robot, the
terrain and the scene's visual meshes from a camera following the robot; PyAV encodes MP4.

- :mod:`~stripe_kit.render.camera`: the follow camera.
- :mod:`~stripe_kit.render.scene_meshes`: the generated scene's visual meshes, merged per part.
- :mod:`~stripe_kit.render.renderer`: the render model and the ray tracer (the renderer choice, with numbers).
- :mod:`~stripe_kit.render.video`: the MP4 writer.
- :mod:`~stripe_kit.render.recorder`: videos of a live env (``stripe-kit play --video``, ``train --video-every``).
"""

import importlib

_EXPORTS = {
    "FollowCamera": "camera", "FollowCameraCfg": "camera", "VideoCfg": "recorder", "VideoRecorder": "recorder",
    "default_video_cfg": "recorder", "EnvRenderer": "renderer", "RenderCfg": "renderer", "VideoWriter": "video",
    "check_video_path": "video",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Import on first use: checking a video path must not start Warp (and its CUDA probe) or Isaac Lab."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
