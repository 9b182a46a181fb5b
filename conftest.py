"""Suite-wide fixtures: API clients per role, a project with members, Redis hygiene."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests_support.contention import retrying_deadlocks
from tests_support.factories import ensure_default_statuses, make_project, make_user


def _flush_retrying_deadlocks() -> None:
    """A transactional test ends with a flush (one TRUNCATE of every table). A live server's
    request or Celery task still running then may hold one table while waiting on another the
    TRUNCATE holds; PostgreSQL cancels the flush ("deadlock detected") and the next test finds the
    last one's rows. The flush is one transaction, so it is run again (seen once in CI-like runs:
    a ticket page still polling after its test)."""
    from django.test import TransactionTestCase

    # A private method of Django's (the stubs do not know it), hence getattr/setattr.
    teardown = getattr(TransactionTestCase, "_fixture_teardown")  # noqa: B009
    setattr(TransactionTestCase, "_fixture_teardown", retrying_deadlocks(teardown))  # noqa: B010


_flush_retrying_deadlocks()


@pytest.fixture(autouse=True)
def _clean_redis(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with the suite's own Redis database empty."""
    from config.redis import get_redis

    get_redis().flushdb()
    yield


@pytest.fixture(autouse=True)
def _seeded_statuses(request: pytest.FixtureRequest) -> None:
    """Every database test starts with the statuses the migrations seed. A transactional test's
    flush removes them, and under xdist any test may follow one on the same worker."""
    marker = request.node.get_closest_marker("django_db")
    wanted = {"db", "transactional_db"} & set(request.fixturenames)
    if marker is None and not wanted:
        return
    transactional = "transactional_db" in wanted or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    ensure_default_statuses()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def site_admin(db: None) -> Any:
    return make_user("root", is_superuser=True, is_staff=True)


@pytest.fixture
def desk(db: None) -> dict[str, Any]:
    """A project DESK with one user per role, plus an outsider in no project."""
    project = make_project("DESK")
    people = {
        role: make_user(role, project=project, role=role)
        for role in ("customer", "agent", "lead", "manager", "admin")
    }
    people["outsider"] = make_user("outsider")
    people["customer2"] = make_user("customer2", project=project, role="customer")
    return {"project": project, **people}


@pytest.fixture
def as_user() -> Any:
    return client_for
