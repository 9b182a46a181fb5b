"""Tests for tickets.ranking (pure module: no Django, no database)."""

from __future__ import annotations

import ast
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tickets import ranking
from tickets.ranking import (
    BASE_62_DIGITS,
    REBALANCE_HARD_LIMIT,
    REBALANCE_SOFT_LIMIT,
    RankError,
    generate_key_between,
    generate_n_keys_between,
    initial_ranks,
    key_length,
    make_rank,
    must_rebalance,
    needs_rebalance,
    next_bucket,
    parse_rank,
    rank_between,
    validate_key,
)

# Keep property tests quick: the whole file should run in a few seconds.
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

SMALLEST_INTEGER = "A" + "0" * 26
BASE_10_DIGITS = "0123456789"
BASE_95_DIGITS = "".join(chr(c) for c in range(32, 127))


# --- exact values (rocicorp/fractional-indexing src/test.js) -------------------

REFERENCE_TABLE: list[tuple[str | None, str | None, str]] = [
    (None, None, "a0"),
    (None, "a0", "Zz"),
    (None, "Zz", "Zy"),
    ("a0", None, "a1"),
    ("a1", None, "a2"),
    ("a0", "a1", "a0V"),
    ("a1", "a2", "a1V"),
    ("a0V", "a1", "a0l"),
    ("Zz", "a0", "ZzV"),
    ("Zz", "a1", "a0"),
    (None, "Y00", "Xzzz"),
    ("bzz", None, "c000"),
    ("a0", "a0V", "a0G"),
    ("a0", "a0G", "a08"),
    ("b125", "b129", "b127"),
    ("a0", "a1V", "a1"),
    ("Zz", "a01", "a0"),
    (None, "a0V", "a0"),
    (None, "b999", "b99"),
    (None, "A000000000000000000000000001", "A000000000000000000000000000V"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzy", None, "zzzzzzzzzzzzzzzzzzzzzzzzzzz"),
    ("zzzzzzzzzzzzzzzzzzzzzzzzzzz", None, "zzzzzzzzzzzzzzzzzzzzzzzzzzzV"),
]


@pytest.mark.parametrize(("a", "b", "expected"), REFERENCE_TABLE)
def test_reference_table(a: str | None, b: str | None, expected: str) -> None:
    assert generate_key_between(a, b) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, SMALLEST_INTEGER),
        ("a00", None),
        ("a00", "a1"),
        ("0", "1"),
        ("a1", "a0"),
        ("a0", "a0"),
    ],
)
def test_reference_errors(a: str | None, b: str | None) -> None:
    with pytest.raises(RankError):
        generate_key_between(a, b)


@pytest.mark.parametrize(
    ("a", "b", "n", "expected"),
    [
        (None, None, 5, "a0 a1 a2 a3 a4"),
        ("a4", None, 10, "a5 a6 a7 a8 a9 b00 b01 b02 b03 b04"),
        (None, "a0", 5, "Z5 Z6 Z7 Z8 Z9"),
        (
            "a0",
            "a2",
            20,
            "a01 a02 a03 a035 a04 a05 a06 a07 a08 a09 a1 a11 a12 a13 a14 a15 a16 a17 a18 a19",
        ),
    ],
)
def test_reference_n_keys_base_10(a: str | None, b: str | None, n: int, expected: str) -> None:
    assert " ".join(generate_n_keys_between(a, b, n, BASE_10_DIGITS)) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("a00", "a01", "a00P"),
        ("a0/", "a00", "a0/P"),
        (None, None, "a "),
        ("a ", None, "a!"),
        (None, "a ", "Z~"),
        (None, "A                          0", "A                          ("),
        ("a~", None, "b  "),
        ("Z~", None, "a "),
        ("a0", "a0V", "a0;"),
        ("a  1", "a  2", "a  1P"),
    ],
)
def test_reference_base_95(a: str | None, b: str | None, expected: str) -> None:
    assert generate_key_between(a, b, BASE_95_DIGITS) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("a0 ", "a0!"), ("b   ", None), (None, "A                          ")],
)
def test_reference_base_95_errors(a: str | None, b: str | None) -> None:
    with pytest.raises(RankError):
        generate_key_between(a, b, BASE_95_DIGITS)


