"""The learning-curve PNG: readable before any episode has finished and after."""

from __future__ import annotations

import itertools

import pytest

from stripe_kit.train.monitor import learning_curve_figure, write_learning_curve

NO_EPISODE = [{"epoch": e, "frames": 128 * e, "mean_reward": None, "mean_episode_length": None} for e in (1, 2)]
EPISODES = [{"epoch": e, "frames": 4096 * e, "mean_reward": 0.1 * e, "mean_episode_length": 10.0 + e}
            for e in range(1, 301)]


def _all_axes(figure) -> list:
    """The plots and their secondary (epoch) axes."""
    return [axes for ax in figure.axes for axes in (ax, *ax.child_axes)]


def _tick_label_boxes(figure) -> dict[str, list]:
    """Window extents of the visible, non-empty tick labels of every axis, by axis."""
    renderer = figure.canvas.get_renderer()
    figure.draw(renderer)
    boxes = {}
    for index, ax in enumerate(_all_axes(figure)):
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            visible = [label for label in axis.get_ticklabels() if label.get_visible() and label.get_text()]
            boxes[f"{index}{name}"] = [label.get_window_extent(renderer) for label in visible]
    return boxes


@pytest.mark.parametrize("history", [NO_EPISODE, NO_EPISODE[:1], EPISODES], ids=["no-episode", "one-epoch", "300"])
def test_tick_labels_do_not_overlap(history):
    figure = learning_curve_figure(history, "Stripe-Forest-Walk-Ant")
    boxes = _tick_label_boxes(figure)
    assert any(boxes.values())
    for axis, extents in boxes.items():
        for a, b in itertools.combinations(extents, 2):
            assert not a.overlaps(b), f"axis {axis}: tick labels overlap at {a} and {b}"
    epoch_axes = [ax for ax in _all_axes(figure) if ax.get_xlabel() == "epoch"]
    assert len(epoch_axes) == 2
    last = history[-1]["epoch"]
    for ax in epoch_axes:  # whole epochs on the top axis, spanning the run
        ticks = [float(label.get_text().replace("\u2212", "-")) for label in ax.xaxis.get_ticklabels() if label.get_text()]
        assert ticks and all(tick == int(tick) for tick in ticks) and max(ticks) >= last / 2


def test_no_episode_yet_is_said_on_the_plot(tmp_path):
    figure = learning_curve_figure(NO_EPISODE)
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert texts.count("no finished episode yet") == 2
    assert write_learning_curve(NO_EPISODE, tmp_path / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert write_learning_curve([], tmp_path / "none.png") is None
