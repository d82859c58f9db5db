"""Mirror of :mod:`stripe_kit.task` for the Warp frontend (its ``mdp`` package holds the twins)."""
