"""``env.scene_spec.*`` overrides go through the scene spec's own checks, asset fields included."""

from __future__ import annotations

import pytest

from stripe_kit.errors import SpecError
from stripe_kit.task import REGISTERED
from stripe_kit.train.plan import resolve_configs
from stripe_kit.train.tasks import load_tasks
from train_support import TASK


def _resolve(*overrides: str):
    load_tasks()
    return resolve_configs(TASK, 4, "cpu", 0, None, list(overrides))


def test_scene_and_asset_fields_are_overridden_through_the_spec():
    load_tasks()
    registered = REGISTERED[TASK]
    before = (registered.scene.terrain.wavelength, registered.scene.assets[0].min_spacing)
    _, env_cfg, _ = _resolve("env.scene_spec.terrain.wavelength=4", "env.scene_spec.assets.tree.min_spacing=2.5",
                             "env.scene_spec.assets.tree.density_range=[0.01,0.05]", "env.scene_spec.seed=7")
    spec = env_cfg.scene_spec
    tree = next(asset for asset in spec.assets if asset.name == "tree")
    assert spec.terrain.wavelength == 4.0 and tree.min_spacing == 2.5 and tree.density_range == (0.01, 0.05)
    assert spec.seed == 7 and type(spec) is type(registered.scene)
    # the registered task is untouched
    assert (registered.scene.terrain.wavelength, registered.scene.assets[0].min_spacing) == before


@pytest.mark.parametrize(
    "override, expected",
    [
        ("env.scene_spec.terrain.wavelength=nan",
         "env.scene_spec.terrain.wavelength: got nan; expected a number in (0.0, 1000.0]"),
        ("env.scene_spec.terrain.wavelength=1e-6", "env.scene_spec.terrain.wavelength: got 1e-06; expected a "
         "wavelength >= "),
        ("env.scene_spec.assets.tree.min_spacing=-1", "env.scene_spec.assets.tree.min_spacing: got -1.0; expected "),
        ("env.scene_spec.assets.tree.density_range=lots", "env.scene_spec.assets.tree.density_range: got 'lots'; "
         "expected a pair 'min, max'"),
        ("env.scene_spec.assets.pine.min_spacing=2", "env.scene_spec.assets.pine.min_spacing: unknown key (known here: "),
        ("env.scene_spec.assets.tree.name=oak", "env.scene_spec.assets.tree.name: read-only"),
    ],
)
def test_bad_scene_overrides_are_the_spec_own_one_line_error(override, expected):
    with pytest.raises(SpecError) as error:
        _resolve(override)
    message = str(error.value)
    assert message.startswith(expected), message
    assert "\n" not in message
