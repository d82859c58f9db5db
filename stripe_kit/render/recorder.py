"""Record videos of a running env: the frames of one env, rendered after each env step, written as MP4 files.

Used by ``stripe-kit play --video`` (one video of the played policy) and by training with ``--video-every N`` (a
video of the training envs themselves every N epochs, as Isaac Lab's ``RecordVideo`` wrapper records env 0 of the
training env: no second env is built). Frames are rendered on the env's device into a batch buffer there, which is
copied to the host once per ``batch_frames`` frames and encoded on a background thread.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from isaaclab.utils import configclass

from .renderer import EnvRenderer, RenderCfg
from .video import VideoWriter


@configclass
class VideoCfg:
    """What a recorded video looks like and how it is written."""

    render: RenderCfg = RenderCfg()
    """Image size, camera and look."""
    crf: int = 23
    """H.264 constant rate factor (lower: better and larger)."""
    batch_frames: int = 32
    """Frames rendered on the device between two copies to the host."""


def default_video_cfg(device: str) -> VideoCfg:
    """640 x 480 on CUDA; 320 x 240 on CPU, where Warp's ray tracer runs on one core (see ``benchmarks/video.py``)."""
    cfg = VideoCfg()
    if not str(device).startswith("cuda"):
        cfg.render.width, cfg.render.height = 320, 240
    return cfg


class VideoRecorder:
    """Records videos of env ``env_index`` of a live env, one at a time, frame by frame after each env step."""

    def __init__(self, env, cfg: VideoCfg | None = None, env_index: int = 0):
        self.env = env
        self.cfg = cfg or default_video_cfg(str(env.device))
        self.env_index = env_index
        self.fps = 1.0 / float(env.step_dt)
        self.renderer: EnvRenderer | None = None
        self._writer: VideoWriter | None = None
        self._length = 0
        self._recorded = 0
        self._batch: torch.Tensor | None = None
        self._filled = 0
        self.written: list[Path] = []
        """Videos completed so far."""

    @property
    def recording(self) -> bool:
        """Whether a video is being recorded."""
        return self._writer is not None

    def start(self, path: str | os.PathLike, length: int) -> None:
        """Start recording ``length`` frames into ``path`` (the current frame is the first)."""
        if self.recording:
            self.finish()
        render = self.cfg.render
        if self.renderer is None:
            self.renderer = EnvRenderer(self.env, render, self.env_index)
        else:
            self.renderer.recenter_if_needed()
        self.renderer.camera.reset()
        if self._batch is None:
            self._batch = torch.empty((self.cfg.batch_frames, render.height, render.width, 3), dtype=torch.uint8,
                                      device=self.renderer.device)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = VideoWriter(path, self.fps, render.width, render.height, self.cfg.crf)
        self._length, self._recorded, self._filled = int(length), 0, 0
        self.capture()

    def capture(self) -> None:
        """Render one frame of the current state into the video (the recorder's per-step work)."""
        if self._writer is None:
            return
        self._batch[self._filled].copy_(self.renderer.render())
        self._filled += 1
        self._recorded += 1
        if self._filled == len(self._batch):
            self._flush()
        if self._recorded >= self._length:
            self.finish()

    def finish(self) -> Path | None:
        """Write the frames so far and close the video; returns its path (None when none was recording)."""
        if self._writer is None:
            return None
        self._flush()
        writer, self._writer = self._writer, None
        path = writer.close()
        self.written.append(path)
        return path

    def _flush(self) -> None:
        if self._filled:
            self._writer.write(self._batch[: self._filled].to("cpu", copy=True).numpy())
            self._filled = 0
