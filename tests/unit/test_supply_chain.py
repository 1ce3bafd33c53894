"""Supply chain: no installed package sits in a range SECURITY.md lists as vulnerable.

`scripts/audit` (pip-audit) is the real check, but its vulnerability services are often unreachable
(exit 3). These tests hold the line offline: the advisories we know of, against the installed
versions and against every dependency range pyproject.toml allows.
"""

from __future__ import annotations

import importlib
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]

# package -> (first fixed version, the advisories it fixes). Listed in SECURITY.md, "Dependency audit".
FIXED_IN: dict[str, tuple[str, str]] = {
    "urllib3": ("2.6.3", "CVE-2025-50181, CVE-2025-66418, CVE-2025-66471, CVE-2026-21441"),
    "requests": ("2.32.4", "CVE-2024-47081"),
    "h11": ("0.16.0", "CVE-2025-43859"),
    "h2": ("4.3.0", "CVE-2025-57804"),
    "jinja2": ("3.1.6", "CVE-2025-27516"),
    "starlette": ("0.47.2", "CVE-2025-54121"),
}

# The last urllib3 1.x and the last 2.x before the fixes: no extra may let either in.
VULNERABLE_URLLIB3 = ("1.26.20", "2.6.2")


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        pytest.skip(f"{name} is not installed here")


@pytest.mark.parametrize("name", sorted(FIXED_IN))
def test_installed_version_has_the_fixes(name: str) -> None:
    fixed, advisories = FIXED_IN[name]
    installed = _installed(name)
    assert Version(installed) >= Version(fixed), (
        f"{name} {installed} is affected by {advisories} (fixed in {fixed}); "
        "upgrade it (scripts/setup dev, scripts/e2e-setup)"
    )


def _requirements() -> dict[str, list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = {"(main)": project["dependencies"], **project["optional-dependencies"]}
    return {group: [Requirement(line) for line in lines] for group, lines in groups.items()}


@pytest.mark.parametrize("group", sorted(_requirements()))
def test_no_dependency_range_admits_a_vulnerable_urllib3(group: str) -> None:
    for req in _requirements()[group]:
        if req.name == "urllib3":
            admitted = [v for v in VULNERABLE_URLLIB3 if req.specifier.contains(v)]
            assert not admitted, f"{group}: {req} admits urllib3 {admitted}"


def test_the_extras_that_bring_requests_set_a_urllib3_floor() -> None:
    # requests accepts urllib3 1.26, so without a floor pip keeps whatever old one a venv has.
    groups = _requirements()
    for group in ("wechaty", "dev"):
        floors = [r for r in groups[group] if r.name == "urllib3"]
        assert floors and not floors[0].specifier.contains("2.6.2"), group


def test_get_host_behaves_like_urllib3_1_26() -> None:
    pytest.importorskip("urllib3")
    from gridbot.bot.wechaty_compat import get_host

    # Measured with urllib3 1.26.20's own urllib3.get_host.
    assert get_host("https://github.com/wechaty/python-wechaty/pull/1") == ("https", "github.com", None)
    assert get_host("http://Example.COM:8080/a?b#c") == ("http", "example.com", 8080)
    assert get_host("github.com/x") == ("http", "github.com", None)
    assert get_host("https://user:pw@github.com:443/p") == ("https", "github.com", 443)
    assert get_host("https://[::1]:443/") == ("https", "[::1]", 443)


# python-wechaty 0.10.7 imports deprecated modules (it is unmaintained since 2023).
@pytest.mark.filterwarnings("ignore:'telnetlib' is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:pyee.AsyncIOEventEmitter has been moved:DeprecationWarning")
def test_python_wechaty_imports_with_urllib3_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wechaty_puppet", reason="the wechaty extra is not installed")
    urllib3 = pytest.importorskip("urllib3")
    from gridbot.bot.wechaty_compat import load_wechaty

    monkeypatch.setenv("CACHE_DIR", str(tmp_path))  # load_wechaty only sets these when unset
    monkeypatch.setenv("WECHATY_LOG", "warn")
    wechaty = load_wechaty(tmp_path, "")
    url_link = importlib.import_module("wechaty.user.url_link")  # the module that imports get_host
    assert wechaty.Wechaty is not None
    assert url_link.get_host("https://github.com/x") == ("https", "github.com", None)
    assert Version(urllib3.__version__) >= Version("2.6.3")
