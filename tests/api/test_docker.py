"""The deployment files parse: `docker compose config` validates them without an engine."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO_ROOT

COMPOSE = REPO_ROOT / "docker" / "compose.yaml"


def _compose() -> list[str]:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("neither `docker compose` nor `docker-compose` is installed")


@pytest.mark.parametrize("env_file", [None, "docker/.env.example"])
def test_compose_config_validates(env_file: str | None) -> None:
    cmd = [*_compose(), "-f", str(COMPOSE)] + (["--env-file", str(REPO_ROOT / env_file)] if env_file else [])
    result = subprocess.run([*cmd, "config"], capture_output=True, text=True, check=False, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stderr
    for service in ("postgres:", "redis:", "wechaty-gateway:", "bot:", "api:"):
        assert service in result.stdout
    assert "healthcheck" in result.stdout


def test_the_image_runs_as_a_non_root_user() -> None:
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.count("FROM ") >= 2  # multi-stage
    assert "USER gridbot" in dockerfile and "HEALTHCHECK" in dockerfile
