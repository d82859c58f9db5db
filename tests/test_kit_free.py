"""The core package imports no Kit module (omni, carb, isaacsim), so it runs kitless and inside Isaac Sim alike."""

from __future__ import annotations

from support import run_python


def test_core_imports_no_kit_module():
    result = run_python(
        """
        import json, sys
        import stripe_kit
        bare = [m for m in sys.modules if m.split('.')[0] in ('omni', 'carb', 'isaacsim')]
        import stripe_kit.scene, stripe_kit.task, stripe_kit.train.runner, stripe_kit.train.stepper, stripe_kit.cli.main
        import stripe_forest.tasks
        full = [m for m in sys.modules if m.split('.')[0] in ('omni', 'carb', 'isaacsim')]
        print("RESULT " + json.dumps({"bare": bare, "full": full}))
        """
    )
    assert result == {"bare": [], "full": []}
