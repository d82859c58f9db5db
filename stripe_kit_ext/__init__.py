"""STRIPE-kit extension for Isaac Sim: the "STRIPE-kit" menu with the scene and training windows.

Only the menu is made at start-up; the library ``stripe_kit`` (pip-installed into Isaac Sim's Python, see
docs/README.md) and the windows are imported when a window is first opened, and an import error is shown in the
window instead of disabling the extension.
"""

from .extension import StripeKitExtension, get_extension

__all__ = ["StripeKitExtension", "get_extension"]
