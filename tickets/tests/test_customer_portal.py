"""The customer portal's guarantees, proven on every GET endpoint of the API.

A customer walks every route a GET can reach (the list is checked against the URL conf, so a
new endpoint fails this test until it is added here): no response body, redirect target,
attachment or export file carries an internal note's body or an `internal: true` message, and
someone else's ticket is 404 everywhere. The agent's walk of the same ticket is the positive
control: the note is there to leak.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver

from exports.models import ExportJob
from exports.services import run_export
from saved_views.models import SavedView
from sla.models import Calendar, SlaPolicy
from tests_support.factories import make_ticket
from tickets.models import Attachment, BoardColumn
from tickets.services.conversation import add_message

pytestmark = pytest.mark.django_db(transaction=True)

NOTE = "zebra-quartz internal note 7f3a"
INTERNAL_FLAG = re.compile(rb'"internal"\s*:\s*true')


@pytest.fixture
def media_root(tmp_path: Path, settings: Any) -> Iterator[Path]:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    yield tmp_path / "media"


def get_routes() -> set[str]:
    """Every /api/v1/ route whose view answers GET."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.callback

    return {
        route
        for route, view in walk(get_resolver().url_patterns, "")
        if route.startswith("api/v1/") and hasattr(getattr(view, "view_class", None), "get")
    }


@pytest.fixture
def portal(desk, media_root, as_user, django_capture_on_commit_callbacks) -> dict[str, Any]:
    customer, agent = desk["customer"], desk["agent"]
    mine = make_ticket(desk["project"], customer, title="Printer smoking", description="help")
    theirs = make_ticket(desk["project"], desk["customer2"], title="Someone else's")
    for ticket in (mine, theirs):
        add_message(actor=agent, ticket_id=ticket.pk, body="Public reply: on it.")
        add_message(actor=agent, ticket_id=ticket.pk, body=f"@customer {NOTE}", internal=True)
    upload = SimpleUploadedFile("log.txt", b"printer log", content_type="text/plain")
    created = as_user(customer).post(
        f"/api/v1/tickets/{mine.pk}/attachments/", {"file": upload}, format="multipart"
    )
    assert created.status_code == 201, created.content
    SavedView.objects.create(owner=customer, name="Mine", query={"q": "printer"})
    with django_capture_on_commit_callbacks(execute=False):
        export = as_user(customer).post(
            "/api/v1/exports/",
            {
                "project": "DESK",
                "format": "jsonl",
                "fields": ["key", "title", "description", "public_messages", "metadata"],
            },
            format="json",
        )
    assert export.status_code == 202, export.content
    assert run_export(export_id=export.json()["id"]) == "succeeded"
    return {
        "mine": mine,
        "theirs": theirs,
        "attachment": Attachment.objects.get(),
        "export": ExportJob.objects.get(),
        "column": BoardColumn.objects.filter(project=desk["project"]).first(),
        "calendar": Calendar.objects.create(name="Office", windows=[]),
        "policy": SlaPolicy.objects.filter(project=desk["project"]).first(),
        "view": SavedView.objects.get(),
    }


