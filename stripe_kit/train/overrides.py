"""Config overrides given as ``key=value``: ``sim.<field>``, ``agent.<field>`` and ``env.<path>``.

* ``sim.<field>``: a :class:`~stripe_kit.task.spec.SimSettings` field (``sim.episode_length_s=8``), checked by it.
* ``agent.<field>``: an :class:`~stripe_kit.task.agent.AgentSettings` field (``agent.learning_rate=1e-4``,
  ``agent.network=[128,64]``), or a key of the rl_games ``params.config`` (``agent.torch_compile=false``).
* ``env.<path>``: any field of the resolved Isaac Lab env config, by attribute path
  (``env.rewards.alive.weight=0.2``, ``env.episode_length_s=8``).
* ``env.scene_spec.<field>``: a field of the task's scene spec, as the GUI's scene panel names and edits it
  (``env.scene_spec.terrain.wavelength=4``, ``env.scene_spec.assets.tree.min_spacing=2``), checked by the spec.

Every key must exist and every value must have the type of the value it replaces; anything else is a one-line
:class:`~stripe_kit.errors.SpecError` naming the key.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import SpecError

SECTIONS = ("env", "sim", "agent")
OPTIONAL_AGENT_KEYS = (
    "torch_compile", "print_stats", "games_to_track", "max_frames", "weight_decay", "schedule_entropy",
    "epochs_between_resets", "use_smooth_clamp", "bound_loss_type",
)
"""rl_games config keys accepted under ``agent.`` although the generated config does not set them."""


@dataclasses.dataclass(frozen=True)
class Override:
    """One ``key=value``: the section (env, sim, agent), the path inside it, the parsed value and the text."""

    section: str
    path: tuple[str, ...]
    value: Any
    text: str

    @property
    def key(self) -> str:
        return ".".join((self.section, *self.path))


def parse_value(text: str) -> Any:
    """A number, bool, None, list/tuple, or else the text itself (``1e-4`` is a float, ``true`` a bool)."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_overrides(items: Iterable[str]) -> list[Override]:
    """Parse ``key=value`` items; raises a SpecError naming the first malformed one."""
    parsed = []
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        parts = tuple(key.split("."))
        if not sep or not key:
            raise SpecError("override", item, "key=value, such as agent.learning_rate=1e-4 or sim.episode_length_s=8")
        if parts[0] not in SECTIONS or len(parts) < 2 or not all(parts):
            raise SpecError(key, item, "a key starting with env., sim. or agent. (such as env.rewards.alive.weight)")
        parsed.append(Override(parts[0], parts[1:], parse_value(text), text))
    return parsed


