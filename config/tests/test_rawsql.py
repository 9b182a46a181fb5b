"""Rows of hand-written SQL become instances that behave as ORM-loaded ones."""

from __future__ import annotations

import pytest

from config.rawsql import ModelColumns, fetch_all
from tests_support.factories import make_ticket
from tickets.models import Ticket


@pytest.mark.django_db
def test_built_ticket_equals_the_orm_one_and_excluded_fields_stay_deferred(desk):
    made = make_ticket(desk["project"], desk["agent"], title="Printer on fire")
    Ticket.objects.filter(pk=made.pk).update(metadata={"a": [1, 2]}, tags=["x", "y"])
    columns = ModelColumns(Ticket, "t", exclude=("search_vector",))
    sql = f"SELECT {columns.select()} FROM tickets_ticket t WHERE t.id = %s"  # noqa: S608
    (row,) = fetch_all(sql, [made.pk])
    built = columns.build(row)
    orm = Ticket.objects.defer("search_vector").get(pk=made.pk)
    assert built is not None
    assert {f: getattr(built, f) for f in columns.fields} == {
        f: getattr(orm, f) for f in columns.fields
    }
    assert built.metadata == {"a": [1, 2]} and built.tags == ["x", "y"]
    assert built.get_deferred_fields() == {"search_vector"}
    assert built._state.adding is False and built._state.db == "default"
    assert built.project.key == "DESK"  # related access loads as usual
    built.title = "Printer fixed"
    built.save(update_fields=["title"])
    assert Ticket.objects.get(pk=made.pk).title == "Printer fixed"
    assert columns.build((None,) * columns.width) is None  # the far side of a LEFT JOIN