def urls_for(objects: dict[str, Any], ticket: Any) -> dict[str, str]:
    """One concrete URL per GET route (the ticket ones for `ticket`)."""
    t = ticket.pk
    return {
        "api/v1/meta/": "/api/v1/meta/",
        "api/v1/auth/csrf/": "/api/v1/auth/csrf/",
        "api/v1/me/": "/api/v1/me/",
        "api/v1/users/": "/api/v1/users/",
        "api/v1/users/<str:username>/": "/api/v1/users/agent/",
        "api/v1/projects/": "/api/v1/projects/",
        "api/v1/projects/<str:key>/": "/api/v1/projects/DESK/",
        "api/v1/projects/<str:key>/members/": "/api/v1/projects/DESK/members/",
        "api/v1/projects/<str:key>/assignees/": "/api/v1/projects/DESK/assignees/",
        "api/v1/projects/<str:key>/columns/": "/api/v1/projects/DESK/columns/",
        "api/v1/projects/<str:key>/columns/<int:column_id>/": (
            f"/api/v1/projects/DESK/columns/{objects['column'].pk}/"
        ),
        "api/v1/projects/<str:key>/columns/<int:column_id>/tickets/": (
            f"/api/v1/projects/DESK/columns/{objects['column'].pk}/tickets/"
        ),
        "api/v1/projects/<str:key>/board/": "/api/v1/projects/DESK/board/",
        "api/v1/statuses/": "/api/v1/statuses/",
        "api/v1/statuses/<str:key>/": "/api/v1/statuses/new/",
        "api/v1/tickets/": "/api/v1/tickets/?archived=all",
        "api/v1/tickets/<int:ticket_id>/": f"/api/v1/tickets/{t}/",
        "api/v1/tickets/by-key/<str:key>/": f"/api/v1/tickets/by-key/{ticket.key}/",
        "api/v1/tickets/<int:ticket_id>/messages/": f"/api/v1/tickets/{t}/messages/",
        "api/v1/tickets/<int:ticket_id>/watch/": f"/api/v1/tickets/{t}/watch/",
        "api/v1/tickets/<int:ticket_id>/watchers/": f"/api/v1/tickets/{t}/watchers/",
        "api/v1/tickets/<int:ticket_id>/audit/": f"/api/v1/tickets/{t}/audit/",
        "api/v1/tickets/<int:ticket_id>/attachments/": f"/api/v1/tickets/{t}/attachments/",
        "api/v1/attachments/<int:attachment_id>/download/": (
            f"/api/v1/attachments/{objects['attachment'].pk}/download/"
        ),
        "api/v1/attachments/file/<str:token>/": "/api/v1/attachments/file/not-a-token/",
        "api/v1/stats/": "/api/v1/stats/",
        "api/v1/calendars/": "/api/v1/calendars/",
        "api/v1/calendars/<int:pk>/": f"/api/v1/calendars/{objects['calendar'].pk}/",
        "api/v1/projects/<str:key>/sla-policies/": "/api/v1/projects/DESK/sla-policies/",
        "api/v1/projects/<str:key>/sla-policies/<int:pk>/": (
            f"/api/v1/projects/DESK/sla-policies/{objects['policy'].pk}/"
        ),
        "api/v1/tickets/<int:pk>/sla/": f"/api/v1/tickets/{t}/sla/",
        "api/v1/projects/<str:key>/events/": "/api/v1/projects/DESK/events/?after=0",
        "api/v1/notifications/": "/api/v1/notifications/",
        "api/v1/notifications/unread-count/": "/api/v1/notifications/unread-count/",
        "api/v1/notification-preferences/": "/api/v1/notification-preferences/",
        "api/v1/projects/<str:key>/webhooks/": "/api/v1/projects/DESK/webhooks/",
        "api/v1/projects/<str:key>/webhooks/<int:webhook_id>/": "/api/v1/projects/DESK/webhooks/1/",
        "api/v1/projects/<str:key>/webhooks/<int:webhook_id>/deliveries/": (
            "/api/v1/projects/DESK/webhooks/1/deliveries/"
        ),
        "api/v1/projects/<str:key>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/": (
            "/api/v1/projects/DESK/webhooks/1/deliveries/1/"
        ),
        "api/v1/exports/": "/api/v1/exports/",
        "api/v1/exports/<int:export_id>/": f"/api/v1/exports/{objects['export'].pk}/",
        "api/v1/exports/<int:export_id>/download/": (
            f"/api/v1/exports/{objects['export'].pk}/download/"
        ),
        "api/v1/saved-views/": "/api/v1/saved-views/",
        "api/v1/saved-views/<int:view_id>/": f"/api/v1/saved-views/{objects['view'].pk}/",
    }


def fetch(api: Any, url: str) -> tuple[int, bytes]:
    """Status and every byte the client receives, following a redirect to its target."""
    response = api.get(url)
    body = (
        b"".join(response.streaming_content)
        if getattr(response, "streaming", False)
        else response.content
    )
    if response.status_code in (301, 302):
        target = response["Location"].removeprefix("http://testserver")
        _, more = fetch(api, target)
        body += more
    return response.status_code, body


