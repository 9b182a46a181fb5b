"""Tests for sla.clock: hand-checked cases, validation, and hypothesis properties.

Pure: no database, no Django. Expected instants are written in UTC with the
local reading in the comment, because aware datetimes in the same zone compare
by wall time and ignore ``fold``, which would hide DST mistakes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.clock import (
    MAX_CLOSED_DAYS,
    BusinessCalendar,
    CalendarError,
    Window,
    add_business_time,
    business_minutes_between,
    business_seconds_between,
    is_open,
    next_open,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")

HOUR = 3600
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def weekly(
    tz: str, *spans: tuple[int, time, time], holidays: frozenset[date] = frozenset()
) -> BusinessCalendar:
    return BusinessCalendar(tz, tuple(Window(*span) for span in spans), holidays)


def weekdays(start: time, end: time) -> list[tuple[int, time, time]]:
    return [(day, start, end) for day in range(MON, SAT)]


# Mon-Fri 09:00-12:30 and 13:30-17:00 (7 h a day); New Year's Day 2026 (a Thursday) off.
OFFICE = weekly(
    "Europe/Berlin",
    *weekdays(time(9), time(12, 30)),
    *weekdays(time(13, 30), time(17)),
    holidays=frozenset({date(2026, 1, 1)}),
)
NINE_TO_FIVE = weekly("Europe/Berlin", *weekdays(time(9), time(17)))
BERLIN_SUN_1_TO_4 = weekly("Europe/Berlin", (SUN, time(1), time(4)))
BERLIN_SUN_0230_TO_5 = weekly("Europe/Berlin", (SUN, time(2, 30), time(5)))
BERLIN_SUN_0230_TO_0330 = weekly("Europe/Berlin", (SUN, time(2, 30), time(3, 30)))
BERLIN_SUN_2_TO_0245 = weekly("Europe/Berlin", (SUN, time(2), time(2, 45)))
NY_SUN_0_TO_6 = weekly("America/New_York", (SUN, time(0), time(6)))
LORD_HOWE_SUN_1_TO_3 = weekly("Australia/Lord_Howe", (SUN, time(1), time(3)))
KOLKATA_MON_0_TO_2 = weekly("Asia/Kolkata", (MON, time(0), time(2)))
ALWAYS_BERLIN = BusinessCalendar.always_open("Europe/Berlin")
ALWAYS_NEW_YORK = BusinessCalendar.always_open("America/New_York")


# --- hand-checked due dates -------------------------------------------------------------
# Winter Berlin is CET = UTC+1, summer CEST = UTC+2. New York is EST = UTC-5, EDT = UTC-4.
# Lord Howe is +10:30 standard, +11:00 summer. Kolkata is +05:30 all year.

ADD_CASES = [
    pytest.param(
        # Fri 16:00-17:00 is 1 h, the weekend is closed, Mon 09:00-10:00 is the 2nd hour.
        OFFICE,
        datetime(2026, 1, 9, 16, tzinfo=BERLIN),
        2 * HOUR,
        utc(2026, 1, 12, 9),
        id="friday-16:00-plus-2h-is-monday-10:00",
    ),
    pytest.param(
        # Exactly the rest of Friday: due at closing, not at Monday's opening.
        OFFICE,
        datetime(2026, 1, 9, 16, tzinfo=BERLIN),
        HOUR,
        utc(2026, 1, 9, 16),
        id="due-exactly-at-closing",
    ),
    pytest.param(
        # Wed 12:45 is lunch; the clock resumes at 13:30, +1 h = 14:30 CET = 13:30Z.
        OFFICE,
        datetime(2026, 1, 14, 12, 45, tzinfo=BERLIN),
        HOUR,
        utc(2026, 1, 14, 13, 30),
        id="start-inside-lunch",
    ),
    pytest.param(
        # 12:00-12:30 is 30 min, lunch skipped, 13:30-14:00 the other 30 -> 14:00 CET = 13:00Z.
        OFFICE,
        datetime(2026, 1, 14, 12, tzinfo=BERLIN),
        HOUR,
        utc(2026, 1, 14, 13),
        id="across-lunch",
    ),
    pytest.param(
        # Mon 07:00 is before opening: 09:00 + 30 min = 09:30 CET = 08:30Z.
        OFFICE,
        datetime(2026, 1, 12, 7, tzinfo=BERLIN),
        30 * 60,
        utc(2026, 1, 12, 8, 30),
        id="start-before-opening",
    ),
    pytest.param(
        # Thu 2026-01-01 is a holiday: nothing until Fri 09:00, +1 h = 10:00 CET = 09:00Z.
        OFFICE,
        datetime(2026, 1, 1, 10, tzinfo=BERLIN),
        HOUR,
        utc(2026, 1, 2, 9),
        id="start-on-holiday",
    ),
    pytest.param(
        # Wed 16:00-17:00 = 1 h, Thu holiday, Fri 09:00-11:00 = 2 h -> 11:00 CET = 10:00Z.
        OFFICE,
        datetime(2025, 12, 31, 16, tzinfo=BERLIN),
        3 * HOUR,
        utc(2026, 1, 2, 10),
        id="across-holiday",
    ),
    pytest.param(
        # The start is truncated to 09:00:00, so +60 s is 09:01:00 CET = 08:01Z.
        OFFICE,
        datetime(2026, 1, 12, 9, 0, 0, 750_000, tzinfo=BERLIN),
        60,
        utc(2026, 1, 12, 8, 1),
        id="microseconds-truncated",
    ),
    pytest.param(
        # 72 h / 8 h = 9 full days: Mon 12 .. Fri 16, then Mon 19 .. Thu 22, closing 17:00 CET.
        NINE_TO_FIVE,
        datetime(2026, 1, 12, 9, tzinfo=BERLIN),
        72 * HOUR,
        utc(2026, 1, 22, 16),
        id="72-business-hours-nine-to-five",
    ),
    pytest.param(
        # Spring forward 2026-03-29: 01:00 CET = 00:00Z to 04:00 CEST = 02:00Z is only 2 h.
        BERLIN_SUN_1_TO_4,
        utc(2026, 3, 28, 12),
        2 * HOUR,
        utc(2026, 3, 29, 2),
        id="berlin-spring-forward-window-has-2h",
    ),
    pytest.param(
        # 2 h used on 03-29; the last 30 min start at the next Sunday's 01:00 CEST = 04-04 23:00Z.
        BERLIN_SUN_1_TO_4,
        utc(2026, 3, 28, 12),
        2 * HOUR + 30 * 60,
        utc(2026, 4, 4, 23, 30),
        id="berlin-spring-forward-spills-to-next-sunday",
    ),
    pytest.param(
        # 02:30 does not exist on 03-29; the window opens when the gap ends, 03:00 CEST = 01:00Z.
        BERLIN_SUN_0230_TO_5,
        utc(2026, 3, 28, 12),
        HOUR,
        utc(2026, 3, 29, 2),
        id="berlin-window-opening-inside-gap",
    ),
    pytest.param(
        # Fall back 2026-10-25: opens 01:00 CEST = 10-24 23:00Z; +3 h = 02:00Z = 03:00 CET.
        BERLIN_SUN_1_TO_4,
        utc(2026, 10, 24, 12),
        3 * HOUR,
        utc(2026, 10, 25, 2),
        id="berlin-fall-back-3h",
    ),
    pytest.param(
        # The whole window: 23:00Z to 04:00 CET = 03:00Z is 4 real hours.
        BERLIN_SUN_1_TO_4,
        utc(2026, 10, 24, 12),
        4 * HOUR,
        utc(2026, 10, 25, 3),
        id="berlin-fall-back-window-has-4h",
    ),
    pytest.param(
        # NY spring forward 2026-03-08: 00:00 EST = 05:00Z, +4 h real = 09:00Z = 05:00 EDT.
        NY_SUN_0_TO_6,
        datetime(2026, 3, 8, 0, tzinfo=NEW_YORK),
        4 * HOUR,
        utc(2026, 3, 8, 9),
        id="new-york-spring-forward",
    ),
    pytest.param(
        # NY fall back 2026-11-01: 01:30 EDT = 05:30Z, +1 h = 06:30Z = the second 01:30 (EST).
        NY_SUN_0_TO_6,
        datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),
        HOUR,
        utc(2026, 11, 1, 6, 30),
        id="new-york-fall-back-repeated-hour-counts",
    ),
    pytest.param(
        # 24x7: 01:45 CET = 00:45Z, +30 min real = 01:15Z = 03:15 CEST (02:xx never happens).
        ALWAYS_BERLIN,
        datetime(2026, 3, 29, 1, 45, tzinfo=BERLIN),
        30 * 60,
        utc(2026, 3, 29, 1, 15),
        id="always-open-berlin-across-gap",
    ),
    pytest.param(
        # 24x7: 01:45 EDT = 05:45Z, +30 min real = 06:15Z = 01:15 EST.
        ALWAYS_NEW_YORK,
        datetime(2026, 11, 1, 1, 45, tzinfo=NEW_YORK),
        30 * 60,
        utc(2026, 11, 1, 6, 15),
        id="always-open-new-york-across-fold",
    ),
    pytest.param(
        # Lord Howe 2026-10-04 jumps 02:00 -> 02:30: opens 01:00 (+10:30) = 10-03 14:30Z; +1 h.
        LORD_HOWE_SUN_1_TO_3,
        utc(2026, 10, 3),
        HOUR,
        utc(2026, 10, 3, 15, 30),
        id="lord-howe-half-hour-dst",
    ),
    pytest.param(
        # Mon 00:00 IST is Sun 18:30Z; +90 min = Sun 20:00Z, a different UTC weekday.
        KOLKATA_MON_0_TO_2,
        utc(2026, 1, 10),
        90 * 60,
        utc(2026, 1, 11, 20),
        id="kolkata-local-weekday-differs-from-utc",
    ),
]


@pytest.mark.parametrize(("cal", "start", "seconds", "expected"), ADD_CASES)
def test_add_business_time_hand_checked(
    cal: BusinessCalendar, start: datetime, seconds: int, expected: datetime
) -> None:
    due = add_business_time(cal, start, seconds)
    assert due == expected
    assert due.tzinfo is UTC
    assert business_seconds_between(cal, start, due) == seconds


ELAPSED_CASES = [
    # Fri 16:00-17:00 + Mon 09:00-10:00.
    pytest.param(
        OFFICE,
        datetime(2026, 1, 9, 16, tzinfo=BERLIN),
        datetime(2026, 1, 12, 10, tzinfo=BERLIN),
        2 * HOUR,
        id="over-weekend",
    ),
    # Five 7 h days.
    pytest.param(
        OFFICE,
        datetime(2026, 1, 12, tzinfo=BERLIN),
        datetime(2026, 1, 19, tzinfo=BERLIN),
        35 * HOUR,
        id="full-week",
    ),
    # Mon 29 .. Fri 2 minus Thu 1 Jan: four 7 h days.
    pytest.param(
        OFFICE,
        datetime(2025, 12, 29, tzinfo=BERLIN),
        datetime(2026, 1, 5, tzinfo=BERLIN),
        28 * HOUR,
        id="week-with-holiday",
    ),
    # 01:00 CET = 00:00Z .. 04:00 CEST = 02:00Z.
    pytest.param(
        BERLIN_SUN_1_TO_4, utc(2026, 3, 28), utc(2026, 3, 30), 2 * HOUR, id="berlin-spring-1-4"
    ),
    # 01:00 CEST = 10-24 23:00Z .. 04:00 CET = 03:00Z.
    pytest.param(
        BERLIN_SUN_1_TO_4, utc(2026, 10, 24), utc(2026, 10, 26), 4 * HOUR, id="berlin-fall-1-4"
    ),
    # 02:30 is in the gap, so it opens at 03:00 CEST = 01:00Z; 03:30 CEST = 01:30Z.
    pytest.param(
        BERLIN_SUN_0230_TO_0330,
        utc(2026, 3, 28),
        utc(2026, 3, 30),
        30 * 60,
        id="berlin-spring-window-starting-in-gap",
    ),
    # First 02:30 (CEST) = 00:30Z .. 03:30 CET = 02:30Z: 2 real hours.
    pytest.param(
        BERLIN_SUN_0230_TO_0330,
        utc(2026, 10, 24),
        utc(2026, 10, 26),
        2 * HOUR,
        id="berlin-fall-window-starting-in-fold",
    ),
    # 02:00-02:45 CEST = 00:00Z-00:45Z; the repeated 02:00-02:45 CET is not counted twice.
    pytest.param(
        BERLIN_SUN_2_TO_0245,
        utc(2026, 10, 24),
        utc(2026, 10, 26),
        45 * 60,
        id="berlin-fall-window-inside-fold-counted-once",
    ),
    # 00:00 EST = 05:00Z .. 06:00 EDT = 10:00Z.
    pytest.param(NY_SUN_0_TO_6, utc(2026, 3, 7), utc(2026, 3, 9), 5 * HOUR, id="new-york-spring"),
    # 00:00 EDT = 04:00Z .. 06:00 EST = 11:00Z.
    pytest.param(NY_SUN_0_TO_6, utc(2026, 10, 31), utc(2026, 11, 2), 7 * HOUR, id="new-york-fall"),
    # 01:00 (+10:30) = 10-03 14:30Z .. 03:00 (+11) = 16:00Z.
    pytest.param(
        LORD_HOWE_SUN_1_TO_3, utc(2026, 10, 1), utc(2026, 10, 6), 90 * 60, id="lord-howe-spring"
    ),
    # Local midnight to midnight on the fall-back day is 25 real hours.
    pytest.param(
        ALWAYS_BERLIN,
        datetime(2026, 10, 25, tzinfo=BERLIN),
        datetime(2026, 10, 26, tzinfo=BERLIN),
        25 * HOUR,
        id="always-open-fall-back-day",
    ),
    # End before start.
    pytest.param(ALWAYS_BERLIN, utc(2026, 1, 2), utc(2026, 1, 1), 0, id="end-before-start-is-zero"),
]


@pytest.mark.parametrize(("cal", "start", "end", "expected"), ELAPSED_CASES)
def test_business_seconds_between_hand_checked(
    cal: BusinessCalendar, start: datetime, end: datetime, expected: int
) -> None:
    assert business_seconds_between(cal, start, end) == expected


def test_business_minutes_floor_seconds() -> None:
    start = datetime(2026, 1, 12, 9, tzinfo=BERLIN)
    assert business_minutes_between(OFFICE, start, start + timedelta(seconds=119)) == 1
    assert business_minutes_between(OFFICE, start, start + timedelta(hours=1)) == 60


def test_zero_seconds_returns_start_in_utc() -> None:
    start = datetime(2026, 1, 10, 3, 4, 5, 6, tzinfo=BERLIN)  # a closed Saturday
    due = add_business_time(OFFICE, start, 0)
    assert due == start
    assert due.tzinfo is UTC


OPEN_CASES = [
    # (calendar, instant, open?, next opening)
    pytest.param(
        OFFICE, datetime(2026, 1, 14, 9, tzinfo=BERLIN), True, utc(2026, 1, 14, 8), id="at-opening"
    ),
    pytest.param(
        OFFICE,
        datetime(2026, 1, 14, 12, 30, tzinfo=BERLIN),
        False,
        utc(2026, 1, 14, 12, 30),  # 13:30 CET
        id="closing-is-exclusive",
    ),
    pytest.param(
        OFFICE,
        datetime(2026, 1, 9, 17, 30, tzinfo=BERLIN),
        False,
        utc(2026, 1, 12, 8),  # Mon 09:00 CET
        id="friday-evening",
    ),
    pytest.param(
        OFFICE,
        datetime(2025, 12, 31, 17, tzinfo=BERLIN),
        False,
        utc(2026, 1, 2, 8),  # Fri 09:00 CET; Thursday is a holiday
        id="skips-holiday",
    ),
    pytest.param(
        # The second 02:15 (CET, 01:15Z) is past the first 02:45, so the window already closed;
        # it reopens next Sunday at 02:00 CET = 01:00Z.
        BERLIN_SUN_2_TO_0245,
        utc(2026, 10, 25, 1, 15),
        False,
        utc(2026, 11, 1, 1),
        id="repeated-hour-after-window-closed",
    ),
    pytest.param(
        # 02:45 CET (01:45Z) is still before 03:30 CET, inside the 02:30-03:30 window.
        BERLIN_SUN_0230_TO_0330,
        utc(2026, 10, 25, 1, 45),
        True,
        utc(2026, 10, 25, 1, 45),
        id="repeated-hour-inside-window",
    ),
]


@pytest.mark.parametrize(("cal", "at", "expected_open", "expected_next"), OPEN_CASES)
def test_is_open_and_next_open_hand_checked(
    cal: BusinessCalendar, at: datetime, expected_open: bool, expected_next: datetime
) -> None:
    assert is_open(cal, at) is expected_open
    nxt = next_open(cal, at)
    assert nxt == expected_next
    assert nxt.tzinfo is UTC


def test_next_open_keeps_microseconds_when_already_open() -> None:
    at = datetime(2026, 1, 14, 10, 0, 0, 123_456, tzinfo=BERLIN)
    assert next_open(OFFICE, at) == at


def test_calendar_is_hashable_value() -> None:
    assert BusinessCalendar.always_open() == BusinessCalendar.always_open("UTC")
    assert len({BusinessCalendar.always_open(), BusinessCalendar.always_open("UTC")}) == 1
    assert BusinessCalendar.always_open() != ALWAYS_BERLIN


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        pytest.param(7, time(9), time(17), id="weekday-too-big"),
        pytest.param(-1, time(9), time(17), id="weekday-negative"),
        pytest.param(True, time(9), time(17), id="weekday-bool"),
        pytest.param(MON, time(17), time(9), id="start-after-end"),
        pytest.param(MON, time(9), time(9), id="empty"),
        pytest.param(MON, time(9, 0, 0, 1), time(17), id="microseconds"),
        pytest.param(MON, time(9, tzinfo=UTC), time(17), id="aware-time"),
    ],
)
def test_invalid_window(weekday: int, start: time, end: time) -> None:
    with pytest.raises(CalendarError):
        Window(weekday, start, end)


def test_midnight_end_means_end_of_day() -> None:
    assert Window(MON, time(0), time(0)).span == (0, 86_400)
    assert Window(MON, time(22), time(0)).span == (22 * HOUR, 86_400)


def test_calendar_error_is_value_error() -> None:
    assert issubclass(CalendarError, ValueError)


@pytest.mark.parametrize(
    "windows",
    [
        pytest.param(
            (Window(MON, time(9), time(12)), Window(MON, time(11), time(13))), id="overlap"
        ),
        pytest.param(
            (Window(MON, time(9), time(12)), Window(MON, time(9), time(12))), id="duplicate"
        ),
        pytest.param((Window(MON, time(22), time(0)), Window(MON, time(23), time(0))), id="to-24h"),
        pytest.param((), id="no-windows"),
    ],
)
def test_invalid_windows(windows: tuple[Window, ...]) -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar("UTC", windows)


def test_touching_and_cross_day_windows_are_allowed() -> None:
    BusinessCalendar(
        "UTC",
        (
            Window(MON, time(9), time(12)),
            Window(MON, time(12), time(13)),
            Window(TUE, time(9), time(12)),
        ),
    )


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../etc/passwd", "/etc/localtime"])
def test_unknown_time_zone(tz: str) -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar.always_open(tz)


def test_datetime_holiday_rejected() -> None:
    with pytest.raises(CalendarError):
        BusinessCalendar("UTC", (Window(MON, time(9), time(17)),), frozenset({utc(2026, 1, 1)}))


def test_naive_datetimes_rejected() -> None:
    naive = datetime(2026, 1, 12, 9)
    aware = utc(2026, 1, 12, 9)
    with pytest.raises(ValueError, match="aware"):
        business_seconds_between(OFFICE, naive, aware)
    with pytest.raises(ValueError, match="aware"):
        business_seconds_between(OFFICE, aware, naive)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(OFFICE, naive, 60)
    with pytest.raises(ValueError, match="aware"):
        is_open(OFFICE, naive)
    with pytest.raises(ValueError, match="aware"):
        next_open(OFFICE, naive)


def test_bad_durations_rejected() -> None:
    with pytest.raises(ValueError):
        add_business_time(OFFICE, utc(2026, 1, 12), -1)
    with pytest.raises(TypeError):
        add_business_time(OFFICE, utc(2026, 1, 12), 1.5)  # type: ignore[arg-type]


def test_calendar_closed_for_too_long_raises_instead_of_looping() -> None:
    # Only Mondays open, and every Monday for ~11 years is a holiday.
    first = date(2026, 1, 5)
    mondays = frozenset(first + timedelta(weeks=n) for n in range(MAX_CLOSED_DAYS // 7 + 10))
    cal = BusinessCalendar("UTC", (Window(MON, time(9), time(17)),), mondays)
    with pytest.raises(CalendarError, match="no business time"):
        add_business_time(cal, utc(2026, 1, 1), 60)
    with pytest.raises(CalendarError, match="no business time"):
        next_open(cal, utc(2026, 1, 1))
    # A bounded question still has an answer.
    assert business_seconds_between(cal, utc(2026, 1, 1), utc(2035, 1, 1)) == 0


# --- properties -------------------------------------------------------------------------

ZONE_NAMES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
# Instants cluster around DST changes (Berlin, New York, Lord Howe) and one quiet week.
ANCHORS = [
    utc(2026, 3, 8, 7),
    utc(2026, 3, 29, 1),
    utc(2026, 4, 4, 15),
    utc(2026, 6, 15),
    utc(2026, 10, 3, 15, 30),
    utc(2026, 10, 25, 1),
    utc(2026, 11, 1, 6),
]
WEEK = 7 * 86_400

# Minutes of the day, biased towards the local times DST changes happen at.
boundary_minutes = st.one_of(
    st.integers(0, 1440), st.sampled_from([0, 60, 90, 120, 150, 180, 210, 240, 1440])
)


def minute_to_time(minute: int) -> time:
    return time(0) if minute == 1440 else time(minute // 60, minute % 60)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    windows = []
    for weekday in sorted(draw(st.sets(st.integers(MON, SUN), min_size=1))):
        count = draw(st.integers(1, 3))
        points = sorted(
            draw(st.lists(boundary_minutes, min_size=2 * count, max_size=2 * count, unique=True))
        )
        for start, end in zip(points[::2], points[1::2], strict=True):
            windows.append(Window(weekday, minute_to_time(start), minute_to_time(end)))
    holidays = draw(
        st.frozensets(
            st.builds(
                lambda anchor, days: anchor.date() + timedelta(days=days),
                st.sampled_from(ANCHORS),
                st.integers(-10, 20),
            ),
            max_size=6,
        )
    )
    return BusinessCalendar(draw(st.sampled_from(ZONE_NAMES)), tuple(windows), holidays)


# Aware instants near an anchor, with microseconds, expressed in a random zone.
instants = st.builds(
    lambda anchor, seconds, micro, zone: (
        anchor + timedelta(seconds=seconds, microseconds=micro)
    ).astimezone(ZoneInfo(zone)),
    st.sampled_from(ANCHORS),
    st.integers(-WEEK, WEEK),
    st.integers(0, 999_999),
    st.sampled_from(ZONE_NAMES),
)
durations = st.one_of(st.integers(0, 8 * HOUR), st.integers(0, 3 * 86_400))

PROPERTY = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def floor_seconds(value: datetime) -> int:
    return int(value.astimezone(UTC).replace(microsecond=0).timestamp())


@PROPERTY
@given(calendars(), instants, durations)
def test_elapsed_of_added_duration_is_the_duration(
    cal: BusinessCalendar, start: datetime, seconds: int
) -> None:
    due = add_business_time(cal, start, seconds)
    assert due.tzinfo is UTC
    assert due >= start
    assert business_seconds_between(cal, start, due) == seconds
    if seconds:
        # Earliest such instant: one microsecond sooner is one business second short.
        assert due.microsecond == 0
        assert business_seconds_between(cal, start, due - timedelta(microseconds=1)) == seconds - 1
        assert add_business_time(cal, start, seconds - 1) < due


@PROPERTY
@given(calendars(), st.lists(instants, min_size=3, max_size=3))
def test_elapsed_is_additive_and_monotone(cal: BusinessCalendar, points: list[datetime]) -> None:
    # Sort in UTC: same-zone comparisons go by wall time and misorder a DST fold.
    a, b, c = sorted(points, key=lambda point: point.astimezone(UTC))
    ab = business_seconds_between(cal, a, b)
    bc = business_seconds_between(cal, b, c)
    ac = business_seconds_between(cal, a, c)
    assert ab + bc == ac
    assert 0 <= ab <= ac
    assert 0 <= bc <= ac
    assert ac <= floor_seconds(c) - floor_seconds(a)
    assert business_seconds_between(cal, c, a) == 0


@PROPERTY
@given(st.sampled_from(ZONE_NAMES), instants, instants, durations)
def test_always_open_is_real_elapsed_time(tz: str, a: datetime, b: datetime, seconds: int) -> None:
    cal = BusinessCalendar.always_open(tz)
    a, b = sorted((a, b), key=lambda point: point.astimezone(UTC))
    assert business_seconds_between(cal, a, b) == floor_seconds(b) - floor_seconds(a)
    # Arithmetic in UTC: aware + timedelta in a local zone would be wall-clock arithmetic.
    a_utc = a.astimezone(UTC)
    expected = a_utc if seconds == 0 else a_utc.replace(microsecond=0) + timedelta(seconds=seconds)
    assert add_business_time(cal, a, seconds) == expected


@PROPERTY
@given(calendars(), instants)
def test_is_open_and_next_open_agree_with_elapsed(cal: BusinessCalendar, at: datetime) -> None:
    # Arithmetic in UTC: adding a timedelta to a local time would drop its DST fold.
    second = at.astimezone(UTC).replace(microsecond=0)
    assert is_open(cal, second) == (
        business_seconds_between(cal, second, second + timedelta(seconds=1)) == 1
    )
    assert is_open(cal, at) == is_open(cal, second)
    nxt = next_open(cal, at)
    assert nxt >= at
    assert is_open(cal, nxt)
    assert business_seconds_between(cal, at, nxt) == 0
    # Compare in UTC: an inter-zone == is always False for a time inside a DST fold.
    assert (nxt == at.astimezone(UTC)) == is_open(cal, at)


def high_water_mark_open(cal: BusinessCalendar, wall: datetime) -> bool:
    """Independent restatement of the DST rule: open iff the highest wall reading is in a window."""
    if wall.date() in cal.holidays:
        return False
    second_of_day = wall.hour * 3600 + wall.minute * 60 + wall.second
    return any(
        w.weekday == wall.weekday() and w.span[0] <= second_of_day < w.span[1] for w in cal.windows
    )


@settings(PROPERTY, max_examples=60)
@given(
    calendars(),
    st.sampled_from(ANCHORS),
    st.integers(-3 * 24 * 60, 3 * 24 * 60),
    st.integers(0, 2 * 24 * 60),
)
def test_matches_minute_by_minute_wall_clock_oracle(
    cal: BusinessCalendar, anchor: datetime, offset_minutes: int, length_minutes: int
) -> None:
    # Windows and every zone's offsets are whole minutes, so each minute is all open or
    # all closed. The running maximum of the local wall clock starts a day early, which
    # is more than any fall-back can rewind.
    zone = ZoneInfo(cal.tz)
    start = anchor + timedelta(minutes=offset_minutes)
    end = start + timedelta(minutes=length_minutes)
    t = start - timedelta(days=1)
    high = t.astimezone(zone).replace(tzinfo=None)
    open_minutes = 0
    while t < end:
        high = max(high, t.astimezone(zone).replace(tzinfo=None))
        if t >= start and high_water_mark_open(cal, high):
            open_minutes += 1
        t += timedelta(minutes=1)
    assert business_seconds_between(cal, start, end) == 60 * open_minutes
