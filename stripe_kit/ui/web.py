"""Browser front end (``stripe-kit gui``): the scene, training, play and run panels in a web page, drawn with viser.

The page shows a Scene panel (spec, its fields, seed, Generate/Clear) whose generated scene is drawn in viser's 3D
view (terrain mesh, one batched mesh per asset type and variant, tile grid lines); a Training panel (task, options,
Start/Stop, epoch counter, progress, reward plot, last checkpoint, the run's newest video, runs); a Play panel (run,
checkpoint or the run's newest followed, Play/Stop, episode return, ray scans); and a Runs gallery (each run's
learning curve and videos). While a run trains or a checkpoint plays, the 3D view shows the scene of its env and the
articulated robots of its first envs (:class:`~stripe_kit.ui.robot_view.RobotView`), moved :data:`ROBOT_RATE_HZ`
times a second.

The viser server answers in its own threads; :func:`serve` polls the models in the main thread; training and play
run in worker threads. The logic lives in the view-models (:mod:`.training_panel`, :mod:`.play_panel`,
:mod:`.run_gallery`); this module binds them to widgets. Nothing here imports omni, carb or isaacsim.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .play_panel import NEWEST, PlayPanelModel
from .robot_view import RobotView
from .run_gallery import GALLERY, RunCard, RunGalleryModel, newest_video, video_html
from .scene_panel import ScenePanelModel
from .training_panel import TrainingPanelModel

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_ROBOTS = 4
"""Environments whose robots are drawn during training and play."""
ROBOT_RATE_HZ = 20.0
"""Robot pose updates per second (the page's poll rate)."""
REAIM_M = 1.5
"""Distance of the followed robot from the view's centre at which a following camera re-aims [m]."""
FILES_PERIOD_S = 2.0
"""How often the run gallery and the newest video are looked for on disk [s]."""
ASSET_COLORS = {"tree": (46, 125, 50), "rock": (120, 120, 120), "log": (121, 85, 72), "bush": (104, 159, 56)}
TERRAIN_COLOR = (170, 150, 110)


def scene_field_names(model: ScenePanelModel) -> list[str]:
    """Fields shown in the page: every top-level terrain field and each asset's density range and spacing."""
    names = []
    for field in model.fields:
        if field.read_only or field.name == "seed" or field.name == "name":
            continue
        if field.group == "terrain" or field.name.endswith((".density_range", ".min_spacing")):
            names.append(field.name)
    return names


def _yaw_wxyz(yaw: np.ndarray) -> np.ndarray:
    half = np.asarray(yaw, dtype=np.float64) / 2.0
    return np.stack([np.cos(half), np.zeros_like(half), np.zeros_like(half), np.sin(half)], axis=1)


class WebGui:
    """The page of one viser server, bound to a scene and a training view-model.

    Args:
        server: A ``viser.ViserServer``.
        scene: The scene panel model (a fresh one with the showcase specs when None).
        training: The training panel model (a fresh one when None).
    """

    def __init__(self, server: Any, scene: ScenePanelModel | None = None, training: TrainingPanelModel | None = None,
                 play: PlayPanelModel | None = None, gallery: RunGalleryModel | None = None):
        self.server = server
        self.scene = scene or ScenePanelModel()
        self.training = training or TrainingPanelModel()
        self.play = play or PlayPanelModel(self.training.runs_dir, device=self.training.options["device"].value)
        self.gallery = gallery or RunGalleryModel(self.training.runs_dir)
        self.robots = RobotView(server, MAX_ROBOTS)
        self._lock = threading.Lock()
        self._training_scene: Any = None
        self._training_scene_drawn: Any = None
        self._scene_nodes: list[Any] = []
        self._field_inputs: dict[str, Any] = {}
        self._cards: dict[str, dict[str, Any]] = {}
        self._video_shown: Any = ()
        self._files_due = 0.0
        self._aim: np.ndarray | None = None
        self._build()
        self.scene.subscribe(self._on_scene_event)
        self.training.subscribe(self._on_training_event)
        self.play.subscribe(self._on_play_event)
        self.gallery.subscribe(self._on_gallery_event)
        self.training.epoch_hooks.append(self._read_training_scene)

    # -- layout -------------------------------------------------------------------------------------------------------

    def _build(self) -> None:
        gui = self.server.gui
        gui.configure_theme(control_width="large")
        self.server.scene.set_up_direction("+z")
        self.server.initial_camera.position = (-34.0, -34.0, 30.0)
        self.server.initial_camera.look_at = (0.0, 0.0, 0.0)
        tabs = gui.add_tab_group()
        with tabs.add_tab("Scene"):
            self._build_scene_panel(gui)
        with tabs.add_tab("Training"):
            self._build_training_panel(gui)
        with tabs.add_tab("Play"):
            self._build_play_panel(gui)
        with tabs.add_tab("Runs"):
            self.gallery_text = gui.add_markdown("No runs yet.")
            self.gallery_folder = gui.add_folder("Gallery", expand_by_default=True)
        self.robot_text = gui.add_markdown("")  # below the tabs: seen from each

    def _build_scene_panel(self, gui: Any) -> None:
        names = self.scene.spec_names
        self.spec_dropdown = gui.add_dropdown("Spec", options=names, initial_value=self.scene.selected or names[0])
        self.spec_dropdown.on_update(lambda _: self.scene.select(self.spec_dropdown.value))
        self.seed_input = gui.add_number("Seed", initial_value=int(self.scene.seed), step=1, min=0)
        self.seed_input.on_update(lambda _: self.scene.set_seed(int(self.seed_input.value)))
        self.fields_folder = gui.add_folder("Spec fields")
        self._build_fields()
        self.generate_button = gui.add_button("Generate")
        self.generate_button.on_click(lambda _: self.generate())
        self.clear_button = gui.add_button("Clear")
        self.clear_button.on_click(lambda _: self.clear_scene())
        self.scene_status = gui.add_markdown("Scene: not generated")
        self.scene_error = gui.add_markdown("")

    def _build_fields(self) -> None:
        for handle in self._field_inputs.values():
            handle.remove()
        self._field_inputs = {}
        with self.fields_folder:
            for name in scene_field_names(self.scene):
                field = self.scene.field(name)
                label = name.replace("assets.", "").replace("terrain.", "terrain ")
                if field.kind == "bool":
                    handle = self.server.gui.add_checkbox(label, initial_value=bool(field.value), hint=field.tooltip or None)
                else:
                    handle = self.server.gui.add_text(label, initial_value=field.text, hint=field.tooltip or None)
                handle.on_update(lambda event, name=name: self.scene.set_field(name, event.target.value))
                self._field_inputs[name] = handle

    def _build_training_panel(self, gui: Any) -> None:
        tasks = self.training.tasks or ["(no tasks)"]
        self.task_dropdown = gui.add_dropdown("Task", options=tasks, initial_value=self.training.task or tasks[0])
        self.task_dropdown.on_update(lambda _: self.training.select_task(self.task_dropdown.value))
        self.option_inputs = {}
        for name, option in self.training.options.items():
            handle = gui.add_text(option.label, initial_value=option.text, hint=option.tooltip)
            handle.on_update(lambda event, name=name: self.training.set_option(name, event.target.value))
            self.option_inputs[name] = handle
        self.start_button = gui.add_button("Start training", color="green")
        self.start_button.on_click(lambda _: self.training.start())
        self.stop_button = gui.add_button("Stop training", color="red", disabled=True)
        self.stop_button.on_click(lambda _: self.training.stop())
        self.progress_bar = gui.add_progress_bar(0.0, animated=False)
        self.epoch_text = gui.add_markdown("**Epoch** 0 (idle)")
        self.reward_plot = gui.add_uplot(
            data=(np.zeros(1), np.zeros(1)),  # uPlot draws no axes for an empty first data set
            series=({"label": "epoch"}, {"label": "mean reward", "stroke": "#2e7d32", "width": 2,
                                          "points": {"show": True, "size": 5}}),
            title="Mean reward per epoch", aspect=1.6, scales={"x": {"time": False}})
        self.plot_text = gui.add_markdown("Reward points: 0")
        self.checkpoint_text = gui.add_markdown("Last checkpoint: none")
        self.training_status = gui.add_markdown("")
        self.training_error = gui.add_markdown(f"**Error:** {self.training.error}" if self.training.error else "")
        self.runs_text = gui.add_markdown("")
        self.video_title = gui.add_markdown("**Newest video:** none yet")
        self.video_html = gui.add_html("")

    def _build_play_panel(self, gui: Any) -> None:
        self.play_run = gui.add_dropdown("Run", options=["(no runs)"], initial_value="(no runs)")
        self.play_run.on_update(lambda _: self.play_run.value in self.play.run_names
                                and self.play.select_run(self.play_run.value))
        self.play_checkpoint = gui.add_dropdown("Checkpoint", options=[NEWEST], initial_value=NEWEST,
                                                hint="a checkpoint of the run, or its newest, followed as it trains")
        self.play_checkpoint.on_update(lambda _: self.play_checkpoint.value in self.play.checkpoints
                                       and self.play_checkpoint.value != self.play.checkpoint
                                       and self.play.select_checkpoint(self.play_checkpoint.value))
        self.play_refresh = gui.add_button("Refresh runs")
        self.play_refresh.on_click(lambda _: self.play.refresh_runs())
        self.play_button = gui.add_button("Play", color="green")
        self.play_button.on_click(lambda _: self.play.start())
        self.play_stop = gui.add_button("Stop play", color="red", disabled=True)
        self.play_stop.on_click(lambda _: self.play.stop())
        self.rays_checkbox = gui.add_checkbox("Show ray scans", initial_value=False,
                                              hint="the followed env's ray hits (range ring, height scan)")
        self.rays_checkbox.on_update(lambda _: setattr(self.robots, "show_rays", bool(self.rays_checkbox.value)))
        self.follow_input = gui.add_number("Followed env", initial_value=0, min=0, max=MAX_ROBOTS - 1, step=1)
        self.follow_input.on_update(lambda _: self._follow(int(self.follow_input.value)))
        self.camera_checkbox = gui.add_checkbox("Camera follows the robot", initial_value=True,
                                                hint=f"re-aim when the followed robot is {REAIM_M} m from the view's "
                                                     "centre (a reset), else keep still")
        self.look_button = gui.add_button("Look at the followed robot")
        self.look_button.on_click(lambda _: self.look_at_robot())
        self.play_status = gui.add_markdown("**Play:** idle")
        self.play_error = gui.add_markdown("")

    # -- scene --------------------------------------------------------------------------------------------------------

    def generate(self) -> None:
        """Generate the selected spec and draw it (a failure shows its one-line error)."""
        self.scene_status.content = "Scene: generating..."
        self.scene.generate()

    def clear_scene(self) -> None:
        """Remove the drawn scene."""
        self._remove_scene_nodes()
        self.scene_status.content = "Scene: cleared"
        self.scene_error.content = ""

    def _remove_scene_nodes(self) -> None:
        for node in self._scene_nodes:
            node.remove()
        self._scene_nodes = []

    def _on_scene_event(self, event: str) -> None:
        if event == "error":
            self.scene_error.content = f"**Error:** {self.scene.error}"
            if self.scene_status.content == "Scene: generating...":
                self.scene_status.content = "Scene: not generated"
            return
        self.scene_error.content = ""
        if event == "selection":
            self._build_fields()
            self.seed_input.value = int(self.scene.seed)
        elif event == "scene":
            self._draw_scene()
            summary = self.scene.summary
            self.scene_status.content = "  \n".join(
                [f"**Scene:** {summary.num_objects} objects generated"] + summary.lines()[:1]
                + [f"{name}: {count}" for name, count in summary.counts.items()])

    def _draw_scene(self, scene: Any = None) -> None:
        """Draw ``scene`` (the Scene panel's generated scene when None): ground, tile grid, instanced assets."""
        from ..scene.terrain import terrain_mesh

        scene = scene or self.scene.scene
        self._remove_scene_nodes()
        api = self.server.scene
        terrain = scene.terrain
        ground = terrain_mesh(terrain, scene.spec.terrain.vertical_scale)
        self._scene_nodes.append(api.add_mesh_simple(
            "/scene/terrain", np.asarray(ground.vertices, np.float32), np.asarray(ground.faces, np.uint32),
            color=TERRAIN_COLOR, flat_shading=False, side="double"))
        self._scene_nodes.append(api.add_line_segments(
            "/scene/tiles", self._tile_lines(terrain), colors=(40, 40, 40), line_width=1.5))
        palette = {asset.name: asset for asset in scene.spec.assets}
        for name, instances in scene.instances.items():
            if not len(instances) or name not in palette:
                continue
            variants = palette[name].mesh_variants()
            color = ASSET_COLORS.get(name, (90, 200, 255))
            for index, mesh in enumerate(variants):
                chosen = (instances.variant % len(variants)) == index
                if not chosen.any():
                    continue
                self._scene_nodes.append(api.add_batched_meshes_simple(
                    f"/scene/assets/{name}/{index}", np.asarray(mesh.vertices, np.float32),
                    np.asarray(mesh.faces, np.uint32), batched_wxyzs=_yaw_wxyz(instances.yaw[chosen]),
                    batched_positions=np.asarray(instances.positions[chosen], np.float32),
                    batched_scales=np.asarray(instances.scale[chosen], np.float32), batched_colors=color))

    @staticmethod
    def _tile_lines(terrain: Any) -> np.ndarray:
        """Tile borders as (N, 2, 3) segments following the ground, slightly above it."""
        heights, res = terrain.heights, terrain.resolution
        nx, ny = heights.shape
        x_end, y_end = terrain.x0 + (nx - 1) * res, terrain.y0 + (ny - 1) * res
        sx, sy = terrain.tile_size
        rows, cols = terrain.tile_origins.shape[:2]
        cx, cy = float(terrain.tile_origins[..., 0].mean()), float(terrain.tile_origins[..., 1].mean())
        xs = cx + (np.arange(rows + 1) - rows / 2) * sx
        ys = cy + (np.arange(cols + 1) - cols / 2) * sy

        def polyline(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            i = np.clip(np.round((x - terrain.x0) / res).astype(int), 0, nx - 1)
            j = np.clip(np.round((y - terrain.y0) / res).astype(int), 0, ny - 1)
            points = np.stack([x, y, heights[i, j] + 0.05], axis=1)
            return np.stack([points[:-1], points[1:]], axis=1)

        segments = []
        for x in xs:
            y = np.linspace(max(ys[0], terrain.y0), min(ys[-1], y_end), 4 * cols * 8 + 1)
            segments.append(polyline(np.full_like(y, x), y))
        for y in ys:
            x = np.linspace(max(xs[0], terrain.x0), min(xs[-1], x_end), 4 * rows * 8 + 1)
            segments.append(polyline(x, np.full_like(x, y)))
        return np.concatenate(segments).astype(np.float32)

    # -- training -----------------------------------------------------------------------------------------------------

    def _read_training_scene(self, metrics: dict, env: Any) -> None:
        """Epoch hook (training thread): keep the run's scene for the main thread."""
        scene = getattr(getattr(env, "unwrapped", env), "generated_scene", None)
        if scene is not None:
            with self._lock:
                self._training_scene = scene

    def _draw_training_scene(self, scene: Any = None, whose: str = "training run") -> None:
        """Show the scene the run trains in (or ``scene``), once, so its robots move on the drawn ground."""
        if scene is None:
            with self._lock:
                scene = self._training_scene
        if scene is None or scene is self._training_scene_drawn:
            return
        self._training_scene_drawn = scene
        self._draw_scene(scene)
        self.scene_status.content = f"**Scene:** the {whose}'s ({scene.num_objects} objects, seed {scene.seed})"

    def _on_training_event(self, event: str) -> None:
        model = self.training
        status = model.status()
        live = not status.ended and status.state != "idle"
        self.start_button.disabled = live
        self.stop_button.disabled = not live
        self.progress_bar.value = 100.0 * model.progress
        total = f" / {status.max_epochs}" if status.max_epochs else ""
        self.epoch_text.content = f"**Epoch** {status.epoch}{total} ({status.state})"
        self.checkpoint_text.content = f"Last checkpoint: {status.last_checkpoint or 'none'}"
        self.training_status.content = "  \n".join(model.status_lines()[2:])
        self.training_error.content = f"**Error:** {model.error}" if model.error else ""
        if event == "metrics":
            history = model.history
            points = [(e, r) for e, r in zip(history.epochs, history.rewards) if r is not None and np.isfinite(r)]
            if points:  # uPlot stops drawing at NaN: epochs before the first finished episode are left out
                epochs, rewards = (np.asarray(column, dtype=np.float64) for column in zip(*points))
                self.reward_plot.data = (epochs, rewards)
            self.plot_text.content = f"Reward points: {len(points)}"
        if event == "runs":
            lines = [f"{run.task}/{run.name}: {run.status}, epoch {run.epoch}" for run in model.runs[-5:]]
            self.runs_text.content = "**Runs**  \n" + "  \n".join(lines) if lines else ""
            self.play.refresh_runs()

    # -- play ---------------------------------------------------------------------------------------------------------

    def _on_play_event(self, event: str) -> None:
        model = self.play
        if event in ("runs", "selection"):
            names = model.run_names or ["(no runs)"]
            self.play_run.options = names
            self.play_run.value = model.run or names[0]
            self.play_checkpoint.options = model.checkpoints
            self.play_checkpoint.value = model.checkpoint
        live = model.running
        self.play_button.disabled = live
        self.play_stop.disabled = not live
        self.play_status.content = "**Play:** " + "  \n".join(model.status_lines())
        self.play_error.content = f"**Error:** {model.error}" if model.error else ""

    def _follow(self, index: int) -> None:
        self.robots.follow = max(0, min(MAX_ROBOTS - 1, index))

    def look_at_robot(self) -> bool:
        """Point every browser's camera at the followed robot, from 3 m behind and 2 m above; False without one."""
        positions = self.robots.root_positions() if self.robots.env is not None else None
        if positions is None or not len(positions):
            return False
        target = positions[min(self.robots.follow, len(positions) - 1)].astype(np.float64)
        if not np.all(np.isfinite(target)):
            return False
        self._aim = target
        eye = target + np.array([-2.6, -2.6, 1.6])
        for client in self.server.get_clients().values():
            client.camera.position = tuple(eye)
            client.camera.look_at = tuple(target)
        self.server.initial_camera.position = tuple(eye)
        self.server.initial_camera.look_at = tuple(target)
        return True

    # -- robots -------------------------------------------------------------------------------------------------------

    def _live_env(self) -> tuple[Any, str]:
        """The env whose robots are drawn: the training run's, else the play's (None: neither)."""
        env = self.training.env
        if env is not None:
            return env, "training run"
        return self.play.env, "play"

    def _draw_robots(self) -> None:
        env, whose = self._live_env()
        if env is None:
            if self.robots.env is not None:
                self.robots.detach()
                self.robot_text.content = ""
            return
        unwrapped = getattr(env, "unwrapped", env)
        if unwrapped is not self.robots.env:
            if whose == "play":
                self._draw_training_scene(getattr(unwrapped, "generated_scene", None), "play")
            self.robots.attach(unwrapped)
            self.look_at_robot()
        self.robots.update()
        if self.camera_checkbox.value:
            positions = self.robots.root_positions()
            if positions is not None and len(positions):
                here = positions[min(self.robots.follow, len(positions) - 1)]
                if self._aim is None or np.linalg.norm(here - self._aim) > REAIM_M:
                    self.look_at_robot()
        kind = "meshes" if self.robots.meshes else "points"
        text = (f"Robots: {min(MAX_ROBOTS, int(getattr(unwrapped, 'num_envs', 0)))} envs as "
                                   f"{kind}, {self.robots.read_rate:.0f} updates/s "
                                   f"({self.robots.rate:.0f}/s moved: the env stepped)")
        if text != self.robot_text.content:
            self.robot_text.content = text

    # -- videos and the gallery ---------------------------------------------------------------------------------------

    def _show_newest_video(self) -> None:
        """Play the newest video of the current (or last) run in the Training tab, when it changed."""
        status = self.training.status()
        run_dir = status.run_dir or (self.training.runs[-1].path if self.training.runs else None)
        video = newest_video(run_dir) if run_dir else None
        key = (str(video), video.stat().st_mtime_ns) if video is not None else ()
        if key == self._video_shown:
            return
        self._video_shown = key
        if video is None:
            self.video_title.content = "**Newest video:** none yet"
            self.video_html.content = ""
        else:
            self.video_title.content = f"**Newest video:** {video.name}"
            self.video_html.content = video_html(video)

    def _on_gallery_event(self, event: str) -> None:
        if event != GALLERY:
            self.gallery_text.content = f"**Error:** {self.gallery.error}" if self.gallery.error else ""
            return
        cards = self.gallery.cards
        self.gallery_text.content = f"{len(cards)} newest runs in {self.gallery.runs_dir}" if cards else "No runs yet."
        keys = [card.key for card in cards]
        for key in [k for k in self._cards if k not in keys]:
            self._cards.pop(key)["folder"].remove()
        for card in cards:
            self._draw_card(card)

    def _draw_card(self, card: RunCard) -> None:
        """One run in the gallery: summary, learning curve, newest video and a choice of its videos."""
        widgets = self._cards.get(card.key)
        if widgets is None:
            gui = self.server.gui
            with self.gallery_folder:
                folder = gui.add_folder(card.key, expand_by_default=len(self._cards) < 2)
            with folder:
                widgets = {
                    "folder": folder,
                    "summary": gui.add_markdown(""),
                    "plot": gui.add_uplot(
                        data=(np.zeros(1), np.zeros(1)),
                        series=({"label": "epoch"}, {"label": "mean reward", "stroke": "#1565c0", "width": 2}),
                        title="Learning curve", aspect=2.0, scales={"x": {"time": False}}),
                    "videos": gui.add_dropdown("Video", options=["(none)"], initial_value="(none)"),
                    "video": gui.add_html(""),
                    "shown": None,
                }
            widgets["videos"].on_update(lambda _, key=card.key: self._show_card_video(key))
            self._cards[card.key] = widgets
        widgets["summary"].content = card.summary()
        epochs, rewards = card.curve
        if epochs:
            widgets["plot"].data = (np.asarray(epochs, np.float64), np.asarray(rewards, np.float64))
        names = [video.name for video in card.videos] or ["(none)"]
        if list(widgets["videos"].options) != names:
            widgets["videos"].options = names
            widgets["videos"].value = names[-1]
        self._show_card_video(card.key)

    def _show_card_video(self, key: str) -> None:
        widgets, card = self._cards.get(key), self.gallery.card(key)
        if widgets is None or card is None:
            return
        chosen = next((video for video in card.videos if video.name == widgets["videos"].value), None)
        if chosen != widgets["shown"]:
            widgets["shown"] = chosen
            widgets["video"].content = video_html(chosen) if chosen is not None else ""

    # -- polling ------------------------------------------------------------------------------------------------------

    def update(self) -> None:
        """Poll the models and redraw what changed; call it from the main thread :data:`ROBOT_RATE_HZ` times a
        second (the robots move at that rate; runs and videos are looked for every :data:`FILES_PERIOD_S`)."""
        self.training.poll()
        self.play.poll()
        self._draw_training_scene()
        self._draw_robots()
        now = time.monotonic()
        if now >= self._files_due:
            self._files_due = now + FILES_PERIOD_S
            self.gallery.refresh()
            self._show_newest_video()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, *, runs_dir: str = "runs",
          overrides: Sequence[str] = (), device: str | None = None, stop: threading.Event | None = None,
          tasks: Sequence[str] = ()) -> None:
    """Serve the page at ``http://host:port`` until ``stop`` is set (or Ctrl+C); polls the training meanwhile.

    ``tasks`` (Python files or module names) add their tasks to the training panel and their scene specs (module-level
    ones and those of their tasks) to the scene panel.
    """
    import viser

    from ..scene import SceneSpec
    from ..train.tasks import env_sources, known_scenes, load_tasks

    load_tasks(tasks)
    extra_scenes = known_scenes() if tasks or env_sources() else {}
    server = viser.ViserServer(host=host, port=port, label="STRIPE-kit")
    scene = ScenePanelModel(extra_scenes)
    if "scene" not in scene.spec_names:
        scene.register(SceneSpec())
    training = TrainingPanelModel(runs_dir=runs_dir, overrides=overrides, device=device)
    play = PlayPanelModel(runs_dir, device=device, tasks=tuple(tasks))
    page = WebGui(server, scene, training, play)
    training.refresh_runs()
    play.refresh_runs()
    print(f"stripe-kit gui: serving on http://{host}:{server.get_port()}", flush=True)  # viser moves on if taken
    stop = stop or threading.Event()
    failed = ""
    try:
        while not stop.is_set():
            began = time.monotonic()
            try:
                page.update()
            except Exception as exc:  # noqa: BLE001 - one failed redraw must not end the page: report it, go on
                if repr(exc) != failed:  # each new error once, not 20 times a second
                    failed = repr(exc)
                    logger.exception("stripe-kit gui: updating the page failed; serving on")
            time.sleep(max(0.0, 1.0 / ROBOT_RATE_HZ - (time.monotonic() - began)))
    except KeyboardInterrupt:
        pass
    finally:
        if training.running:
            training.stop()
            training.wait(120)
        play.shutdown()
        server.stop()
