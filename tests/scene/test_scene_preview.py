"""Top-down preview images."""

from __future__ import annotations

import os

import numpy as np
import pytest
from matplotlib.image import imread
from scene_helpers import forest

from stripe_kit.errors import SpecError
from stripe_kit.scene.preview import render_preview


def test_preview_is_a_png_with_terrain_objects_and_legend(tmp_path):
    path = render_preview(forest(), str(tmp_path / "forest.png"), size_px=400)
    image = imread(path)
    assert image.shape[:2] == (400, 400)
    colors = np.unique((image[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colors) > 1000  # shaded ground under many objects, not a blank canvas
    assert image[..., :3].std() > 0.1
    assert os.listdir(tmp_path) == ["forest.png"]


def test_preview_rejects_bad_paths_and_sizes(tmp_path):
    with pytest.raises(SpecError, match="^path: "):
        render_preview(forest(), str(tmp_path / "forest.jpg"))
    with pytest.raises(SpecError, match="^path: "):
        render_preview(forest(), str(tmp_path / "missing" / "forest.png"))
    with pytest.raises(SpecError, match="^size_px: "):
        render_preview(forest(), str(tmp_path / "forest.png"), size_px=-5)
    assert os.listdir(tmp_path) == []
