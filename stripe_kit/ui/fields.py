"""Typed, validated UI fields generated from a spec's own dataclass fields.

:class:`SpecFields` walks a ``@configclass`` spec (a :class:`~stripe_kit.scene.SceneSpec`, its terrain, each asset
of its palette) and makes one :class:`Field` per editable value, with a dotted name such as ``terrain.num_rows`` or
``assets.tree.min_spacing``. Setting a field parses the value (or its text), rebuilds the spec with the
configclass ``replace`` so that the spec's own ``__post_init__`` validation runs, and on failure keeps the old value
and exposes the spec's one-line :class:`~stripe_kit.errors.SpecError` message as :attr:`Field.error`.

The module is Kit-free: any front end (the Kit window, a notebook, a test) can drive it.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import logging
import math
import re
import textwrap
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, Literal

from ..errors import SpecError

logger = logging.getLogger(__name__)

FieldKind = Literal["float", "int", "bool", "str", "range"]
"""Kind of value a field holds; ``"range"`` is an ordered pair ``(min, max)`` of floats or ints."""

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
_RANGE_ANNOTATION = re.compile(r"tuple\[(float|int),(float|int)\]")


class Field:
    """One editable value of a spec, addressed by a dotted name.

    The value is always read from the current spec of the owning :class:`SpecFields`, so a field never holds a
    stale copy: after a failed :meth:`set` it still shows the old, valid value.
    """

    def __init__(self, form: SpecFields, path: tuple[str | int, ...], name: str, kind: FieldKind, *,
                 item_type: type = float, group: str = "", tooltip: str = "", read_only: bool = False):
        self._form = form
        self._path = path
        self.name = name
        """Dotted name, e.g. ``terrain.num_rows`` or ``assets.tree.min_spacing``."""
        self.kind: FieldKind = kind
        """Kind of value."""
        self.item_type = item_type
        """Type of the items of a ``"range"`` field (float or int); the value type of scalar fields."""
        self.group = group
        """Dotted prefix of the name (``""`` for top-level fields, ``"terrain"``, ``"assets.tree"``)."""
        self.label = _humanize(path[-1] if isinstance(path[-1], str) else name.rsplit(".", 1)[-1])
        """Short human-readable label, e.g. ``"Min spacing"``."""
        self.tooltip = tooltip
        """The field's attribute docstring in the spec class, or empty."""
        self.read_only = read_only
        """Whether the field is shown but cannot be set (e.g. an asset's name, which is its key)."""
        self.error: str | None = None
        """One-line message of the last failed :meth:`set`; None after a successful one."""

    def __repr__(self) -> str:
        return f"Field({self.name!r}, {self.kind}, value={self.value!r}{', error' if self.error else ''})"

    @property
    def value(self) -> Any:
        """Current value in the spec."""
        obj: Any = self._form.spec
        for step in self._path:
            obj = obj[step] if isinstance(step, int) else getattr(obj, step)
        return obj

    @property
    def text(self) -> str:
        """Current value as text that :meth:`set` parses back to the same value."""
        return format_value(self.kind, self.value)

    def parse(self, value: Any) -> Any:
        """Convert a value or its text to this field's type.

        Strings are parsed; other values are passed through with light coercion (an int for a float field), so
        that the spec itself judges them.

        Raises:
            SpecError: If the text cannot be read as this field's kind.
        """
        return parse_value(self.name, self.kind, value, self.item_type)

    def set(self, value: Any) -> bool:
        """Parse ``value`` (a value or its text) and apply it by rebuilding the spec.

        On failure the spec keeps its old value and :attr:`error` holds the spec's one-line message. Observers of
        the owning :class:`SpecFields` are called either way. Never raises for bad input.

        Returns:
            True if the value was applied.
        """
        return self._form.set(self.name, value)


