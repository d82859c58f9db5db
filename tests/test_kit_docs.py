"""The Isaac Sim install steps of docs/README.md agree with the project's pins and the extension manifest."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(text: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"([A-Za-z0-9_.-]+)==([0-9][^\s\"',\]]*)", text)}


def _install_block() -> str:
    readme = (ROOT / "docs" / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    block = next(b for b in blocks if "python.sh -m pip install" in b)
    return block


def test_readme_names_isaac_sim_6_2_and_python_3_12():
    readme = (ROOT / "docs" / "README.md").read_text()
    assert "Isaac Sim 6.2" in readme and "Python 3.12" in readme
    assert "Isaac Sim 5.x" not in readme


def test_install_steps_pin_what_constraints_pin_and_install_the_project():
    block = _install_block()
    assert "pip install --no-deps -e /path/to/stripe-kit" in block
    installed = _pins(block)
    assert installed, block
    constraints = _pins((ROOT / "requirements" / "constraints.txt").read_text())
    for name, version in installed.items():
        assert constraints.get(name) == version, (name, version, constraints.get(name))
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() for d in dependencies}
    assert set(installed) <= names, set(installed) - names


def test_manifest_pipapi_agrees_with_the_install_steps():
    manifest = tomllib.loads((ROOT / "config" / "extension.toml").read_text())
    requirements = manifest["python"]["pipapi"]["requirements"]
    assert _pins(" ".join(requirements)).items() <= _pins(_install_block()).items()
    assert manifest["core"]["reloadable"] is False
    assert manifest["test"][0]["args"]
