"""STRIPE-kit showcase: a forest scene generator and the tasks that train in it.

Kept apart from the core library as a reusable package, the way STRIPE-kit keeps a scene module (a forest
generator) separate from the library. Importing :mod:`stripe_forest.tasks` registers the tasks.
"""
