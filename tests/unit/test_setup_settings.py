"""Settings a deployment gets wrong: a password with / or @, empty file variables from compose."""

from __future__ import annotations

import json

from pydantic import SecretStr
from sqlalchemy.engine import make_url

from gridbot.models.db import make_engine
from gridbot.models.migrate import alembic_config
from gridbot.models.settings import DBSettings, Settings
from tests.conftest import REPO_ROOT


def test_a_password_with_slash_and_at_survives_the_url_and_alembic() -> None:
    password = "p/ss@w:rd%1"
    engine = make_engine(
        DBSettings(url="postgresql+psycopg://gridbot@db:5432/gridbot", password=SecretStr(password))
    )
    assert engine.url.password == password and engine.url.host == "db" and engine.url.database == "gridbot"
    rendered = alembic_config(engine).get_main_option("sqlalchemy.url")
    assert rendered is not None and make_url(rendered).password == password
    engine.dispose()


def test_compose_empty_file_variables_mean_the_bundled_files() -> None:
    settings = Settings(
        _env_file=None, sla={"policy_file": "", "holidays_file": ""}, nlp={"taxonomy_file": ""}
    )  # type: ignore[call-arg]
    assert settings.sla.policy_file is None and settings.nlp.taxonomy_file is None


def test_the_gateway_is_built_from_current_npm_packages() -> None:
    package = json.loads((REPO_ROOT / "gateway" / "package.json").read_text(encoding="utf-8"))
    assert package["dependencies"]["wechaty"].startswith("1.20.")
    assert package["dependencies"]["wechaty-puppet-service"].startswith("1.19.")
    compose = (REPO_ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8")
    assert "wechaty/wechaty:0.65" not in compose and "${POSTGRES_PASSWORD:-}@" not in compose
    assert "context: ../gateway" in compose  # the durable gateway is the one that ships