def leaks(body: bytes) -> bool:
    return NOTE.encode() in body or INTERNAL_FLAG.search(body) is not None


# What the customer gets from each GET route of their own ticket and project.
CUSTOMER_STATUS = {
    "api/v1/auth/csrf/": 204,
    "api/v1/users/": 403,
    "api/v1/users/<str:username>/": 403,
    "api/v1/projects/<str:key>/members/": 403,
    "api/v1/projects/<str:key>/assignees/": 403,
    "api/v1/projects/<str:key>/columns/": 403,
    "api/v1/projects/<str:key>/columns/<int:column_id>/": 403,
    "api/v1/projects/<str:key>/columns/<int:column_id>/tickets/": 403,
    "api/v1/projects/<str:key>/board/": 403,
    "api/v1/tickets/<int:ticket_id>/watchers/": 403,
    "api/v1/tickets/<int:ticket_id>/audit/": 403,
    "api/v1/tickets/<int:pk>/sla/": 403,
    "api/v1/projects/<str:key>/events/": 403,
    "api/v1/projects/<str:key>/webhooks/": 403,
    "api/v1/projects/<str:key>/webhooks/<int:webhook_id>/": 403,
    "api/v1/projects/<str:key>/webhooks/<int:webhook_id>/deliveries/": 403,
    "api/v1/projects/<str:key>/webhooks/<int:webhook_id>/deliveries/<int:delivery_id>/": 403,
    "api/v1/attachments/<int:attachment_id>/download/": 302,
    "api/v1/attachments/file/<str:token>/": 404,
    "api/v1/exports/<int:export_id>/download/": 404,  # the signed link is the credential
}


def test_every_get_route_is_walked(portal):
    assert set(urls_for(portal, portal["mine"])) == get_routes()


def test_no_response_a_customer_can_fetch_carries_an_internal_note(desk, portal, as_user):
    api = as_user(desk["customer"])
    statuses = {}
    for route, url in urls_for(portal, portal["mine"]).items():
        status, body = fetch(api, url)
        statuses[route] = status
        assert not leaks(body), (route, body[:500])
    expected = {route: CUSTOMER_STATUS.get(route, 200) for route in statuses}
    assert statuses == expected
    # The export's own signed link, and the file behind it.
    link = api.get(f"/api/v1/exports/{portal['export'].pk}/").json()["download_url"]
    status, data = fetch(api, link.removeprefix("http://testserver"))
    assert status == 200
    rows = [json.loads(line) for line in data.decode().splitlines()]
    assert [r["key"] for r in rows] == [portal["mine"].key]
    assert "Public reply: on it." in json.dumps(rows) and not leaks(data)
    # Search does not find a ticket by its note's words.
    assert api.get("/api/v1/tickets/?q=zebra-quartz").json()["results"] == []


def test_the_note_is_there_for_staff(desk, portal, as_user):
    """Positive control: the same walk as the ticket's agent meets the note."""
    api = as_user(desk["agent"])
    urls = urls_for(portal, portal["mine"])
    _, messages = fetch(api, urls["api/v1/tickets/<int:ticket_id>/messages/"])
    assert leaks(messages)
    found = [route for route, url in urls.items() if leaks(fetch(api, url)[1])]
    assert "api/v1/tickets/<int:ticket_id>/messages/" in found


def test_someone_elses_ticket_is_404_on_every_ticket_route(desk, portal, as_user):
    api = as_user(desk["customer"])
    for route, url in urls_for(portal, portal["theirs"]).items():
        if "ticket_id>" not in route and "<int:pk>/sla/" not in route and "by-key" not in route:
            continue
        status, body = fetch(api, url)
        assert status == 404, (route, status)
        assert json.loads(body)["error"]["code"] == "not_found"
        assert b"Someone else" not in body and not leaks(body)
    listed = api.get("/api/v1/tickets/?archived=all").json()["results"]
    assert [t["key"] for t in listed] == [portal["mine"].key]