@pytest.mark.parametrize(
    ("digits", "a", "b", "n", "expected"),
    [
        ("01", None, None, 8, "a0 a1 b00 b01 b10 b11 c000 c001"),
        ("01", "a1", None, 1, "b00"),
        ("01", "a0", "a1", 1, "a01"),
        (" !#$%", None, None, 6, "a  a! a# a$ a% b  "),
        (" !#$%", "a ", "a!", 1, "a $"),
    ],
)
def test_reference_custom_alphabets(
    digits: str, a: str | None, b: str | None, n: int, expected: str
) -> None:
    assert " ".join(generate_n_keys_between(a, b, n, digits)) == expected


def test_generate_n_keys_between_small_counts() -> None:
    assert generate_n_keys_between("a0", "a1", 0) == []
    assert generate_n_keys_between("a0", "a1", 1) == ["a0V"]
    assert generate_n_keys_between(None, None, 3) == ["a0", "a1", "a2"]


@pytest.mark.parametrize("digits", ["", "0", "10", "0012", "0123456789ba"])
def test_bad_alphabet_rejected(digits: str) -> None:
    with pytest.raises(RankError):
        generate_key_between(None, None, digits)


def test_never_returns_the_smallest_integer_as_a_key() -> None:
    # The reference would return the bare smallest integer here, which is itself an
    # invalid key (nothing can ever be inserted before it).
    key = generate_key_between(None, "A" + "0" * 25 + "1")
    validate_key(key)
    assert key == SMALLEST_INTEGER + "V"
    assert generate_key_between(None, key) < key


# --- strategies -------------------------------------------------------------

ALL_HEADS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Boundary digits (0, 1, z, y) exercise carries and the "adjacent digits" branch far
# more often than uniform base-62 text would.
EDGE_DIGITS = "01yzV"


def _integer_length(head: str) -> int:
    return ord(head) - ord("a") + 2 if head.islower() else ord("Z") - ord(head) + 2


@st.composite
def valid_keys(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from("aaabcZZYz") | st.sampled_from(ALL_HEADS))
    alphabet = draw(st.sampled_from([BASE_62_DIGITS, EDGE_DIGITS]))
    integer_digits = draw(
        st.text(
            alphabet=alphabet,
            min_size=_integer_length(head) - 1,
            max_size=_integer_length(head) - 1,
        )
    )
    fraction = draw(st.text(alphabet=alphabet, max_size=10)).rstrip("0")
    key = head + integer_digits + fraction
    assume(key != SMALLEST_INTEGER)
    return key


