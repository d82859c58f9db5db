"""Discovery of tasks and scenes: installed packages under the ``isaaclab.tasks`` entry-point group (as Isaac Lab's
CLI finds them), plus the user's own modules and files named by ``--tasks`` or :data:`TASKS_ENV`.

A source is a Python file (``my_tasks.py``) or an importable module name (``my_package.tasks``). Loading it runs it
once per process: the :class:`~stripe_kit.task.TrainingSpec` objects it registers become tasks, and its
module-level :class:`~stripe_kit.scene.SceneSpec` objects become scenes that ``stripe-kit scene`` previews and
exports. A file is imported under a module name of its own (:func:`file_module_name`), so two files of the same
name do not clash.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ..errors import SpecError

if TYPE_CHECKING:
    from ..scene.spec import SceneSpec

TASK_ENTRY_POINT_GROUP = "isaaclab.tasks"
"""Entry-point group that Isaac Lab's CLI loads before looking up task ids."""
TASKS_ENV = "STRIPE_KIT_TASKS"
"""Environment variable of task sources loaded by every command, separated by ``os.pathsep`` (``:`` on Linux)."""
TASKS_ACCEPTED = "a Python file (path ending in .py) or an importable module name, such as my_tasks.py or my_pkg.tasks"

_LOADED: dict[str, ModuleType] = {}
"""Modules of the sources loaded so far, by resolved source (absolute file path or module name)."""
_TASK_SOURCES: dict[str, str] = {}
"""Resolved source that registered each task id (tasks of installed packages are not listed)."""
_ENTRY_POINTS_LOADED = False


def load_tasks(sources: Iterable[str] = (), *, field: str = "--tasks") -> list[str]:
    """Import the installed task packages, then the sources of :data:`TASKS_ENV` and ``sources``, each once.

    Args:
        sources: Python files or module names.
        field: What the sources are called in errors.

    Returns:
        The resolved sources (absolute file paths or module names) of :data:`TASKS_ENV` and ``sources``, in order.

    Raises:
        SpecError: If a source is neither an existing ``.py`` file nor an importable module.
    """
    global _ENTRY_POINTS_LOADED
    if not _ENTRY_POINTS_LOADED:
        for entry_point in importlib.metadata.entry_points(group=TASK_ENTRY_POINT_GROUP):
            entry_point.load()
        _ENTRY_POINTS_LOADED = True
    resolved = []
    for value in env_sources():
        resolved.append(load_source(value, field=TASKS_ENV))
    for value in sources:
        resolved.append(load_source(value, field=field))
    return list(dict.fromkeys(resolved))


def env_sources() -> list[str]:
    """Task sources named by :data:`TASKS_ENV`."""
    return [value for value in os.environ.get(TASKS_ENV, "").split(os.pathsep) if value.strip()]


def load_source(value: str, *, field: str = "--tasks") -> str:
    """Import one task source (once per process); returns it resolved (absolute path or module name)."""
    from ..task.spec import REGISTERED

    if not isinstance(value, str) or not value.strip():
        raise SpecError(field, value, TASKS_ACCEPTED)
    value = value.strip()
    is_file = value.endswith(".py") or os.sep in value or (os.altsep or os.sep) in value
    key = str(Path(value).expanduser().resolve()) if is_file else value
    if key in _LOADED:
        return key
    before = set(REGISTERED)
    if is_file:
        path = Path(key)
        if not path.is_file() or path.suffix != ".py":
            raise SpecError(field, value, f"{TASKS_ACCEPTED} (no such .py file)")
        module = _import_file(path)
    else:
        if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", value):
            raise SpecError(field, value, TASKS_ACCEPTED)
        try:
            module = importlib.import_module(value)
        except ModuleNotFoundError as error:
            if error.name is None or not (value == error.name or value.startswith(error.name + ".")):
                raise  # a module that the source itself imports is missing
            raise SpecError(field, value, f"{TASKS_ACCEPTED} (no module named {error.name!r})") from None
    _LOADED[key] = module
    for task_id in set(REGISTERED) - before:
        _TASK_SOURCES[task_id] = key
    return key


def file_module_name(path: str | os.PathLike) -> str:
    """Module name a task file is imported under: its stem and a digest of its absolute path."""
    path = Path(path).expanduser().resolve()
    stem = re.sub(r"\W", "_", path.stem)
    return f"stripe_kit_tasks_{stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"


def _import_file(path: Path) -> ModuleType:
    name = file_module_name(path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses and registration look the module up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def task_source(task_id: str) -> str | None:
    """The loaded source (absolute file path or module name) that registered ``task_id``; None for installed tasks."""
    return _TASK_SOURCES.get(task_id)


def load_recorded_sources(task_id: str, recorded: Iterable[str], where: str) -> None:
    """Load the sources a run recorded for its task, unless the task is known already.

    Args:
        task_id: The run's task.
        recorded: Sources from the run's ``run.json`` (or checkpoint).
        where: The file they were read from, for errors.

    Raises:
        SpecError: If the task is still unknown; names the recorded source that could not be loaded.
    """
    from ..task.spec import REGISTERED

    problems = []
    for source in recorded or ():
        if task_id in REGISTERED:
            return
        try:
            load_source(source, field=f"tasks (recorded in {where})")
        except SpecError as error:
            problems.append(error)
    if task_id not in REGISTERED and problems:
        raise SpecError(problems[0].field, problems[0].value,
                        f"{TASKS_ACCEPTED}; it registered the run's task {task_id} "
                        "(pass --tasks with the file's new place)")


def known_scenes() -> dict[str, SceneSpec]:
    """Scene specs by name: those of the registered tasks, then the module-level scene specs of loaded sources.

    Raises:
        SpecError: If a module-level scene spec has the name of a different scene.
    """
    from ..scene.spec import SceneSpec
    from ..task.spec import REGISTERED

    scenes: dict[str, SceneSpec] = {}
    owners: dict[str, str] = {}
    for task_id, spec in REGISTERED.items():
        scenes.setdefault(spec.scene.name, spec.scene)
        owners.setdefault(spec.scene.name, f"task {task_id}")
    for source, module in _LOADED.items():
        for attr, value in vars(module).items():
            if not isinstance(value, SceneSpec) or attr.startswith("_"):
                continue
            if value.name in scenes and scenes[value.name] is not value and scenes[value.name] != value:
                raise SpecError(f"{Path(source).name}:{attr}.name", value.name,
                                f"a scene name not used yet ({owners[value.name]} has a different scene of that name)")
            scenes.setdefault(value.name, value)
            owners.setdefault(value.name, f"{Path(source).name}:{attr}")
    return scenes
