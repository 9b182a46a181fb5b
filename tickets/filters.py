"""The ticket-list filters: parsed and validated once, applied by the list endpoint and exports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.api import InvalidInput
from config.rawsql import fetch_one
from tickets import sql
from tickets.models import Priority, StatusCategory, Ticket

ORDERINGS = ("created_at", "updated_at", "priority", "rank", "sla_due_at")
SLA_STATES = ("on_track", "near_breach", "breached", "paused", "met", "no_sla")
FILTER_KEYS = (
    "project",
    "status",
    "status_category",
    "priority",
    "category",
    "assignee",
    "requester",
    "tag",
    "q",
    "sla_state",
    "created_after",
    "created_before",
    "archived",
    "ordering",
)


@dataclass(frozen=True)
class TicketFilters:
    project: str | None = None
    status: list[str] = field(default_factory=list)
    status_category: list[str] = field(default_factory=list)
    priority: list[str] = field(default_factory=list)
    category: list[str] = field(default_factory=list)
    assignee: str | None = None
    requester: str | None = None
    tag: list[str] = field(default_factory=list)
    q: str | None = None
    sla_state: list[str] = field(default_factory=list)
    created_after: datetime | None = None
    created_before: datetime | None = None
    archived: bool | None = False
    ordering: str = "-created_at"

    def as_json(self) -> dict[str, Any]:
        """A JSON-able dict (what an export job stores), without defaults."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if key == "archived" and value is None:
                out[key] = "all"  # None means "archived or not", unlike the default (False)
                continue
            if (
                value in (None, [], "")
                or (key == "archived" and value is False)
                or (key == "ordering" and value == "-created_at")
            ):
                continue
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        return out


def _as_list(value: Any, name: str, errors: dict[str, list[str]]) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        errors[name] = ["Expected a comma-separated string or a list of strings."]
        return []
    return [v for v in items if v][:50]


def _choices(
    values: list[str], allowed: tuple[str, ...] | list[str], name: str, errors: dict[str, list[str]]
) -> list[str]:
    bad = [v for v in values if v not in allowed]
    if bad:
        errors[name] = [f"Unknown value(s) {', '.join(bad)}; expected any of {', '.join(allowed)}."]
    return values


def _instant(value: Any, name: str, errors: dict[str, list[str]]) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        errors[name] = ["Expected an ISO 8601 date or date-time."]
        return None
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            parsed = datetime(day.year, day.month, day.day) if day else None
    except ValueError:
        parsed = None
    if parsed is None:
        errors[name] = ["Expected an ISO 8601 date or date-time."]
        return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def parse_ticket_filters(params: Mapping[str, Any]) -> TicketFilters:
    """Validate list filters from a query string or a JSON object; InvalidInput names each bad field."""
    errors: dict[str, list[str]] = {}

    def one(name: str) -> str | None:
        value = params.get(name)
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            errors[name] = ["Expected a string."]
            return None
        return value.strip()[:200]

    archived_raw = params.get("archived")
    archived: bool | None = False
    if isinstance(archived_raw, bool):
        archived = archived_raw
    elif archived_raw not in (None, ""):
        lowered = str(archived_raw).lower()
        if lowered in ("true", "1", "yes"):
            archived = True
        elif lowered in ("false", "0", "no"):
            archived = False
        elif lowered in ("all", "any"):
            archived = None
        else:
            errors["archived"] = ["Expected true, false or all."]
    ordering = one("ordering") or "-created_at"
    if ordering.lstrip("-") not in ORDERINGS:
        errors["ordering"] = [f"Expected one of {', '.join(ORDERINGS)} (prefix - for descending)."]
    filters = TicketFilters(
        project=one("project"),
        status=_as_list(params.get("status"), "status", errors),
        status_category=_choices(
            _as_list(params.get("status_category"), "status_category", errors),
            StatusCategory.values,
            "status_category",
            errors,
        ),
        priority=_choices(
            _as_list(params.get("priority"), "priority", errors),
            Priority.values,
            "priority",
            errors,
        ),
        category=_as_list(params.get("category"), "category", errors),
        assignee=one("assignee"),
        requester=one("requester"),
        tag=_as_list(params.get("tag"), "tag", errors),
        q=one("q"),
        sla_state=_choices(
            _as_list(params.get("sla_state"), "sla_state", errors), SLA_STATES, "sla_state", errors
        ),
        created_after=_instant(params.get("created_after"), "created_after", errors),
        created_before=_instant(params.get("created_before"), "created_before", errors),
        archived=archived,
        ordering=ordering,
    )
    if errors:
        raise InvalidInput(_first(errors), details={"fields": errors})
    return filters


