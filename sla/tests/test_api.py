"""The SLA endpoints: calendars, a project's policies, a ticket's timeline; permissions and errors."""

from __future__ import annotations

from typing import Any

import pytest

from sla.models import Calendar, SlaPolicy
from sla.services import create_calendar, update_policy
from tests_support.factories import make_project, make_user
from tickets.models import AuditLog

pytestmark = pytest.mark.django_db

OFFICE: dict[str, Any] = {
    "name": "Office",
    "timezone": "America/New_York",
    "windows": [
        {"weekday": 0, "start": "09:00", "end": "12:30"},
        {"weekday": 0, "start": "13:30", "end": "17:00"},
        {"weekday": 5, "start": "10:00", "end": "24:00"},
    ],
    "holidays": ["2026-12-25"],
}


def test_site_and_project_admins_create_calendars_and_everyone_reads_them(
    as_user, desk, site_admin
):
    made = as_user(site_admin).post("/api/v1/calendars/", OFFICE, format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert {k: body[k] for k in OFFICE} == OFFICE
    assert body["version"] == 1
    by_admin = as_user(desk["admin"]).post(
        "/api/v1/calendars/", {**OFFICE, "name": "Desk hours"}, format="json"
    )
    assert by_admin.status_code == 201
    refused = as_user(desk["agent"]).post(
        "/api/v1/calendars/", {**OFFICE, "name": "Mine"}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    listed = as_user(desk["customer"]).get("/api/v1/calendars/")
    assert [c["name"] for c in listed.json()["results"]] == ["Office", "Desk hours"]
    assert AuditLog.objects.filter(action="calendar.created").count() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        (
            {
                "windows": [
                    {"weekday": 1, "start": "09:00", "end": "12:00"},
                    {"weekday": 1, "start": "11:00", "end": "13:00"},
                ]
            },
            "overlapping windows on weekday 1",
        ),
        (
            {"windows": [{"weekday": 1, "start": "12:00", "end": "09:00"}]},
            "windows[0]: window start",
        ),
        ({"windows": [{"weekday": 7, "start": "09:00", "end": "12:00"}]}, "windows: "),
        (
            {"windows": [{"weekday": 1, "start": "9am", "end": "12:00"}]},
            "windows[0].start must look like",
        ),
        ({"holidays": ["christmas"]}, "holidays: "),
        ({"windows": []}, "windows must be a non-empty list"),
    ],
)
def test_invalid_calendars_are_400(as_user, site_admin, change, message):
    response = as_user(site_admin).post("/api/v1/calendars/", {**OFFICE, **change}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].startswith(message) or message in error["message"], error


def test_changing_a_calendar_used_by_another_project_needs_its_admin(as_user, desk, site_admin):
    other = make_project("OPS")
    calendar = create_calendar(actor=None, **OFFICE)
    update_policy(
        actor=None, policy=SlaPolicy.objects.get(project=other, priority="low"), calendar=calendar
    )
    url = f"/api/v1/calendars/{calendar.pk}/"
    refused = as_user(desk["admin"]).patch(url, {"timezone": "UTC"}, format="json")
    assert refused.status_code == 403
    ok = as_user(site_admin).patch(url, {"timezone": "UTC", "holidays": []}, format="json")
    assert ok.status_code == 200
    assert (ok.json()["timezone"], ok.json()["holidays"], ok.json()["version"]) == ("UTC", [], 2)
    in_use = as_user(site_admin).delete(url)
    assert in_use.status_code == 409
    assert in_use.json()["error"]["code"] == "conflict"
    assert as_user(site_admin).get("/api/v1/calendars/999999/").status_code == 404
    spare = create_calendar(actor=None, **{**OFFICE, "name": "Spare"})
    assert as_user(desk["admin"]).delete(f"/api/v1/calendars/{spare.pk}/").status_code == 204
    assert not Calendar.objects.filter(pk=spare.pk).exists()


