"""View-model of the scene panel: pick a scene spec, edit its fields, generate, write to and clear a USD stage.

:class:`ScenePanelModel` holds no widgets: the Kit window (``stripe_kit_ext.scene_window``) and any other front end
draw from it and redraw when it notifies them. Actions meant for buttons never raise: a failure sets
:attr:`ScenePanelModel.error` (one line, the spec's own :class:`~stripe_kit.errors.SpecError` message where there is
one) and notifies the observers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ..scene import GeneratedScene, SceneSpec
from .fields import Field, SpecFields
from .observable import ObservableModel

if TYPE_CHECKING:
    from pxr import Usd

logger = logging.getLogger(__name__)

DEFAULT_ROOT_PATH = "/World/StripeScene"
"""Prim under which scenes are written, the default of :func:`stripe_kit.scene.usd.write_scene`."""

SPECS, SELECTION, FIELD, SCENE, STAGE = "specs", "selection", "field", "scene", "stage"
"""Events passed to observers: registry changed, another spec selected, a field set (or refused), a scene
generated, the stage written or cleared; and :data:`~stripe_kit.ui.observable.ERROR`, an action failed."""


@dataclasses.dataclass(frozen=True)
class SceneSummary:
    """Counts of a generated scene, for display."""

    name: str
    """Name of the scene spec."""
    seed: int
    """Seed the scene was generated with."""
    grid: tuple[int, int]
    """Tiles along x (rows, rising difficulty) and along y (columns)."""
    tile_size: tuple[float, float]
    """Size of one tile [m]."""
    counts: dict[str, int]
    """Placed instances per asset type, in palette order."""
    num_objects: int
    """Placed instances of all types."""
    num_colliders: int
    """Primitive colliders of all types."""

    @classmethod
    def of(cls, scene: GeneratedScene) -> SceneSummary:
        """Summarize a generated scene."""
        terrain = scene.terrain
        return cls(
            name=scene.spec.name,
            seed=scene.seed,
            grid=(terrain.num_rows, terrain.num_cols),
            tile_size=(float(terrain.tile_size[0]), float(terrain.tile_size[1])),
            counts={name: len(inst) for name, inst in scene.instances.items()},
            num_objects=scene.num_objects,
            num_colliders=len(scene.colliders),
        )

    def lines(self) -> list[str]:
        """Human-readable lines: tile grid, object count, count per asset type."""
        rows, cols = self.grid
        sx, sy = self.tile_size
        out = [
            f"{self.name} (seed {self.seed}): {rows} x {cols} tiles of {sx:g} x {sy:g} m",
            f"{self.num_objects} objects, {self.num_colliders} colliders",
        ]
        out += [f"  {name}: {count}" for name, count in self.counts.items()]
        return out


def showcase_specs() -> list[SceneSpec]:
    """Scene specs of the showcase package ``stripe_forest``, when it is installed (else none)."""
    try:
        from stripe_forest.scenes import ForestSceneSpec
    except ImportError:
        return []
    return [ForestSceneSpec()]


class ScenePanelModel(ObservableModel):
    """Registry of scene specs, the selected one's editable fields and seed, the generated scene and stage actions.

    Args:
        specs: Scene specs to register, by name (or a sequence, named by their ``name``).
        register_showcase: Whether to register the showcase specs (:func:`showcase_specs`). When nothing at all
            is registered, a plain :class:`~stripe_kit.scene.SceneSpec` is, so that the panel is never empty.
        root_path: Prim path scenes are written under and cleared from.
    """

    def __init__(self, specs: Mapping[str, SceneSpec] | list[SceneSpec] | None = None, *,
                 register_showcase: bool = True, root_path: str = DEFAULT_ROOT_PATH):
        super().__init__()
        self.root_path = root_path
        """Prim path scenes are written under and cleared from, unless an action names another."""
        self.status: str = ""
        """One-line message of the last successful action."""
        self._specs: dict[str, SceneSpec] = {}
        self._forms: dict[str, SpecFields] = {}
        self._selected: str | None = None
        self._scene: GeneratedScene | None = None
        self._summary: SceneSummary | None = None
        if register_showcase:
            for spec in showcase_specs():
                self.register(spec)
        items = specs.items() if isinstance(specs, Mapping) else ((s.name, s) for s in specs or [])
        for name, spec in items:
            self.register(spec, name)
        if not self._specs:
            self.register(SceneSpec())

    # -- observers ----------------------------------------------------------------------------------------------------

    def _succeed(self, event: str, status: str) -> bool:
        self.error = None
        self.status = status
        self._notify(event)
        return True

    # -- registry and selection ---------------------------------------------------------------------------------------

    @property
    def spec_names(self) -> list[str]:
        """Names of the registered specs, in registration order."""
        return list(self._specs)

    @property
    def selected(self) -> str | None:
        """Name of the selected spec."""
        return self._selected

    def register(self, spec: SceneSpec | type[SceneSpec], name: str | None = None, *, select: bool = False) -> None:
        """Register a scene spec (an instance, or a class built with its defaults), replacing one of the same name.

        The first spec registered is selected.

        Raises:
            TypeError: If ``spec`` is not a :class:`~stripe_kit.scene.SceneSpec`.
        """
        if isinstance(spec, type) and issubclass(spec, SceneSpec):
            spec = spec()
        if not isinstance(spec, SceneSpec):
            raise TypeError(f"expected a SceneSpec, got {type(spec).__name__}")
        name = name or spec.name
        self._specs[name] = spec
        self._forms.pop(name, None)
        if select or self._selected is None or self._selected == name:
            self._select(name)
        self._notify(SPECS)

    def unregister(self, name: str) -> None:
        """Remove the spec ``name``; the first remaining one is selected if it was. No-op for unknown names."""
        if self._specs.pop(name, None) is None:
            return
        self._forms.pop(name, None)
        if self._selected == name:
            self._select(next(iter(self._specs), None))
        self._notify(SPECS)

    def select(self, name: str) -> bool:
        """Select the spec ``name``; its edits so far are kept. The generated scene is dropped.

        Returns:
            True if selected; False (with :attr:`error` set) for unknown names.
        """
        if name not in self._specs:
            return self._fail(SpecError("spec", name, f"one of {', '.join(self._specs)}"))
        self._select(name)
        return self._succeed(SELECTION, f"selected {name}")

    def _select(self, name: str | None) -> None:
        self._selected = name
        self._scene = None
        self._summary = None
        if name is not None and name not in self._forms:
            self._forms[name] = SpecFields(self._specs[name], on_change=self._on_field_change)

    def reset(self) -> None:
        """Restore the selected spec to its registered values."""
        if self._selected is not None:
            self._forms[self._selected].reset(self._specs[self._selected])
        self._succeed(FIELD, "reset to defaults")

    # -- fields -------------------------------------------------------------------------------------------------------

    @property
    def form(self) -> SpecFields | None:
        """Fields of the selected spec."""
        return self._forms.get(self._selected) if self._selected is not None else None

    @property
    def spec(self) -> SceneSpec | None:
        """The selected spec, with the edits so far."""
        return self.form.spec if self.form is not None else None

    @property
    def fields(self) -> list[Field]:
        """Editable fields of the selected spec (dotted names such as ``terrain.num_rows``)."""
        return list(self.form.fields) if self.form is not None else []

    def field(self, name: str) -> Field:
        """The field ``name`` of the selected spec.

        Raises:
            KeyError: If there is no such field.
        """
        if self.form is None:
            raise KeyError(name)
        return self.form[name]

    def set_field(self, name: str, value: Any) -> bool:
        """Set a field of the selected spec from a value or its text; see :meth:`Field.set`.

        Returns:
            True if applied; False (with :attr:`error` and the field's own error set) otherwise.
        """
        if self.form is None:
            return self._fail("no scene spec selected")
        if name not in self.form:
            return self._fail(SpecError(name, value, f"a field of {self._selected}"))
        return self.form[name].set(value)

    def _on_field_change(self, field: Field) -> None:
        if field.error:
            self._fail(field.error)
        else:
            self._succeed(FIELD, f"{field.name} = {field.text}")

    @property
    def seed(self) -> int:
        """Seed of the next generation: the selected spec's ``seed`` field."""
        return self.spec.seed if self.spec is not None else 0

    def set_seed(self, value: int | str) -> bool:
        """Set the seed (a value or its text); validated by the spec."""
        return self.set_field("seed", value)

    # -- generation ---------------------------------------------------------------------------------------------------

    @property
    def scene(self) -> GeneratedScene | None:
        """The last generated scene, or None."""
        return self._scene

    @property
    def summary(self) -> SceneSummary | None:
        """Counts of the last generated scene, or None."""
        return self._summary

    @property
    def is_current(self) -> bool:
        """Whether the generated scene matches the selected spec and seed as they are now."""
        return self._scene is not None and self._scene.spec is self.spec and self._scene.seed == self.seed

    def generate(self) -> GeneratedScene | None:
        """Generate the selected spec with the current seed.

        Returns:
            The generated scene, or None (with :attr:`error` set) on failure.
        """
        spec = self.spec
        if spec is None:
            self._fail("no scene spec selected")
            return None
        try:
            scene = spec.generate(self.seed)
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            self._fail(exc, "generate")
            return None
        return self._adopt(scene)

    async def generate_async(self, run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]] | None = None
                             ) -> GeneratedScene | None:
        """:meth:`generate` whose computation runs off the caller's (UI) thread; observers are notified on it.

        Args:
            run_blocking: Awaits a blocking call elsewhere (default: the running loop's default executor).
        """
        spec = self.spec
        if spec is None:
            self._fail("no scene spec selected")
            return None
        if run_blocking is None:
            loop = asyncio.get_running_loop()

            def run_blocking(call):
                return loop.run_in_executor(None, call)

        seed = self.seed
        try:
            scene = await run_blocking(lambda: spec.generate(seed))
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            self._fail(exc, "generate")
            return None
        return self._adopt(scene)

    def _adopt(self, scene: GeneratedScene) -> GeneratedScene:
        self._scene = scene
        self._summary = SceneSummary.of(scene)
        self._succeed(SCENE, f"generated {self._summary.num_objects} objects")
        return scene

    # -- stage --------------------------------------------------------------------------------------------------------

    def write_to_stage(self, stage: Usd.Stage | None, root_path: str | None = None) -> bool:
        """Write the scene under ``root_path`` of ``stage``, generating it first unless :attr:`is_current`.

        Args:
            stage: The USD stage (in Kit: ``omni.usd.get_context().get_stage()``).
            root_path: Root prim path; :attr:`root_path` when None.

        Returns:
            True if written; False (with :attr:`error` set) otherwise.
        """
        root_path = root_path or self.root_path
        if stage is None:
            return self._fail("no open USD stage")
        try:
            from ..scene import usd as scene_usd
        except ImportError as exc:
            return self._fail(f"USD writer unavailable: {exc}")
        if not self.is_current and self.generate() is None:
            return False
        try:
            scene_usd.write_scene(self._scene, stage, root_path=root_path)
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            logger.warning("writing the scene to %s failed", root_path, exc_info=True)
            return self._fail(exc, "write")
        return self._succeed(STAGE, f"wrote {self._summary.num_objects} objects to {root_path}")

    def save_as_scene(self, stage: Usd.Stage | None, path: str) -> bool:
        """Save what ``stage`` shows (a scene built or edited in the viewport) as a USD file a scene spec loads.

        The file is checked by reading it back as a :class:`~stripe_kit.scene.usd_scene.UsdSceneSpec`.

        Returns:
            True if saved; False (with :attr:`error` set) otherwise.
        """
        if stage is None:
            return self._fail("no open USD stage")
        try:
            from ..scene.usd import save_stage
            from ..scene.usd_scene import UsdSceneSpec

            saved = save_stage(stage, path)
            scene = UsdSceneSpec(usd_path=saved).generate(0)
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            logger.warning("saving the stage as %s failed", path, exc_info=True)
            return self._fail(exc, "save")
        return self._succeed(STAGE, f"saved {saved}: {scene.num_objects} objects, {len(scene.colliders)} colliders")

    def clear(self, stage: Usd.Stage | None, root_path: str | None = None) -> bool:
        """Remove the scene's prims under ``root_path`` of ``stage``.

        Args:
            stage: The USD stage.
            root_path: Root prim path; :attr:`root_path` when None.

        Returns:
            True if cleared; False (with :attr:`error` set) otherwise.
        """
        root_path = root_path or self.root_path
        if stage is None:
            return self._fail("no open USD stage")
        try:
            from ..scene import usd as scene_usd

            removed = scene_usd.clear_scene(stage, root_path)
        except Exception as exc:  # noqa: BLE001 - button action: report, never raise
            logger.warning("clearing %s failed", root_path, exc_info=True)
            return self._fail(exc, "clear")
        return self._succeed(STAGE, f"cleared {root_path}" if removed else f"nothing to clear at {root_path}")