def coerce(key: str, current: Any, value: Any, text: str) -> Any:
    """``value`` converted to the type of ``current``; raises a SpecError naming ``key`` when it cannot be."""
    if dataclasses.is_dataclass(current) and not isinstance(current, type):
        fields = ", ".join(field.name for field in dataclasses.fields(current))
        raise SpecError(key, text, f"one of its fields to be set, not the group itself ({fields})")
    if current is None or value is None:
        return value
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise SpecError(key, text, "true or false")
        return value
    if isinstance(current, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(key, text, "a number")
        if isinstance(current, int) and isinstance(value, float):
            if not math.isfinite(value) or not value.is_integer():
                raise SpecError(key, text, "an integer")
            return int(value)
        return float(value) if isinstance(current, float) else value
    if isinstance(current, (tuple, list)):
        if not isinstance(value, (tuple, list)):
            raise SpecError(key, text, "a list such as [256,128]")
        return type(current)(value)
    if isinstance(current, str):
        return text
    if isinstance(current, dict):
        if not isinstance(value, dict):
            raise SpecError(key, text, "a dict such as {'a': 1}")
        return value
    return value


def _fields(obj: Any) -> list[str]:
    if isinstance(obj, dict):
        return [str(key) for key in obj]
    if dataclasses.is_dataclass(obj):
        return [field.name for field in dataclasses.fields(obj)]
    return [name for name in vars(obj) if not name.startswith("_")] if hasattr(obj, "__dict__") else []


def _unknown(key: str, text: str, obj: Any) -> SpecError:
    names = _fields(obj)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return SpecError(key, text, f"an existing key; unknown here (known: {shown or 'none'})",
                     message=f"unknown key (known here: {shown or 'none'})")


def set_path(root: Any, override: Override) -> None:
    """Set ``override`` on the object tree ``root`` (attributes and dict keys), checking that the key exists."""
    obj = root
    for depth, name in enumerate(override.path):
        is_dict = isinstance(obj, dict)
        exists = name in obj if is_dict else (not name.startswith("_") and hasattr(obj, name))
        if not exists:
            raise _unknown(".".join((override.section, *override.path[: depth + 1])), override.text, obj)
        if depth == len(override.path) - 1:
            current = obj[name] if is_dict else getattr(obj, name)
            value = coerce(override.key, current, override.value, override.text)
            if is_dict:
                obj[name] = value
            else:
                setattr(obj, name, value)
            return
        obj = obj[name] if is_dict else getattr(obj, name)
        if obj is None or isinstance(obj, (int, float, str, bool, tuple, list)):
            raise SpecError(".".join((override.section, *override.path[: depth + 1])), override.text,
                            "a config group to hold the sub-key", message="has no sub-keys")


def apply_spec_overrides(spec: Any, overrides: Sequence[Override]) -> Any:
    """A shallow copy of a TrainingSpec with the ``sim.`` and ``agent.`` (AgentSettings) overrides applied.

    ``agent.`` keys that are not AgentSettings fields are left for :func:`apply_agent_config_overrides`.
    """
    sim_changes: dict[str, Any] = {}
    agent_changes: dict[str, Any] = {}
    agent_fields = {field.name for field in dataclasses.fields(spec.agent)}
    for override in overrides:
        if override.section == "sim":
            target, changes = spec.sim, sim_changes
        elif override.section == "agent" and override.path[0] in agent_fields:
            target, changes = spec.agent, agent_changes
        else:
            continue
        name = override.path[0]
        if len(override.path) != 1 or not hasattr(target, name) or name.startswith("_"):
            raise _unknown(override.key, override.text, target)
        changes[name] = coerce(override.key, getattr(target, name), override.value, override.text)
    if not sim_changes and not agent_changes:
        return spec
    spec = copy.copy(spec)
    try:
        if sim_changes:
            spec.sim = dataclasses.replace(spec.sim, **sim_changes)
        if agent_changes:
            spec.agent = dataclasses.replace(spec.agent, **agent_changes)
    except (TypeError, ValueError) as error:
        if isinstance(error, SpecError):
            raise
        raise SpecError("override", ", ".join(o.key for o in overrides), str(error)) from None
    return spec


def check_agent_keys(spec: Any, overrides: Sequence[Override], agent_cfg: dict) -> None:
    """Raise for ``agent.`` keys that are neither AgentSettings fields nor rl_games config keys."""
    agent_fields = {field.name for field in dataclasses.fields(spec.agent)}
    config = agent_cfg["params"]["config"]
    for override in overrides:
        if override.section != "agent" or override.path[0] in agent_fields:
            continue
        if override.path[0] not in config and override.path[0] not in OPTIONAL_AGENT_KEYS:
            known = sorted(agent_fields) + sorted(config)
            raise SpecError(override.key, override.text, "",
                            message=f"unknown key (known: {', '.join(known[:14])}, ...)")


def apply_agent_config_overrides(spec: Any, agent_cfg: dict, overrides: Sequence[Override]) -> None:
    """Apply ``agent.`` keys that name rl_games config entries (not AgentSettings fields) to ``agent_cfg``."""
    check_agent_keys(spec, overrides, agent_cfg)
    agent_fields = {field.name for field in dataclasses.fields(spec.agent)}
    config = agent_cfg["params"]["config"]
    for override in overrides:
        if override.section != "agent" or override.path[0] in agent_fields:
            continue
        if override.path[0] not in config:
            if len(override.path) != 1:
                raise SpecError(override.key, override.text, "", message="has no sub-keys")
            config[override.path[0]] = override.value
        else:
            set_path(config, Override("agent", override.path, override.value, override.text))


def apply_env_overrides(env_cfg: Any, overrides: Sequence[Override]) -> None:
    """Apply the ``env.`` overrides to a resolved Isaac Lab env config, checking each key exists.

    ``env.scene_spec.<field>`` keys go through :func:`apply_scene_spec_overrides`, so the scene spec checks them.
    """
    scene_overrides = [o for o in overrides if o.section == "env" and o.path[0] == SCENE_SPEC and len(o.path) > 1]
    if scene_overrides and getattr(env_cfg, SCENE_SPEC, None) is not None:
        env_cfg.scene_spec = apply_scene_spec_overrides(env_cfg.scene_spec, scene_overrides)
    for override in overrides:
        if override.section == "env" and override not in scene_overrides:
            set_path(env_cfg, override)


SCENE_SPEC = "scene_spec"
"""Field of the env config that holds the task's :class:`~stripe_kit.scene.SceneSpec`."""


def apply_scene_spec_overrides(scene_spec: Any, overrides: Sequence[Override]) -> Any:
    """A copy of ``scene_spec`` with ``env.scene_spec.<field>`` overrides applied, each validated by the spec.

    The keys are the dotted field names the scene panel edits (``terrain.wavelength``,
    ``assets.tree.min_spacing``, ``seed``) and values are parsed as that panel parses them: one mechanism
    (:class:`~stripe_kit.ui.fields.SpecFields`), which rebuilds the spec so its own checks run.

    Raises:
        SpecError: For an unknown key, or a value the spec refuses (its one-line message, under the override's key).
    """
    from ..ui.fields import SpecFields

    form = SpecFields(scene_spec)
    for override in overrides:
        name = ".".join(override.path[1:])
        if name not in form:
            names = form.names
            shown = ", ".join(names[:16]) + (", ..." if len(names) > 16 else "")
            raise SpecError(override.key, override.text, "", message=f"unknown key (known here: {shown})")
        if form[name].read_only:
            raise SpecError(override.key, override.text, "", message="read-only (it names the asset type)")
        if not form.set(name, override.text):
            message = form.error or "refused"
            if message.startswith(f"{name}: "):
                message = message[len(name) + 2:]
            raise SpecError(override.key, override.text, "", message=message)
    return form.spec
