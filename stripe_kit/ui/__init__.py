"""Kit-free view-models for front ends: spec fields and the scene panel.

The Kit extension (``stripe_kit_ext``) draws these with ``omni.ui``; nothing here imports omni, carb or isaacsim.
"""

from .fields import Field, FieldKind, SpecFields, attribute_docs, error_message, format_value, parse_value
from .scene_panel import DEFAULT_ROOT_PATH, ScenePanelModel, SceneSummary, showcase_specs

__all__ = [
    "DEFAULT_ROOT_PATH",
    "Field",
    "FieldKind",
    "ScenePanelModel",
    "SceneSummary",
    "SpecFields",
    "attribute_docs",
    "error_message",
    "format_value",
    "parse_value",
    "showcase_specs",
]
