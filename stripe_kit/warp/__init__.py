"""STRIPE-kit on Isaac Lab's Warp frontend: Warp twins of the library's MDP terms, found by the frontend's rules.

Isaac Lab 3's Warp frontend (``isaaclab_experimental.envs.frontend.WarpFrontend``) runs a manager-based task on Warp
managers whose stages it captures in CUDA graphs. It swaps each observation, reward, termination, action and event
term for a same-named *twin* found on the mirror of the term's package (``isaaclab`` -> ``isaaclab_experimental``);
commands and curricula stay on Isaac Lab's torch managers. Importing this package adds one mirror,
``stripe_kit`` -> ``stripe_kit.warp`` (:func:`register_twin_package`), so a term of ``stripe_kit.task.mdp`` has its
twin in :mod:`stripe_kit.warp.task.mdp`; :class:`StripeWarpFrontend` builds a STRIPE-kit task as a
:class:`~stripe_kit.warp.env.StripeEnvWarp`. A twin writes its result into the manager's ``out`` array with one
kernel launch (fixed shapes, no host synchronisation) and must equal its torch term (``tests/task/test_warp_twins.py``).
"""

from .frontend import StripeWarpFrontend, register_twin_package

register_twin_package()

__all__ = ["StripeWarpFrontend", "register_twin_package"]
