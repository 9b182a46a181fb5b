"""Fuzzing every operation of the OpenAPI schema (schemathesis) against a real gunicorn.

Valid and invalid requests, as an agent of a seeded project: no answer may be a 5xx, and every
4xx must be the error envelope. Bounded: `FUZZ_EXAMPLES` cases per operation (derandomized, so a
run is reproducible; set `FUZZ_SEED` to explore other cases), no shrinking.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode

from tests_support.factories import make_ticket
from tests_support.live import gunicorn_process

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True), pytest.mark.timeout(600)]

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
FUZZ_SEED = os.environ.get("FUZZ_SEED")
FUZZ_ROLE = os.environ.get("FUZZ_ROLE", "agent")  # a desk role: agent, lead, manager, admin
GUNICORN_ARGS = ("--limit-request-line", "0", "--no-control-socket")
ENVELOPE_KEYS = {"code", "message", "details", "request_id"}


def envelope_problem(status: int, content_type: str, body: Any) -> str:
    """Why a response is not a proper refusal ("" when it is one, or not a 4xx)."""
    if not 400 <= status < 500:
        return ""
    if not content_type.startswith("application/json"):
        return f"{status} answered as {content_type!r}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) != ENVELOPE_KEYS:
        return f"{status} without the envelope: {str(body)[:300]}"
    return ""


@schemathesis.check
def error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is `{"error": {code, message, details, request_id}}`."""
    content_type = (response.headers.get("content-type") or [""])[0]
    try:
        body = response.json()
    except ValueError:
        body = None
    problem = envelope_problem(response.status_code, content_type, body)
    if problem:
        raise AssertionError(problem)
    return None


def test_the_envelope_check_refuses_what_is_not_the_envelope() -> None:
    """The custom check can fail: the positive control for the fuzz run below."""
    envelope = {"error": dict.fromkeys(ENVELOPE_KEYS, "x")}
    assert envelope_problem(404, "application/json", envelope) == ""
    assert envelope_problem(200, "text/html", None) == ""
    assert envelope_problem(414, "text/html", None) == "414 answered as 'text/html'"
    assert envelope_problem(400, "application/json", {"detail": "x"}) == (
        "400 without the envelope: {'detail': 'x'}"
    )


@pytest.fixture(scope="module")
def api(django_db_setup: None) -> Iterator[str]:
    with gunicorn_process(1, args=GUNICORN_ARGS) as (base, _proc):
        yield base


def test_fuzzing_every_operation_finds_no_server_error_and_only_enveloped_refusals(
    api: str, desk: dict[str, Any]
) -> None:
    make_ticket(desk["project"], desk["agent"], title="seeded")
    headers = {"Authorization": f"Token {Token.objects.create(user=desk[FUZZ_ROLE]).key}"}
    schema = schemathesis.openapi.from_url(f"{api}/api/schema/?format=json", headers=headers)
    failures: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation the schema cannot describe
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=FUZZ_SEED is None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call_and_validate(
                base_url=api, headers=headers, checks=[not_a_server_error, error_envelope]
            )
            statuses[response.status_code // 100] += 1

        if FUZZ_SEED is not None:
            run = seed(int(FUZZ_SEED))(run)
        try:
            run()
        except Exception as exc:  # every operation runs; all failures are reported
            failures[operation.label] = str(exc)[:1500]
    print(f"fuzzed {operations} operations: {dict(statuses)} responses by class")  # noqa: T201
    assert operations >= 80  # the whole API was fuzzed, not a schema that failed to load
    assert (
        statuses[2] > 0 and statuses[4] > 0
    )  # requests got through to the views, and were refused
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
