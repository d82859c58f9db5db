"""STRIPE-kit: procedural, plausible environments for robot learning on Isaac Lab 3.

The core package is Kit-free: it runs kitless on Isaac Lab's Newton backend and is imported by the
Kit extension (``stripe_kit_ext``) inside Isaac Sim. Importing it loads no simulator: submodules
are imported where they are used.
"""

__version__ = "0.4.0"
