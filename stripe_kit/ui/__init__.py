"""Kit-free view-models for front ends: spec fields, the scene panel and the training panel.

The Kit extension (``stripe_kit_ext``) draws these with ``omni.ui`` and the browser GUI (:mod:`stripe_kit.ui.web`,
``stripe-kit gui``; needs viser, so it is not imported here) with viser; nothing here imports omni, carb or isaacsim.
"""

from .fields import Field, FieldKind, SpecFields, attribute_docs, error_message, format_value, parse_value
from .scene_panel import DEFAULT_ROOT_PATH, ScenePanelModel, SceneSummary, showcase_specs
from .training_panel import LoopDriver, MetricHistory, OptionField, TrainingPanelModel, registered_tasks

__all__ = [
    "DEFAULT_ROOT_PATH",
    "Field",
    "FieldKind",
    "MetricHistory",
    "OptionField",
    "ScenePanelModel",
    "SceneSummary",
    "SpecFields",
    "LoopDriver",
    "TrainingPanelModel",
    "attribute_docs",
    "error_message",
    "format_value",
    "parse_value",
    "registered_tasks",
    "showcase_specs",
]