def test_members_read_the_default_policies(as_user, desk):
    response = as_user(desk["customer"]).get("/api/v1/projects/DESK/sla-policies/")
    assert response.status_code == 200
    policies = {p["priority"]: p for p in response.json()["results"]}
    assert {
        k: (p["first_response_minutes"], p["resolution_minutes"]) for k, p in policies.items()
    } == {
        "low": (1440, 4320),
        "medium": (480, 2880),
        "high": (120, 1440),
        "critical": (30, 240),
    }
    critical = policies["critical"]
    assert critical["calendar"] is None
    assert critical["near_breach_ratio"] == 0.2
    assert critical["project"] == "DESK"
    assert critical["escalation_chain"] == [
        {"after_minutes": 0, "role": "agent", "reassign": False},
        {"after_minutes": 15, "role": "lead", "reassign": False},
        {"after_minutes": 15, "role": "manager", "reassign": False},
    ]
    assert as_user(desk["outsider"]).get("/api/v1/projects/DESK/sla-policies/").status_code == 404


def test_project_admins_write_policies(as_user, desk):
    admin = as_user(desk["admin"])
    base = "/api/v1/projects/DESK/sla-policies/"
    policy = SlaPolicy.objects.get(project=desk["project"], priority="high")
    calendar = create_calendar(actor=None, **OFFICE)
    changed = admin.patch(
        f"{base}{policy.pk}/",
        {
            "first_response_minutes": 60,
            "calendar": calendar.pk,
            "escalation_chain": [{"after_minutes": 10, "role": "lead", "reassign": True}],
        },
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    body = changed.json()
    assert (body["first_response_minutes"], body["calendar"], body["version"]) == (
        60,
        calendar.pk,
        2,
    )
    assert body["escalation_chain"] == [{"after_minutes": 10, "role": "lead", "reassign": True}]
    duplicate = admin.post(
        base,
        {"priority": "high", "first_response_minutes": 5, "resolution_minutes": 50},
        format="json",
    )
    assert duplicate.status_code == 409
    assert admin.delete(f"{base}{policy.pk}/").status_code == 204
    recreated = admin.post(
        base,
        {"priority": "high", "first_response_minutes": 5, "resolution_minutes": 50},
        format="json",
    )
    assert recreated.status_code == 201
    assert recreated.json()["escalation_chain"] == []
    bad_chain = admin.patch(
        f"{base}{recreated.json()['id']}/",
        {"escalation_chain": [{"after_minutes": 5, "role": "customer"}]},
        format="json",
    )
    assert bad_chain.status_code == 400
    for user in ("agent", "manager"):
        assert (
            as_user(desk[user])
            .patch(f"{base}{recreated.json()['id']}/", {"resolution_minutes": 9}, format="json")
            .status_code
            == 403
        )
    assert admin.get(f"{base}999999/").status_code == 404


def test_the_ticket_timeline_is_for_staff(as_user, desk, ticket_for):
    ticket = ticket_for("critical", requester=desk["customer"])
    from tickets.services.conversation import add_message

    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Looking into it.")
    response = as_user(desk["agent"]).get(f"/api/v1/tickets/{ticket.pk}/sla/")
    assert response.status_code == 200
    body = response.json()
    assert (body["ticket"], body["key"]) == (ticket.pk, f"DESK-{ticket.number}")
    assert body["sla"]["state"] == "on_track"
    assert [(e["type"], e["metric"]) for e in body["events"]] == [
        ("started", ""),
        ("met", "first_response"),
    ]
    assert body["events"][1]["reason"] == "first response met: first public reply"
    assert as_user(desk["customer"]).get(f"/api/v1/tickets/{ticket.pk}/sla/").status_code == 403
    assert as_user(desk["customer2"]).get(f"/api/v1/tickets/{ticket.pk}/sla/").status_code == 404
    assert as_user(desk["outsider"]).get(f"/api/v1/tickets/{ticket.pk}/sla/").status_code == 404


def test_a_new_project_gets_the_default_policies():
    from tickets.services.projects import create_project

    user = make_user("founder")
    project = create_project(actor=user, key="NEWP", name="New")
    assert sorted(SlaPolicy.objects.filter(project=project).values_list("priority", flat=True)) == [
        "critical",
        "high",
        "low",
        "medium",
    ]
