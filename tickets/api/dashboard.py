"""The dashboard's time series: tickets created per day (UTC), zero-filled."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate

MAX_DAYS = 366


def created_per_day(
    qs: Any, *, after: datetime | None = None, before: datetime | None = None
) -> list[dict[str, Any]]:
    """`[{"date": "2026-11-02", "count": 2}, ...]`: one GROUP BY, then every day of the range
    (from `after`, else the first ticket's day, to the day before `before`, else the last
    ticket's day) with 0 where nothing was created; at most the range's last MAX_DAYS days."""
    rows = dict(
        qs.order_by()
        .annotate(day=TruncDate("created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    if not rows and (after is None or before is None):
        return []
    first: date = after.date() if after else min(rows)
    last: date = (before - timedelta(microseconds=1)).date() if before else max(rows)
    if last < first:
        return []
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    days = (last - first).days + 1
    return [
        {"date": (day := first + timedelta(days=i)).isoformat(), "count": rows.get(day, 0)}
        for i in range(days)
    ]