class SpecFields:
    """The editable fields of one spec, and the spec they rebuild on each change.

    Args:
        spec: A ``@configclass`` spec instance, e.g. ``ForestSceneSpec()``.
        exclude: Dotted names of fields to leave out.
        on_change: Called with the field after each :meth:`set`, whether it succeeded or not.
    """

    def __init__(self, spec: Any, *, exclude: Collection[str] = (),
                 on_change: Callable[[Field], None] | None = None):
        if not dataclasses.is_dataclass(spec) or isinstance(spec, type):
            raise TypeError(f"expected a configclass instance, got {type(spec).__name__}")
        self._spec = spec
        self._exclude = frozenset(exclude)
        self._on_change = on_change
        self.error: str | None = None
        """Message of the last failed :meth:`set`; None after a successful one."""
        self.fields: list[Field] = []
        """The fields, in declaration order, nested configs after the fields before them."""
        self._collect(spec, (), "")
        self._by_name = {f.name: f for f in self.fields}

    @property
    def spec(self) -> Any:
        """The current, validated spec (a new object after each successful :meth:`set`)."""
        return self._spec

    @property
    def names(self) -> list[str]:
        """Dotted names of the fields."""
        return [f.name for f in self.fields]

    @property
    def errors(self) -> dict[str, str]:
        """Pending error message of each field whose last :meth:`set` failed."""
        return {f.name: f.error for f in self.fields if f.error}

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def groups(self) -> dict[str, list[Field]]:
        """Fields by :attr:`Field.group`, in order of first appearance."""
        out: dict[str, list[Field]] = {}
        for f in self.fields:
            out.setdefault(f.group, []).append(f)
        return out

    def get(self, name: str) -> Any:
        """Current value of the field ``name``."""
        return self._by_name[name].value

    def set(self, name: str, value: Any) -> bool:
        """Set the field ``name`` from a value or its text; see :meth:`Field.set`.

        Returns:
            True if the value was applied; False (with :attr:`error` set) otherwise, including unknown names.
        """
        field = self._by_name.get(name)
        if field is None:
            self.error = f"{name}: no such field; expected one of {', '.join(self.names)}"
            return False
        try:
            parsed = field.parse(value)
            if field.read_only and parsed != field.value:
                raise SpecError(name, value, f"{field.value!r} (read-only field)")
            if not field.read_only:
                self._spec = _rebuild(self._spec, field._path, parsed)
        except Exception as exc:  # noqa: BLE001 - any failure of user input is reported, never raised
            field.error = self.error = error_message(exc, name)
        else:
            field.error = self.error = None
        if self._on_change is not None:
            self._on_change(field)
        return field.error is None

    def reset(self, spec: Any) -> None:
        """Replace the spec by ``spec`` (of the same layout, e.g. the registered default) and clear the errors."""
        self._spec = spec
        self.error = None
        for f in self.fields:
            f.error = None

    def _collect(self, obj: Any, path: tuple[str | int, ...], prefix: str, key_field: str | None = None) -> None:
        """Add a field for each supported value of ``obj``, recursing into nested configs and lists of configs."""
        docs = attribute_docs(type(obj))
        for dc_field in dataclasses.fields(obj):
            if not dc_field.init:
                continue
            value = getattr(obj, dc_field.name)
            name = f"{prefix}{dc_field.name}"
            if name in self._exclude:
                continue
            step = (*path, dc_field.name)
            if _is_config(value):
                self._collect(value, step, f"{name}.")
                continue
            if isinstance(value, (list, tuple)) and value and all(_is_config(item) for item in value):
                keys = [getattr(item, "name", None) for item in value]
                by_name = all(isinstance(k, str) and k for k in keys) and len(set(keys)) == len(keys)
                for index, item in enumerate(value):
                    key = keys[index] if by_name else str(index)
                    self._collect(item, (*step, index), f"{name}.{key}.", "name" if by_name else None)
                continue
            kind, item_type = _kind_of(dc_field.type, value)
            if kind is None:
                continue
            self.fields.append(Field(
                self, step, name, kind, item_type=item_type, group=prefix.rstrip("."),
                tooltip=docs.get(dc_field.name, ""), read_only=dc_field.name == key_field,
            ))