def _first(errors: dict[str, list[str]]) -> str:
    name, messages = next(iter(errors.items()))
    return f"{name}: {messages[0]}"


def _key_params(filters: TicketFilters) -> dict[str, Any]:
    return {
        "project": filters.project or "",
        "statuses": list(filters.status or []),
        "categories": list(filters.status_category or []),
    }


def apply_ticket_filters(
    queryset: QuerySet[Ticket],
    filters: TicketFilters,
    *,
    user: Any,
    now: datetime | None = None,
    narrow_search: bool = True,
) -> QuerySet[Ticket]:
    """Narrow a (visibility-scoped) ticket queryset by the filters and order it.

    `narrow_search=False` keeps a search a condition of the query itself: an export's COPY must
    evaluate it in its own snapshot, never take an id list read earlier (on the replica).
    """
    from sla import selectors as sla_selectors

    qs = queryset
    if filters.project or filters.status or filters.status_category:
        # Keys become ids first: the planner then knows how many rows each value selects
        # (a join on the key hides it, and a wrong guess turns a search page into a heap walk).
        project_id, by_status, by_category = fetch_one(sql.FILTER_KEYS, _key_params(filters)) or (
            None,
            [],
            [],
        )
        if filters.project:
            qs = qs.filter(project_id=project_id) if project_id else qs.none()
        if filters.status:
            qs = qs.filter(status_id__in=by_status or [])
        if filters.status_category:
            qs = qs.filter(status_id__in=by_category or [])
    if filters.priority:
        qs = qs.filter(priority__in=filters.priority)
    if filters.category:
        qs = qs.filter(category__in=filters.category)
    for name in ("assignee", "requester"):
        value = getattr(filters, name)
        if value == "me":
            qs = qs.filter(**{f"{name}_id": user.pk})
        elif value == "none":
            qs = qs.filter(**{f"{name}__isnull": True})
        elif value:
            qs = qs.filter(**{f"{name}__username": value})
    if filters.tag:
        qs = qs.filter(tags__contains=filters.tag)
    if filters.created_after:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before:
        qs = qs.filter(created_at__lt=filters.created_before)
    if filters.archived is not None:
        qs = qs.filter(is_archived=filters.archived)
    if filters.q:
        query = SearchQuery(filters.q, config="english", search_type="websearch")
        # Full-text search reads on the replica (the primary unless DATABASE_REPLICA_URL is set).
        qs = qs.filter(search_vector=query).using(settings.READ_REPLICA)
        if narrow_search:
            qs = _few_matches_by_id(qs)
    if filters.sla_state:
        qs = sla_selectors.filter_sla_state(qs, filters.sla_state, now=now or timezone.now())
    return qs


# A search matching at most this many tickets is narrowed to their ids before it is ordered.
FEW_MATCHES = 2000


def _few_matches_by_id(qs: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """A rare search term's tickets by id, so that no page of them is an index walk.

    The planner cannot know how rare a term is (a typo, a word no ticket has): guessing a thousand
    matches it walks the ordering's index newest-first for the page and, when there are none,
    filters every ticket of the desk (2 s over 1M). One bounded, unordered read of the matches
    settles it: few come back as an id list that the page then sorts in memory; many (a common
    word, where the index walk finds a page at once) leave the query as it was.
    """
    ids = list(qs.order_by().values_list("pk", flat=True)[: FEW_MATCHES + 1])
    if len(ids) > FEW_MATCHES:
        return qs
    return qs.filter(pk__in=ids) if ids else qs.none()


def order_tickets(
    queryset: QuerySet[Ticket], filters: TicketFilters
) -> tuple[QuerySet[Ticket], tuple[str, ...]]:
    """Annotate what the chosen ordering needs; returns the queryset and the cursor ordering."""
    from sla import selectors as sla_selectors

    descending = filters.ordering.startswith("-")
    name = filters.ordering.lstrip("-")
    sign = "-" if descending else ""
    if name == "priority":
        queryset = queryset.annotate(
            priority_rank=Case(
                *[When(priority=p, then=Value(i)) for i, p in enumerate(Priority.values)],
                output_field=IntegerField(),
            )
        )
        return queryset, (f"{sign}priority_rank", f"{sign}id")
    if name == "sla_due_at":
        return sla_selectors.annotate_sla_due(queryset), (f"{sign}sla_due_sort", f"{sign}id")
    return queryset, (f"{sign}{name}", f"{sign}id")
