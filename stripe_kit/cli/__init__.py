"""Command-line interface (``stripe-kit``)."""
