"""One visibility rule: the ORM filter and the hand-written SQL give the same answers."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.api import NotFound
from tests_support.factories import ensure_default_statuses, make_project
from tickets.models import Membership, Role, Status, Ticket, User
from tickets.selectors import (
    Visibility,
    full_tickets,
    ticket_role,
    visible_ticket,
    visible_tickets,
)
from tickets.sql import VISIBLE

ROLES = [None, *Role.values]
PEOPLE = ["me", "other", None]

tickets_st = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from(PEOPLE), st.sampled_from(PEOPLE[:2])),
    max_size=12,
)


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    roles=st.lists(st.sampled_from(ROLES), min_size=3, max_size=3),
    superuser=st.booleans(),
    active=st.booleans(),
    tickets=tickets_st,
)
def test_orm_and_sql_visibility_agree(roles, superuser, active, tickets):
    ensure_default_statuses()
    status = Status.objects.get(key="new")
    with transaction.atomic():
        projects = [make_project(f"V{letter}") for letter in "ABC"]
        me = User.objects.create(username="me", is_superuser=superuser, is_active=active)
        other = User.objects.create(username="other")
        people = {"me": me, "other": other, None: None}
        for project, role in zip(projects, roles, strict=True):
            if role is not None:
                Membership.objects.create(user=me, project=project, role=role)
        made = Ticket.objects.bulk_create(
            Ticket(
                project=projects[p],
                number=n + 1,
                title=f"t{n}",
                status=status,
                rank=f"0|a{n:03d}",
                requester=people[requester],
                created_by=people[creator],
            )
            for n, (p, requester, creator) in enumerate(tickets)
        )
        ours = set(Ticket.objects.filter(project__in=projects).values_list("pk", flat=True))
        orm = set(visible_tickets(me).filter(pk__in=ours).values_list("pk", flat=True))
        visibility = Visibility.of(me)
        if visibility.user_id is None:
            sql = set()
        else:
            rows = full_tickets(
                f"WHERE t.id = ANY(%(ours)s) AND {VISIBLE}",
                {"ours": sorted(ours), **visibility.params()},
            )
            sql = {t.pk for t in rows}
        expected = {
            t.pk
            for t, spec in zip(made, tickets, strict=True)
            if _may_see(spec, roles, superuser=superuser, active=active)
        }
        assert sql == expected
        if active or not superuser:  # an inactive site admin cannot sign in at all
            assert orm == expected
        for pk in ours:  # the detail read and the move's access read answer the same
            assert _found(me, pk) == (pk in expected)
            assert _role_found(me, pk) == (pk in expected)
        transaction.set_rollback(True)


def _may_see(spec: tuple, roles: list, *, superuser: bool, active: bool) -> bool:
    """The rule in words: site admins see everything, staff their projects' tickets, customers
    the ones they requested or created; inactive users nothing."""
    project, requester, creator = spec
    if not active:
        return False
    if superuser:
        return True
    role = roles[project]
    if role is None:
        return False
    return role != Role.CUSTOMER or "me" in (requester, creator)


def _role_found(user: User, pk: int) -> bool:
    try:
        return ticket_role(user, pk)[0] in Ticket.objects.filter(pk=pk).values_list(
            "project_id", flat=True
        )
    except NotFound:
        return False


def _found(user: User, pk: int) -> bool:
    try:
        return visible_ticket(user, pk).pk == pk
    except NotFound:
        return False
