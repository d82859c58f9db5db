"""Browser front end (``stripe-kit gui``): the scene and training panels in a web page, drawn with viser.

The page shows a Scene panel (spec, its fields, seed, Generate/Clear) whose generated scene is drawn in viser's 3D
view (terrain mesh, one batched mesh per asset type and variant, tile grid lines), and a Training panel (task,
options, Start/Stop, epoch counter, progress, reward plot, last checkpoint, runs). Once a run starts, the 3D view shows
the scene that run trains in, with the robots of a few environments as points at their base positions, read from
the live env after every epoch.

The viser server answers in its own threads; :func:`serve` polls the training in the main thread; training runs in
the session's worker thread. Nothing here imports omni, carb or isaacsim.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .scene_panel import ScenePanelModel
from .training_panel import TrainingPanelModel

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_ROBOTS = 16
"""Environments whose robots are drawn during training."""
ASSET_COLORS = {"tree": (46, 125, 50), "rock": (120, 120, 120), "log": (121, 85, 72), "bush": (104, 159, 56)}
TERRAIN_COLOR = (170, 150, 110)
ROBOT_COLOR = (230, 60, 40)


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


def _positions(value: Any) -> np.ndarray:
    """An (N, 3) float array from a torch tensor or a warp array."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy"):
        value = value.numpy()
    return np.asarray(value, dtype=np.float32).reshape(-1, 3)


def robot_positions(env: Any, limit: int = MAX_ROBOTS) -> np.ndarray | None:
    """Root positions of the first ``limit`` robots of a live Isaac Lab env (None when there is no robot)."""
    if env is None:
        return None
    try:
        robot = env.scene["robot"]
    except (KeyError, TypeError, AttributeError):
        return None
    return _positions(robot.data.root_pos_w)[:limit].copy()


class WebGui:
    """The page of one viser server, bound to a scene and a training view-model.

    Args:
        server: A ``viser.ViserServer``.
        scene: The scene panel model (a fresh one with the showcase specs when None).
        training: The training panel model (a fresh one when None).
    """

    def __init__(self, server: Any, scene: ScenePanelModel | None = None, training: TrainingPanelModel | None = None):
        self.server = server
        self.scene = scene or ScenePanelModel()
        self.training = training or TrainingPanelModel()
        self._lock = threading.Lock()
        self._robots: np.ndarray | None = None
        self._robots_version = 0
        self._robots_drawn = 0
        self._training_scene: Any = None
        self._training_scene_drawn: Any = None
        self._scene_nodes: list[Any] = []
        self._robot_node: Any = None
        self._field_inputs: dict[str, Any] = {}
        self._build()
        self.scene.subscribe(self._on_scene_event)
        self.training.subscribe(self._on_training_event)
        self.training.epoch_hooks.append(self._read_robots)

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

    def _read_robots(self, metrics: dict, env: Any) -> None:
        """Epoch hook (training thread): keep the run's scene and its robots' root positions for the main thread."""
        positions = robot_positions(env)
        scene = getattr(getattr(env, "unwrapped", env), "generated_scene", None)
        with self._lock:
            if scene is not None:
                self._training_scene = scene
            if positions is not None:
                self._robots = positions
                self._robots_version += 1

    def _draw_training_scene(self) -> None:
        """Show the scene the run trains in, once per run, so its robots move on the drawn ground."""
        with self._lock:
            scene = self._training_scene
        if scene is None or scene is self._training_scene_drawn:
            return
        self._training_scene_drawn = scene
        self._draw_scene(scene)
        self.scene_status.content = f"**Scene:** the training run's ({scene.num_objects} objects, seed {scene.seed})"

    def _draw_robots(self) -> None:
        with self._lock:
            positions, version = self._robots, self._robots_version
        if positions is None or version == self._robots_drawn:
            return
        self._robots_drawn = version
        self._robot_node = self.server.scene.add_point_cloud(
            "/training/robots", points=positions, colors=ROBOT_COLOR, point_size=0.5, point_shape="circle")

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

    def update(self) -> None:
        """Poll the training and redraw what changed; call it from the main thread, a few times a second."""
        self.training.poll()
        self._draw_training_scene()
        self._draw_robots()


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
    page = WebGui(server, scene, training)
    training.refresh_runs()
    print(f"stripe-kit gui: serving on http://{host}:{server.get_port()}", flush=True)  # viser moves on if taken
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            page.update()
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        if training.running:
            training.stop()
            training.wait(120)
        server.stop()
