"""Property-based run of every operation in the OpenAPI schema: no 5xx, no schema violations."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from sqlalchemy import Engine

from gridbot.api.app import create_app
from gridbot.api.ratelimit import LocalRateLimiter
from gridbot.models.db import make_session_factory
from gridbot.models.enums import Role
from gridbot.models.messaging.coordination import LocalCoordinator
from gridbot.models.tickets.sla import SLAPolicy
from tests.api.conftest import api_settings, bearer, file_ticket, new_token
from tests.conftest import build_world

# Checks run: not_a_server_error, status_code_conformance, content_type_conformance,
# response_headers_conformance, response_schema_conformance (schemathesis' defaults minus one, below).

MAX_EXAMPLES = 20


def test_openapi_schema_holds_under_generated_requests(pg_engine: Engine, policy: SLAPolicy) -> None:
    factory = make_session_factory(pg_engine)
    with factory.begin() as session:
        world = build_world(session)
        for i in range(5):
            file_ticket(session, policy, world.grid, world.resident, f"路灯坏了 13812345678 第{i}次")
    _, token = new_token(factory, Role.CITY_ADMIN, world.city, "fuzz")
    app = create_app(
        api_settings(pg_engine), engine=pg_engine, coordinator=LocalCoordinator(), limiter=LocalRateLimiter()
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            # an opaque cursor is schema-valid as any string, yet only ours decode: 422 there is right
            response = case.call_and_validate(
                headers=bearer(token), excluded_checks=[schemathesis.checks.positive_data_acceptance]
            )
            assert "13812345678" not in response.text

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a FailureGroup; collect all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc!s}")
    if failures:
        pytest.fail("\n\n".join(failures))
