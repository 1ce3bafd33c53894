"""The distribution installs one top-level name, and the code imports itself only through it."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("models", "nlp", "handlers", "bot", "api")


@pytest.mark.slow
def test_the_wheel_installs_only_gridbot(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("gridbot-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert zf.read(top_level).decode().split() == ["gridbot"]
    roots = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert roots == {"gridbot"}
    # the domain's data files travel with it
    for needed in (
        "gridbot/models/tickets/sla_default.yaml",
        "gridbot/models/migrations/env.py",
        "gridbot/nlp/taxonomy.yaml",
    ):
        assert needed in names


def test_no_module_imports_a_bare_layer_name() -> None:
    """`import models` would load a second copy of a module (or a user's own models.py)."""
    bare = re.compile(r"^\s*(?:from|import)\s+(?:" + "|".join(LAYERS) + r")\b", re.MULTILINE)
    offenders = []
    for folder in (*LAYERS, "gridbot", "tests", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            if bare.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_every_entry_point_module_is_in_the_layer_contract() -> None:
    """A new module in gridbot/ must take its place in the import-linter layers (pyproject.toml)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    top = {name.strip() for name in layers["layers"][0].split(":")}
    modules = {f"gridbot.{p.stem}" for p in (ROOT / "gridbot").glob("*.py") if p.stem != "__init__"}
    assert modules == top