def parse_value(name: str, kind: FieldKind, value: Any, item_type: type = float) -> Any:
    """Convert a value or its text to a field's kind; see :meth:`Field.parse`.

    Raises:
        SpecError: If the text cannot be read as ``kind``.
    """
    if kind == "range":
        items = value
        if isinstance(value, str):
            items = [s for s in re.split(r"[,\s;]+", value.strip().strip("()[]").strip()) if s]
        if not isinstance(items, (list, tuple)) or len(items) != 2:
            raise SpecError(name, value, "a pair 'min, max'")
        return tuple(parse_value(name, "int" if item_type is int else "float", item) for item in items)
    if not isinstance(value, str):
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if kind == "bool" and isinstance(value, int) and value in (0, 1):
            return bool(value)
        return value
    text = value.strip()
    if kind == "str":
        return value
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise SpecError(name, value, "true or false")
    try:
        number = float(text)
    except ValueError:
        raise SpecError(name, value, "an integer" if kind == "int" else "a number") from None
    if kind == "float":
        return number
    try:
        return int(text)
    except ValueError:
        if number.is_integer():
            return int(number)
        raise SpecError(name, value, "an integer") from None


def format_value(kind: FieldKind, value: Any) -> str:
    """Text of a field value that :func:`parse_value` reads back to the same value."""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "range" and isinstance(value, (list, tuple)):
        return ", ".join(format_value("float" if isinstance(v, float) else "int", v) for v in value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def error_message(exc: BaseException, name: str = "") -> str:
    """One-line message of an exception: a :class:`SpecError` as it is, others prefixed by ``name``."""
    if isinstance(exc, SpecError):
        text = str(exc)
    else:
        logger.debug("unexpected error for %s", name or "action", exc_info=exc)
        text = f"{name}: {exc}" if name else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


@functools.cache
def attribute_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings (the string right after each field) of ``cls`` and its bases, subclasses first.

    Returns an empty dict where the source is not available (frozen apps, interactive classes).
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str)):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def _rebuild(obj: Any, path: Sequence[str | int], value: Any) -> Any:
    """A copy of ``obj`` with the value at ``path`` replaced, rebuilding each config on the way (validating it)."""
    step = path[0]
    if len(path) == 1:
        return _replace(obj, **{step: value})
    child = getattr(obj, step)
    if isinstance(path[1], int):
        items = list(child)
        items[path[1]] = _rebuild(items[path[1]], path[2:], value)
        new_child: Any = type(child)(items) if isinstance(child, tuple) else items
    else:
        new_child = _rebuild(child, path[1:], value)
    return _replace(obj, **{step: new_child})


def _replace(obj: Any, **changes: Any) -> Any:
    """The configclass ``replace`` of ``obj`` (a new instance, whose ``__post_init__`` validates it)."""
    replace = getattr(obj, "replace", None)
    return replace(**changes) if callable(replace) else dataclasses.replace(obj, **changes)


def _is_config(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _kind_of(annotation: Any, value: Any) -> tuple[FieldKind | None, type]:
    """Kind of a field from its annotation, else from its current value; None if not editable as a field."""
    ann = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    ann = ann.replace(" ", "")
    if ann in ("float", "int", "bool", "str"):
        return ann, {"float": float, "int": int, "bool": bool, "str": str}[ann]  # type: ignore[return-value]
    match = _RANGE_ANNOTATION.fullmatch(ann)
    if match:
        return "range", float if "float" in match.groups() else int
    if isinstance(value, bool):
        return "bool", bool
    for kind, kind_type in (("int", int), ("float", float), ("str", str)):
        if isinstance(value, kind_type):
            return kind, kind_type  # type: ignore[return-value]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return "range", float if any(isinstance(v, float) for v in value) else int
    return None, object


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
