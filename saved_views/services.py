"""Writes for saved views: create, update, delete (the owner is the actor; nobody else may)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.db import IntegrityError, transaction

from config.api import InvalidInput, NotFound
from saved_views.models import SavedView
from tickets.filters import FILTER_KEYS, parse_ticket_filters
from tickets.models import Project
from tickets.selectors import get_visible_project

MAX_QUERY_CHARS = 4000


def _field_error(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", details={"fields": {field: [message]}})


def normalise_query(raw: str | Mapping[str, Any]) -> dict[str, Any]:
    """The ticket filters of a query string (`status=new,open&q=x`, a leading `?` allowed) or a
    filter object, validated as the ticket list validates them; unknown keys are refused."""
    if isinstance(raw, str):
        if len(raw) > MAX_QUERY_CHARS:
            raise _field_error("query", f"At most {MAX_QUERY_CHARS} characters.")
        params: Mapping[str, Any] = dict(parse_qsl(raw.lstrip("?"), keep_blank_values=True))
    elif isinstance(raw, Mapping):
        params = raw
    else:
        raise _field_error("query", "Expected a query string or an object of ticket filters.")
    unknown = [str(key) for key in params if key not in FILTER_KEYS]
    if unknown:
        raise _field_error(
            unknown[0], f"Not a ticket filter; expected any of {', '.join(FILTER_KEYS)}."
        )
    return parse_ticket_filters(params).as_json()


def query_string(query: Mapping[str, Any]) -> str:
    """The queue's query string for stored filters (lists comma-joined, in filter order)."""
    pairs = [
        (key, ",".join(value) if isinstance(value, list) else str(value))
        for key, value in query.items()
    ]
    return urlencode(pairs, safe=",")


def _clean_name(name: Any) -> str:
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned:
        raise _field_error("name", "Give the view a name.")
    return cleaned[:100]


def _project(actor: Any, key: str | None) -> Project | None:
    return get_visible_project(actor, key) if key else None


def _save(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as exc:
        if "saved_view_owner_name_unique" not in str(exc):
            raise
        raise _field_error("name", f"You already have a view named {view.name!r}.") from None
    return view


def create_saved_view(
    *, actor: Any, name: str, query: str | Mapping[str, Any], project: str | None = None
) -> SavedView:
    """Save a named filter set for the actor (at most `SAVED_VIEWS_PER_USER` each)."""
    limit = int(getattr(settings, "SAVED_VIEWS_PER_USER", 200))
    view = SavedView(
        owner=actor,
        name=_clean_name(name),
        query=normalise_query(query),
        project=_project(actor, project),
    )
    if SavedView.objects.filter(owner=actor).count() >= limit:
        raise InvalidInput(f"You can keep at most {limit} saved views.")
    return _save(view)


def get_own_view(*, actor: Any, view_id: int) -> SavedView:
    """The actor's own view (anyone else's is 404, like a view that does not exist)."""
    view = SavedView.objects.select_related("project").filter(pk=view_id, owner=actor).first()
    if view is None:
        raise NotFound("No such saved view.")
    return view


def update_saved_view(*, actor: Any, view_id: int, changes: Mapping[str, Any]) -> SavedView:
    """Rename it, replace its query, or move it to another project (or none)."""
    view = get_own_view(actor=actor, view_id=view_id)
    if "name" in changes:
        view.name = _clean_name(changes["name"])
    if "query" in changes:
        view.query = normalise_query(changes["query"])
    if "project" in changes:
        view.project = _project(actor, changes["project"])
    return _save(view)


def delete_saved_view(*, actor: Any, view_id: int) -> None:
    get_own_view(actor=actor, view_id=view_id).delete()
