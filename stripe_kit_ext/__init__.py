"""STRIPE-kit extension for Isaac Sim: the scene generator window (menu "STRIPE-kit > Scene").

A thin ``omni.ui`` layer over the Kit-free view-model :mod:`stripe_kit.ui`; the core package ``stripe_kit`` must be
pip-installed into Isaac Sim's Python (see docs/README.md).
"""

from .extension import StripeKitExtension, get_extension
from .scene_window import WINDOW_TITLE, SceneWindow

__all__ = ["WINDOW_TITLE", "SceneWindow", "StripeKitExtension", "get_extension"]
