"""Observer plumbing shared by the view-models: front ends subscribe and redraw on each named change."""

from __future__ import annotations

import logging
from collections.abc import Callable

from .fields import error_message

logger = logging.getLogger(__name__)

Observer = Callable[[str], None]
"""Called with the name of the change."""

ERROR = "error"
"""Event of an action that failed; the model's ``error`` holds its one-line message."""


class ObservableModel:
    """A view-model that notifies observers of named changes, and whose button actions never raise.

    Actions report failure through :attr:`error` (one line) and an :data:`ERROR` event, success through the
    subclass's message attribute and the action's own event.
    """

    def __init__(self):
        self.error: str | None = None
        """One-line message of the last failed action or field edit; None after a successful one."""
        self._observers: list[Observer] = []

    def subscribe(self, callback: Observer) -> Callable[[], None]:
        """Call ``callback(event)`` after each change; see the event names of the model's module.

        Returns:
            A function that unsubscribes ``callback``.
        """
        if callback not in self._observers:
            self._observers.append(callback)
        return lambda: self.unsubscribe(callback)

    def unsubscribe(self, callback: Observer) -> None:
        """Stop calling ``callback``; no-op if it is not subscribed."""
        if callback in self._observers:
            self._observers.remove(callback)

    def _notify(self, event: str) -> None:
        for callback in list(self._observers):
            try:
                callback(event)
            except Exception:  # noqa: BLE001 - a broken front end must not break the model or other observers
                logger.exception("%s observer %r failed on %r", type(self).__name__, callback, event)

    def _succeed(self, event: str, message: str) -> bool:
        """Clear the error, show ``message`` (the model's ``message`` attribute) and notify ``event``; returns True."""
        self.error = None
        self.message = message
        self._notify(event)
        return True

    def _fail(self, exc: BaseException | str, name: str = "") -> bool:
        self.error = exc if isinstance(exc, str) else error_message(exc, name)
        self._notify(ERROR)
        return False