@st.composite
def ordered_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Two valid keys a < b, often sharing an integer part and a long prefix."""
    a = draw(valid_keys())
    if draw(st.booleans()):
        b = draw(valid_keys())
    else:
        # Same integer part and a shared fraction prefix: the hard cases.
        integer_len = _integer_length(a[0])
        cut = draw(st.integers(min_value=integer_len, max_value=len(a)))
        tail = draw(st.text(alphabet=EDGE_DIGITS, max_size=6))
        b = (a[:cut] + tail).rstrip("0")
        assume(len(b) >= integer_len)
    assume(a != b and b != SMALLEST_INTEGER)
    return (a, b) if a < b else (b, a)


optional_bounds = st.one_of(
    ordered_pairs().map(lambda p: (p[0], p[1])),
    valid_keys().map(lambda k: (k, None)),
    valid_keys().map(lambda k: (None, k)),
    st.just((None, None)),
)


def _assert_between(key: str, a: str | None, b: str | None) -> None:
    validate_key(key)
    if a is not None:
        assert a < key
    if b is not None:
        assert key < b


# --- properties -------------------------------------------------------------


@PROPERTY_SETTINGS
@given(valid_keys())
def test_generated_keys_are_valid(key: str) -> None:
    validate_key(key)


@PROPERTY_SETTINGS
@given(ordered_pairs())
def test_key_between_is_strictly_between(pair: tuple[str, str]) -> None:
    a, b = pair
    key = generate_key_between(a, b)
    _assert_between(key, a, b)
    # Never more than one character longer than the longer neighbour.
    assert len(key) <= max(len(a), len(b)) + 1


@PROPERTY_SETTINGS
@given(valid_keys())
def test_open_ended_keys(key: str) -> None:
    _assert_between(generate_key_between(key, None), key, None)
    _assert_between(generate_key_between(None, key), None, key)


@PROPERTY_SETTINGS
@given(ordered_pairs())
def test_reversed_or_equal_bounds_raise(pair: tuple[str, str]) -> None:
    a, b = pair
    with pytest.raises(RankError):
        generate_key_between(b, a)
    with pytest.raises(RankError):
        generate_key_between(a, a)


@settings(max_examples=150, deadline=None)
@given(optional_bounds, st.integers(min_value=0, max_value=40))
def test_n_keys_between(bounds: tuple[str | None, str | None], n: int) -> None:
    a, b = bounds
    keys = generate_n_keys_between(a, b, n)
    assert len(keys) == n
    for key in keys:
        _assert_between(key, a, b)
    chain = [k for k in (a, *keys, b) if k is not None]
    # Strictly increasing, so no key equals a neighbour or a bound.
    assert chain == sorted(set(chain))


@PROPERTY_SETTINGS
@given(st.sampled_from([0, 1, 2]), valid_keys())
def test_rank_round_trip(bucket: int, key: str) -> None:
    rank = make_rank(bucket, key)
    assert parse_rank(rank) == (bucket, key)
    assert key_length(rank) == len(key)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([0, 1, 2]), ordered_pairs())
def test_rank_between_property(bucket: int, pair: tuple[str, str]) -> None:
    lo, hi = make_rank(bucket, pair[0]), make_rank(bucket, pair[1])
    mid = rank_between(lo, hi)
    assert lo < mid < hi
    assert parse_rank(mid)[0] == bucket


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_random_inserts_stay_sorted(rng: random.Random) -> None:
    keys: list[str] = []
    for _ in range(300):
        pos = rng.randint(0, len(keys))
        a = keys[pos - 1] if pos > 0 else None
        b = keys[pos] if pos < len(keys) else None
        key = generate_key_between(a, b)
        _assert_between(key, a, b)
        keys.insert(pos, key)
    assert keys == sorted(set(keys))


# --- adversarial repeated inserts ------------------------------------------

INSERTS = 10_000


def _repeat_inserts(pick_gap: Callable[[list[str]], int]) -> tuple[list[str], int]:
    """Insert INSERTS keys, each into the gap before index pick_gap(keys)."""
    keys = ["a0", "a1"]
    longest = 0
    for _ in range(INSERTS):
        pos = pick_gap(keys)
        a = keys[pos - 1] if pos > 0 else None
        b = keys[pos] if pos < len(keys) else None
        key = generate_key_between(a, b)
        if a is not None:
            assert a < key
        if b is not None:
            assert key < b
        keys.insert(pos, key)
        longest = max(longest, len(key))
    assert len(set(keys)) == len(keys)
    assert keys == sorted(keys)
    return keys, longest


def test_repeated_inserts_at_top() -> None:
    # Measured: max key length 4 (integers a0..az, b00..bzz, then c000...).
    _, longest = _repeat_inserts(len)
    assert longest == 4


def test_repeated_inserts_at_bottom() -> None:
    # Measured: max key length 4 (Zz..Z0, Yzz..Y00, then Xzzz...).
    _, longest = _repeat_inserts(lambda keys: 0)
    assert longest == 4


def test_repeated_inserts_just_after_first_key() -> None:
    # Worst case by design: each insert halves the same gap, costing ~1 bit, so a
    # base-62 key grows by one char every ~6 inserts. Measured: max key length 1669.
    # In production the rebalance limits cap this long before (see below).
    keys, longest = _repeat_inserts(lambda keys: 1)
    assert keys[0] == "a0"
    assert longest == 1669


def test_repeated_inserts_just_before_last_key() -> None:
    # Mirror image, approaching "a1" from below. Round-half-up midpoints make this
    # side ~5 inserts per char rather than ~6. Measured: max key length 2002.
    keys, longest = _repeat_inserts(lambda keys: len(keys) - 1)
    assert keys[-1] == "a1"
    assert longest == 2002


def test_same_gap_hits_rebalance_limits_early() -> None:
    # Measured: approaching a0 from above trips the soft limit after 133 same-gap
    # moves and the hard limit after 277; approaching a1 from below, 111 and 231.
    for approach_low in (True, False):
        lo, hi = "0|a0", "0|a1"
        first_soft = inserts = 0
        while True:
            new = rank_between(lo, hi)
            inserts += 1
            lo, hi = (lo, new) if approach_low else (new, hi)
            if not first_soft and needs_rebalance(new):
                first_soft = inserts
            if must_rebalance(new):
                break
        assert (first_soft, inserts) == ((133, 277) if approach_low else (111, 231))


def test_very_long_keys_do_not_recurse() -> None:
    # A recursive midpoint would blow the default recursion limit (1000) here.
    a = "a0" + "z" * 5000
    assert generate_key_between(a, "a1") == a + "V"
    prefix = "a0" + "0" * 5000
    assert generate_key_between(prefix + "1", prefix + "2") == prefix + "1V"
    assert generate_key_between("a0", prefix + "1") == prefix + "0V"


# --- rank helpers -------------------------------------------------------------


def test_rank_between_exact_values() -> None:
    assert rank_between(None, None) == "0|a0"
    assert rank_between(None, None, bucket=2) == "2|a0"
    assert rank_between("1|a0", None) == "1|a1"
    assert rank_between(None, "2|a0") == "2|Zz"
    assert rank_between("0|a0", "0|a1") == "0|a0V"
    assert rank_between("1|a0", "1|a1", bucket=1) == "1|a0V"


@pytest.mark.parametrize(
    ("before", "after", "bucket"),
    [
        ("0|a0", "1|a1", None),  # different buckets
        ("0|a0", None, 1),  # explicit bucket disagrees with the neighbour
        ("0|a1", "0|a0", None),  # before >= after
        ("0|a0", "0|a0", None),
        (None, None, 3),
        ("0|a00", None, None),
    ],
)
def test_rank_between_errors(before: str | None, after: str | None, bucket: int | None) -> None:
    with pytest.raises(RankError):
        rank_between(before, after, bucket=bucket)


@pytest.mark.parametrize(
    "rank",
    [
        "a0",  # missing '|'
        "",
        "3|a0",  # bad bucket
        "-1|a0",
        "x|a0",
        "|a0",
        "01|a0",
        " 1|a0",
        "+1|a0",
        "0|",  # empty key
        "0|a00",  # trailing zero in fraction
        "0|a0V0",
        "0|b0",  # integer part too short for head 'b'
        "0|0a",  # bad head
        "0|a0|1",
        "0|a0!",
        "0|" + SMALLEST_INTEGER,
    ],
)
def test_parse_rank_rejects_malformed(rank: str) -> None:
    with pytest.raises(RankError):
        parse_rank(rank)
    with pytest.raises(RankError):
        key_length(rank)


@pytest.mark.parametrize(("bucket", "key"), [(3, "a0"), (-1, "a0"), (True, "a0"), (0, "a00")])
def test_make_rank_rejects_bad_input(bucket: int, key: str) -> None:
    with pytest.raises(RankError):
        make_rank(bucket, key)


def test_rank_error_is_value_error() -> None:
    assert issubclass(RankError, ValueError)


def test_next_bucket_cycles() -> None:
    assert [next_bucket(b) for b in (0, 1, 2)] == [1, 2, 0]
    with pytest.raises(RankError):
        next_bucket(3)


def test_initial_ranks() -> None:
    assert initial_ranks(0) == []
    assert initial_ranks(3, bucket=1) == ["1|a0", "1|a1", "1|a2"]
    ranks = initial_ranks(10_000, bucket=2)
    assert ranks == sorted(set(ranks))
    assert max(key_length(r) for r in ranks) == 4
    with pytest.raises(RankError):
        initial_ranks(-1)
    with pytest.raises(RankError):
        initial_ranks(3, bucket=5)


def test_rebalance_limits() -> None:
    assert (REBALANCE_SOFT_LIMIT, REBALANCE_HARD_LIMIT) == (24, 48)
    at_soft = make_rank(0, "a0" + "V" * (REBALANCE_SOFT_LIMIT - 2))
    past_soft = make_rank(0, "a0" + "V" * (REBALANCE_SOFT_LIMIT - 1))
    at_hard = make_rank(0, "a0" + "V" * (REBALANCE_HARD_LIMIT - 2))
    past_hard = make_rank(0, "a0" + "V" * (REBALANCE_HARD_LIMIT - 1))
    assert not needs_rebalance(at_soft)
    assert needs_rebalance(past_soft)
    assert not must_rebalance(past_soft)
    assert not must_rebalance(at_hard)
    assert must_rebalance(past_hard)


def test_module_is_pure_stdlib() -> None:
    tree = ast.parse(Path(ranking.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names)
