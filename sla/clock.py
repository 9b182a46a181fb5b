"""Business-hours clock for the SLA engine.

Pure and deterministic: standard library only, no Django, and "now" is always
an argument — callers pass the instants, this module never reads the clock.

Model
-----
A :class:`BusinessCalendar` has weekly :class:`Window` s of local wall-clock
time in an IANA time zone, plus holidays (local dates on which nothing is
open). ``Window.end == time(0, 0)`` means 24:00, the midnight that ends the day.

Time is measured in whole seconds: every instant is truncated to the second
(towards the past) before measuring, so results are exact integers and
``between(a, b) + between(b, c) == between(a, c)`` holds without rounding
drift. Window times must therefore be whole seconds.

DST rule
--------
A wall-clock boundary resolves to the *first instant at which the local clock
reads that time or later*:

* an ambiguous time (fall-back) takes its first occurrence (``fold=0``);
* a nonexistent time (spring-forward gap) takes the instant the gap ends.

Equivalently: the calendar is open at an instant iff the highest wall-clock
reading seen up to that instant lies inside an open window. Durations are real
elapsed time between the resolved instants, so in Europe/Berlin a 01:00-04:00
window lasts 2 h on 2026-03-29 and 4 h on 2026-10-25, and a 24x7 calendar
measures exactly real elapsed time. The rule is monotone in wall time, which is
what keeps windows that do not overlap on the wall clock from overlapping in
real time. (Plain ``fold=0`` with a UTC round trip is not monotone inside a gap:
02:30 would land at 03:30 while 03:15 stays at 03:15, so 02:00-02:45 and
03:00-04:00 would overlap.)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "MAX_CLOSED_DAYS",
    "BusinessCalendar",
    "CalendarError",
    "Window",
    "add_business_time",
    "business_minutes_between",
    "business_seconds_between",
    "is_open",
    "next_open",
]

#: Longest run of consecutive closed local days a forward search may cross
#: before giving up (holidays are finite, so only a huge holiday list gets here).
MAX_CLOSED_DAYS = 3660

_DAY = 86_400
_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# (start, end) in seconds since local midnight; end may be _DAY (24:00).
_Span = tuple[int, int]


class CalendarError(ValueError):
    """Raised for an invalid calendar, or one that stays closed for too long."""


def _seconds_of_day(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True)
class Window:
    """An opening window on one weekday, in local wall-clock time."""

    weekday: int  # 0 = Monday .. 6 = Sunday, as date.weekday()
    start: time
    end: time  # time(0, 0) means 24:00 (end of the day)

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise CalendarError(f"weekday must be an int 0..6, got {self.weekday!r}")
        if not 0 <= self.weekday <= 6:
            raise CalendarError(f"weekday must be 0 (Monday)..6 (Sunday), got {self.weekday}")
        for name, value in (("start", self.start), ("end", self.end)):
            if not isinstance(value, time):
                raise CalendarError(f"window {name} must be a datetime.time, got {value!r}")
            if value.tzinfo is not None:
                # The calendar's zone is the only zone; a second one would be ambiguous.
                raise CalendarError(f"window {name} must be a naive time, got {value!r}")
            if value.microsecond:
                # Whole-second boundaries are what make integer measurements exact.
                raise CalendarError(f"window {name} must be whole seconds, got {value!r}")
        start, end = self.span
        if start >= end:
            raise CalendarError(
                f"window start must be before end (end 00:00 means 24:00): {self.start}-{self.end}"
            )

    @property
    def span(self) -> _Span:
        """Start and end as seconds since local midnight (end 00:00 becomes 86400)."""
        end = _seconds_of_day(self.end)
        return _seconds_of_day(self.start), end or _DAY


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening windows in an IANA time zone, minus holiday dates."""

    tz: str
    windows: tuple[Window, ...]
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _spans: tuple[tuple[_Span, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Accept any iterable at runtime but store hashable, immutable values.
        object.__setattr__(self, "windows", tuple(self.windows))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not isinstance(self.tz, str) or not self.tz:
            raise CalendarError(f"tz must be an IANA time zone name, got {self.tz!r}")
        try:
            zone = ZoneInfo(self.tz)
        except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise CalendarError(f"unknown time zone {self.tz!r}") from exc
        if not self.windows:
            raise CalendarError("a calendar needs at least one window, or nothing is ever due")
        by_day: list[list[_Span]] = [[] for _ in range(7)]
        for window in self.windows:
            if not isinstance(window, Window):
                raise CalendarError(f"windows must be Window instances, got {window!r}")
            by_day[window.weekday].append(window.span)
        for weekday, spans in enumerate(by_day):
            spans.sort()
            for (_, prev_end), (start, _) in itertools.pairwise(spans):
                if start < prev_end:  # touching windows (12:00-13:00, 13:00-14:00) are fine
                    raise CalendarError(f"overlapping windows on weekday {weekday}")
        for holiday in self.holidays:
            # A datetime never equals a date, so it would silently never match.
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise CalendarError(f"holidays must be dates, got {holiday!r}")
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_spans", tuple(tuple(spans) for spans in by_day))

    @classmethod
    def always_open(cls, tz: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar with no holidays: business time is real elapsed time."""
        return cls(tz=tz, windows=tuple(Window(day, time(0), time(0)) for day in range(7)))


# --- instants as whole seconds since the Unix epoch -------------------------


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")


def _to_seconds(value: datetime, name: str) -> int:
    _require_aware(value, name)
    delta = value - _EPOCH
    # timedelta keeps seconds/microseconds non-negative, so this floors.
    return delta.days * _DAY + delta.seconds


def _from_seconds(seconds: int) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def _offset_seconds(value: datetime) -> int:
    offset = value.utcoffset()
    if offset is None:  # pragma: no cover - ZoneInfo always answers
        raise ValueError(f"no UTC offset for {value!r}")
    return offset.days * _DAY + offset.seconds


def _local_date(zone: ZoneInfo, seconds: int) -> date:
    return _from_seconds(seconds).astimezone(zone).date()


def _resolve(zone: ZoneInfo, day: date, second_of_day: int) -> int:
    """Epoch second of the first instant whose local wall clock reads >= the given time."""
    if second_of_day >= _DAY:
        day += _ONE_DAY
        second_of_day -= _DAY
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    wall = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=zone)
    before = _offset_seconds(wall)  # fold=0: offset in force before any transition
    after = _offset_seconds(wall.replace(fold=1))
    wall_seconds = (day.toordinal() - _EPOCH_ORDINAL) * _DAY + second_of_day
    if after <= before:
        # Unambiguous, or a repeated time whose first occurrence is what we want.
        return wall_seconds - before
    # Nonexistent time: the gap ends at the transition T, and T lies in (lo, hi].
    # zoneinfo does not expose transitions, so bisect on whole seconds (tzdata
    # transitions are whole seconds); this only runs on DST-change days.
    lo, hi = wall_seconds - after, wall_seconds - before
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_seconds(_from_seconds(mid).astimezone(zone)) == after:
            hi = mid
        else:
            lo = mid
    return hi


def _day_intervals(cal: BusinessCalendar, day: date) -> list[_Span]:
    if day in cal.holidays:
        return []
    intervals: list[_Span] = []
    for start, end in cal._spans[day.weekday()]:
        opens = _resolve(cal._zone, day, start)
        closes = _resolve(cal._zone, day, end)
        if opens < closes:  # a window wholly inside a DST gap is empty that day
            intervals.append((opens, closes))
    return intervals


def _open_intervals(
    cal: BusinessCalendar, from_seconds: int, until_seconds: int | None = None
) -> Iterator[_Span]:
    """Open [start, end) epoch-second intervals ending after from_seconds, in order.

    Walks local days, never minutes. With until_seconds the walk stops once no
    later day can open before it; without it, a run of more than
    MAX_CLOSED_DAYS closed days raises CalendarError instead of looping forever.
    """
    zone = cal._zone
    # Start a day early: after a fall-back at midnight, an instant dated on one
    # local day can belong to a window of the neighbouring day.
    day = _local_date(zone, from_seconds)
    if day > date.min:
        day -= _ONE_DAY
    last_day = None if until_seconds is None else _local_date(zone, until_seconds) + _ONE_DAY
    closed_days = 0
    while last_day is None or day <= last_day:
        found = False
        for start, end in _day_intervals(cal, day):
            if end > from_seconds:
                found = True
                yield max(start, from_seconds), end
        if found:
            closed_days = 0
        elif last_day is None:
            closed_days += 1
            if closed_days > MAX_CLOSED_DAYS:
                raise CalendarError(
                    f"calendar {cal.tz!r} has no business time for {MAX_CLOSED_DAYS} days "
                    f"after {_from_seconds(from_seconds).isoformat()}"
                )
        day += _ONE_DAY


# --- public API --------------------------------------------------------------


def business_seconds_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Business seconds from start to end, instants truncated to the second (0 if end <= start)."""
    begin, finish = _to_seconds(start, "start"), _to_seconds(end, "end")
    if finish <= begin:
        return 0
    total = 0
    for opens, closes in _open_intervals(cal, begin, finish):
        if opens >= finish:
            break
        total += min(closes, finish) - opens
    return total


def business_minutes_between(cal: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Whole business minutes from start to end (business seconds floored to minutes)."""
    return business_seconds_between(cal, start, end) // 60


def add_business_time(cal: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    """Earliest UTC instant t with business_seconds_between(cal, start, t) == seconds."""
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise TypeError(f"seconds must be an int, got {type(seconds).__name__}")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    begin = _to_seconds(start, "start")
    if seconds == 0:
        return start.astimezone(UTC)
    remaining = seconds
    for opens, closes in _open_intervals(cal, begin):
        length = closes - opens
        if remaining <= length:
            # <= so that a duration ending exactly at closing time is due at
            # closing, not at the next opening.
            return _from_seconds(opens + remaining)
        remaining -= length
    raise AssertionError("unreachable: an unbounded walk ends by raising")  # pragma: no cover


def is_open(cal: BusinessCalendar, at: datetime) -> bool:
    """Whether the calendar is open at the given instant."""
    moment = _to_seconds(at, "at")
    # The day before, of, and after cover every window that can contain `moment`.
    day = _local_date(cal._zone, moment)
    for offset in (-1, 0, 1):
        try:
            candidate = day + timedelta(days=offset)
        except OverflowError:
            continue
        for opens, closes in _day_intervals(cal, candidate):
            if opens <= moment < closes:
                return True
    return False


def next_open(cal: BusinessCalendar, at: datetime) -> datetime:
    """Earliest UTC instant >= at when the calendar is open (at itself if open)."""
    moment = _to_seconds(at, "at")
    for opens, _closes in _open_intervals(cal, moment):
        return at.astimezone(UTC) if opens <= moment else _from_seconds(opens)
    raise AssertionError("unreachable: an unbounded walk ends by raising")  # pragma: no cover
