"""Encode frames to an H.264 MP4 with PyAV (FFmpeg's libraries, shipped in the ``av`` wheel), off the caller's thread.

Frames arrive in batches (one host copy per batch of device frames) and a background thread encodes them, so a
training loop only pays for the render and the copy. The file is written under a temporary name next to the target
and renamed when complete, so a reader never sees half a video; a failed encode leaves no file.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path

import numpy as np

from ..errors import SpecError


def check_video_path(field: str, path: str | os.PathLike) -> Path:
    """A video output path: ends in ``.mp4`` and its directory exists. Raises :class:`SpecError` naming ``field``."""
    path = Path(path).expanduser()
    if path.suffix.lower() != ".mp4":
        raise SpecError(field, str(path), "a file name ending in .mp4")
    if not path.parent.is_dir():
        raise SpecError(field, str(path), f"a file in an existing directory ({path.parent} does not exist)")
    if path.is_dir():
        raise SpecError(field, str(path), "a file name, not a directory")
    return path


class VideoWriter:
    """Writes one MP4 from RGB frames (H, W, 3) uint8, encoding on a background thread."""

    def __init__(self, path: str | os.PathLike, fps: float, width: int, height: int, crf: int = 23):
        """Open the temporary file and start the encoder thread.

        Args:
            path: The ``.mp4`` file written when :meth:`close` returns.
            fps: Frames per second of playback (the env's policy rate plays in real time).
            width: Frame width [px], even.
            height: Frame height [px], even.
            crf: H.264 constant rate factor (lower: better and larger; 23 is FFmpeg's default).
        """
        self.path = Path(path)
        self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        self.frames = 0
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._args = (fps, width, height, crf)
        self._thread = threading.Thread(target=self._encode, name=f"video {self.path.name}", daemon=True)
        self._thread.start()

    def write(self, frames: np.ndarray) -> None:
        """Queue frames (N, H, W, 3) or one frame (H, W, 3), uint8, for encoding."""
        if self._error is not None:
            raise RuntimeError(f"encoding {self.path} failed: {self._error}") from self._error
        frames = np.asarray(frames, dtype=np.uint8)
        self._queue.put(frames[None] if frames.ndim == 3 else frames)

    def close(self) -> Path:
        """Finish encoding and rename the file into place; returns its path."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            self._temporary.unlink(missing_ok=True)
            raise RuntimeError(f"encoding {self.path} failed: {self._error}") from self._error
        os.replace(self._temporary, self.path)
        return self.path

    def _encode(self) -> None:
        import fractions

        import av

        fps, width, height, crf = self._args
        ended = False
        try:
            with av.open(str(self._temporary), mode="w", format="mp4") as container:
                stream = container.add_stream("libx264", rate=fractions.Fraction(round(fps * 1000), 1000))
                stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
                stream.options = {"crf": str(crf), "preset": "veryfast"}
                while (batch := self._queue.get()) is not None:
                    for frame in batch:
                        container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
                        self.frames += 1
                ended = True
                container.mux(stream.encode())
        except BaseException as error:  # noqa: BLE001 - reported by write/close on the caller's thread
            self._error = error
            while not ended and self._queue.get() is not None:  # drain, so that the caller never blocks on a full queue
                pass
