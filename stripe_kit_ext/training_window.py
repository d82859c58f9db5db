"""The training window: a thin ``omni.ui`` layer over :class:`stripe_kit.ui.TrainingPanelModel`.

Everything but drawing lives in the model (options and their validation, the session, status, metric history, run
list). The window polls the model once per app update (the model then notifies what changed) and redraws from it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import carb
import carb.eventdispatcher
import omni.kit.app
import omni.ui as ui

from stripe_kit.ui.training_panel import TrainingPanelModel

WINDOW_TITLE = "STRIPE-kit Training"
"""Title of the window (also its name for ``ui.Workspace.get_window``)."""

_ERROR_STYLE = {"color": 0xFF4A4AE0}
_STATUS_STYLE = {"color": 0xFF9BC79B}
_LABEL_WIDTH = ui.Percent(38)
_PLOT_STYLE = {"color": 0xFF4CAF50, "background_color": 0xFF202020}


class TrainingWindow(ui.Window):
    """Task picker, options, Start/Stop, progress, epoch and status lines, reward plot, last checkpoint, runs.

    Args:
        model: The view-model to draw; one is made (runs under ``./runs``) when None.
        title: Window title.
    """

    def __init__(self, model: TrainingPanelModel | None = None, title: str = WINDOW_TITLE, **kwargs):
        kwargs.setdefault("width", 420)
        kwargs.setdefault("height", 640)
        super().__init__(title, **kwargs)
        self.model = model if model is not None else TrainingPanelModel()
        self._option_fields: dict[str, ui.StringField] = {}
        self._progress: ui.SimpleFloatModel = ui.SimpleFloatModel(0.0)
        self._plot: ui.Plot | None = None
        self._labels: dict[str, ui.Label] = {}
        self._buttons: dict[str, ui.Button] = {}
        self._unsubscribe = self.model.subscribe(self._on_model_event)
        # Events 2.0 (Kit 107+), as Isaac Sim's own extensions observe the app update
        self._update_sub = carb.eventdispatcher.get_eventdispatcher().observe_event(
            event_name=omni.kit.app.GLOBAL_EVENT_UPDATE, on_event=lambda _event: self.model.poll(),
            observer_name="stripe_kit_ext training window poll")
        self.frame.set_build_fn(self._build)

    def destroy(self) -> None:
        """Stop polling and listening to the model and release the widgets (a live run keeps going)."""
        self._update_sub = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._option_fields, self._labels, self._buttons, self._plot = {}, {}, {}, None
        super().destroy()

    # -- model events -------------------------------------------------------------------------------------------------

    def _on_model_event(self, event: str) -> None:
        if event == "tasks":
            self.frame.rebuild()
        else:
            self._sync()

    def _sync(self) -> None:
        """Push the model's status, history and messages into the widgets."""
        if not self._labels:
            return
        model = self.model
        status = model.status()
        live = model.running
        self._buttons["start"].enabled = not live
        self._buttons["headless"].enabled = not live
        self._buttons["stop"].enabled = live
        self._buttons["open"].enabled = bool(status.run_dir)
        self._progress.set_value(model.progress)
        total = f" / {status.max_epochs}" if status.max_epochs else ""
        self._labels["epoch"].text = f"Epoch {status.epoch}{total} ({status.state})"
        self._labels["status"].text = "\n".join(model.status_lines()[2:])
        self._labels["checkpoint"].text = f"Last checkpoint: {status.last_checkpoint or 'none'}"
        self._labels["error"].text = model.error or ""
        self._labels["message"].text = "" if model.error else model.message
        rewards = [r for r in model.history.rewards if r is not None]
        if self._plot is not None and rewards:
            low, high = min(rewards), max(rewards)
            pad = max(1e-3, 0.05 * (high - low))
            self._plot.scale_min, self._plot.scale_max = low - pad, high + pad
            self._plot.set_data(*rewards)
        runs = model.runs[-5:]
        self._labels["runs"].text = "\n".join(f"{r.task}/{r.name}: {r.status}, epoch {r.epoch}" for r in runs)
        for name, field in self._option_fields.items():
            option = model.options[name]
            field.style = _ERROR_STYLE if option.error else {}

    # -- layout -------------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        model = self.model
        self._option_fields, self._labels, self._buttons = {}, {}, {}
        with ui.ScrollingFrame(horizontal_scrollbar_policy=ui.ScrollBarPolicy.SCROLLBAR_ALWAYS_OFF):
            with ui.VStack(spacing=6, height=0):
                with ui.HStack(height=0):
                    ui.Label("Task", width=_LABEL_WIDTH)
                    tasks = model.tasks
                    index = tasks.index(model.task) if model.task in tasks else 0
                    combo = ui.ComboBox(index, *tasks, identifier="stripe_task_combo")
                    combo.model.get_item_value_model().add_value_changed_fn(
                        lambda m, tasks=tasks: model.select_task(tasks[m.as_int]) if 0 <= m.as_int < len(tasks)
                        else None)
                for name, option in model.options.items():
                    with ui.HStack(height=0):
                        ui.Label(option.label, width=_LABEL_WIDTH, tooltip=option.tooltip)
                        field = ui.StringField(identifier=f"stripe_option_{name}", tooltip=option.tooltip)
                        field.model.set_value(option.text)
                        field.model.add_end_edit_fn(lambda m, name=name: model.set_option(name, m.as_string))
                        self._option_fields[name] = field
                with ui.HStack(height=30, spacing=4):
                    self._buttons["start"] = ui.Button("Start", clicked_fn=model.start, identifier="stripe_train_start")
                    self._buttons["headless"] = ui.Button(
                        "Run headless", clicked_fn=model.start_headless, identifier="stripe_train_headless",
                        tooltip="Run the same training as a separate 'stripe-kit train' process (many envs without "
                                "slowing the viewport), watched here through its run directory")
                    self._buttons["stop"] = ui.Button("Stop", clicked_fn=model.stop, identifier="stripe_train_stop",
                                                      tooltip="Stop at the end of this epoch, with a checkpoint")
                ui.ProgressBar(self._progress, height=18, identifier="stripe_train_progress")
                self._labels["epoch"] = ui.Label("", identifier="stripe_train_epoch")
                ui.Label("Mean reward per epoch", height=0)
                self._plot = ui.Plot(ui.Type.LINE, 0.0, 1.0, 0.0, height=120, style=_PLOT_STYLE,
                                     identifier="stripe_train_plot")
                self._labels["checkpoint"] = ui.Label("", word_wrap=True, identifier="stripe_train_checkpoint")
                self._buttons["open"] = ui.Button("Open run folder", height=24, clicked_fn=self._open_run_dir,
                                                  identifier="stripe_train_open")
                self._labels["status"] = ui.Label("", word_wrap=True, identifier="stripe_train_status")
                self._labels["error"] = ui.Label("", word_wrap=True, style=_ERROR_STYLE, identifier="stripe_train_error")
                self._labels["message"] = ui.Label("", word_wrap=True, style=_STATUS_STYLE)
                ui.Label("Runs", height=0)
                self._labels["runs"] = ui.Label("", word_wrap=True, identifier="stripe_train_runs")
        model.refresh_runs()
        self._sync()

    # -- actions ------------------------------------------------------------------------------------------------------

    def _open_run_dir(self) -> None:
        run_dir = self.model.status().run_dir
        if not run_dir:
            return
        try:
            if sys.platform.startswith("win"):
                os.startfile(run_dir)  # noqa: S606 - opening a folder the user asked for
            else:
                subprocess.Popen(["open" if sys.platform == "darwin" else "xdg-open", run_dir])
        except OSError as exc:
            carb.log_warn(f"[stripe_kit_ext] could not open {run_dir}: {exc}")
