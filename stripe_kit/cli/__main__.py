"""``python -m stripe_kit.cli``: the same as the ``stripe-kit`` command."""

from .main import entry_point

entry_point()
