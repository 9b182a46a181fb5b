"""Ordering keys for tickets within a board column.

Keys follow David Greenspan's fractional-indexing scheme (as implemented by the
``fractional-indexing`` JS library from rocicorp), so that any new position can be
expressed as a string strictly between its neighbours without renumbering them.
A full rank is ``"<bucket>|<key>"``; the bucket lets a rebalance write fresh ranks
into the next bucket while the old ones are still in place.

This module is deliberately pure (standard library only) so it can be used from
migrations, management commands and tests without Django.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise
from typing import Final

__all__ = [
    "BASE_62_DIGITS",
    "BUCKETS",
    "REBALANCE_HARD_LIMIT",
    "REBALANCE_SOFT_LIMIT",
    "RankError",
    "generate_key_between",
    "generate_n_keys_between",
    "initial_ranks",
    "key_length",
    "make_rank",
    "must_rebalance",
    "needs_rebalance",
    "next_bucket",
    "parse_rank",
    "rank_between",
    "validate_key",
]

# Ascending by code point, so Python str comparison (and PostgreSQL "C" collation)
# orders keys exactly as the numbers they encode.
BASE_62_DIGITS: Final[str] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

BUCKETS: Final[tuple[int, ...]] = (0, 1, 2)
RANK_SEPARATOR: Final[str] = "|"

REBALANCE_SOFT_LIMIT: Final[int] = 24
REBALANCE_HARD_LIMIT: Final[int] = 48

# Head characters encode the length of the integer part: 'a'..'z' -> 2..27 and
# 'Z'..'A' -> 2..27. They are fixed regardless of the digit alphabet.
_MAX_INTEGER_LENGTH: Final[int] = 27


class RankError(ValueError):
    """Raised for malformed keys/ranks or impossible orderings."""


class _Alphabet:
    """Validated digit alphabet with O(1) digit lookups."""

    __slots__ = ("base", "charset", "digits", "index", "smallest_integer", "zero")

    def __init__(self, digits: str) -> None:
        if len(digits) < 2:
            raise RankError("digit alphabet needs at least two digits")
        # An unsorted alphabet would silently produce keys that sort wrongly.
        if any(x >= y for x, y in pairwise(digits)):
            raise RankError("digit alphabet must be strictly ascending")
        self.digits = digits
        self.base = len(digits)
        self.zero = digits[0]
        self.index = {ch: i for i, ch in enumerate(digits)}
        self.charset = frozenset(digits)
        # Nothing sorts below the smallest integer, so a key equal to it would
        # leave no room to insert before it.
        self.smallest_integer = "A" + self.zero * (_MAX_INTEGER_LENGTH - 1)


@lru_cache(maxsize=16)
def _alphabet(digits: str) -> _Alphabet:
    return _Alphabet(digits)


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise RankError(f"invalid order key head: {head!r}")


def _split_key(key: str) -> tuple[str, str]:
    """Split a (validated) key into its integer and fractional parts."""
    length = _integer_length(key[0])
    return key[:length], key[length:]


def _validate_key(key: str, alpha: _Alphabet) -> None:
    if not isinstance(key, str) or not key:
        raise RankError(f"invalid order key: {key!r}")
    length = _integer_length(key[0])
    if len(key) < length:
        raise RankError(f"invalid order key (integer part too short): {key!r}")
    if not alpha.charset.issuperset(key[1:]):
        raise RankError(f"invalid order key (unknown digit): {key!r}")
    if key[:length] == alpha.smallest_integer and len(key) == length:
        raise RankError(f"invalid order key (smallest integer): {key!r}")
    if len(key) > length and key[-1] == alpha.zero:
        raise RankError(f"invalid order key (trailing zero): {key!r}")


def validate_key(key: str, digits: str = BASE_62_DIGITS) -> None:
    """Raise RankError unless ``key`` is a well-formed fractional-index key."""
    _validate_key(key, _alphabet(digits))


def _common_prefix_length(a: str, b: str) -> int:
    # Binary search over C-level slice comparisons: keys in a heavily used gap can
    # be thousands of characters long, and a per-character Python loop per insert
    # made the repeated-insert case quadratic in interpreted code.
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _midpoint(a: str, b: str | None, alpha: _Alphabet) -> str:
    """Fraction strictly between fractions ``a`` and ``b`` (None = 1)."""
    if b is not None and a >= b:
        raise RankError(f"{a!r} >= {b!r}")
    if a.endswith(alpha.zero) or (b is not None and b.endswith(alpha.zero)):
        raise RankError("fractional part has a trailing zero")

    digits, index = alpha.digits, alpha.index
    parts: list[str] = []
    if b is not None:
        n = _common_prefix_length(a, b)
        if n == len(a):
            # ``a`` is implicitly padded with zeros, so leading zeros of the rest of
            # ``b`` still belong to the shared prefix.
            n = len(b) - len(b[n:].lstrip(alpha.zero))
        parts.append(b[:n])
        a, b = a[n:], b[n:]

    # Iterative rather than recursive so arbitrarily long keys cannot hit the
    # recursion limit.
    while True:
        digit_a = index[a[0]] if a else 0
        digit_b = index[b[0]] if b is not None else alpha.base
        if digit_b - digit_a > 1:
            # Round half up, matching the reference's Math.round.
            parts.append(digits[(digit_a + digit_b + 1) // 2])
            break
        if b is not None and len(b) > 1:
            # b's first digit alone is already > a and < b.
            parts.append(b[0])
            break
        # Digits are adjacent and b can't be shortened: keep a's digit and find
        # something above the rest of a.
        parts.append(digits[digit_a])
        a, b = a[1:], None
    return "".join(parts)


def _increment_integer(x: str, alpha: _Alphabet) -> str | None:
    """Next integer after ``x``, or None if ``x`` is the largest integer."""
    head, digs = x[0], list(x[1:])
    for i in range(len(digs) - 1, -1, -1):
        d = alpha.index[digs[i]] + 1
        if d < alpha.base:
            digs[i] = alpha.digits[d]
            return head + "".join(digs)
        digs[i] = alpha.zero
    if head == "Z":
        return "a" + alpha.zero
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digs.append(alpha.zero)
    else:
        digs.pop()
    return new_head + "".join(digs)


def _decrement_integer(x: str, alpha: _Alphabet) -> str | None:
    """Previous integer before ``x``, or None if ``x`` is the smallest integer."""
    top = alpha.digits[-1]
    head, digs = x[0], list(x[1:])
    for i in range(len(digs) - 1, -1, -1):
        d = alpha.index[digs[i]] - 1
        if d >= 0:
            digs[i] = alpha.digits[d]
            return head + "".join(digs)
        digs[i] = top
    if head == "a":
        return "Z" + top
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digs.append(top)
    else:
        digs.pop()
    return new_head + "".join(digs)


def generate_key_between(a: str | None, b: str | None, digits: str = BASE_62_DIGITS) -> str:
    """Return a key strictly between ``a`` and ``b`` (None means an open end)."""
    alpha = _alphabet(digits)
    if a is not None:
        _validate_key(a, alpha)
    if b is not None:
        _validate_key(b, alpha)
    if a is not None and b is not None and a >= b:
        raise RankError(f"{a!r} >= {b!r}")

    if a is None:
        if b is None:
            return "a" + alpha.zero
        int_b, frac_b = _split_key(b)
        if int_b == alpha.smallest_integer:
            return int_b + _midpoint("", frac_b, alpha)
        if frac_b:
            return int_b
        prev = _decrement_integer(int_b, alpha)
        if prev is None:  # pragma: no cover - int_b == smallest handled above
            raise RankError("cannot decrement any more")
        if prev == alpha.smallest_integer:
            # Deviation from the reference, which would return this dead-end key.
            return prev + _midpoint("", None, alpha)
        return prev

    int_a, frac_a = _split_key(a)
    if b is None:
        nxt = _increment_integer(int_a, alpha)
        return int_a + _midpoint(frac_a, None, alpha) if nxt is None else nxt

    int_b, frac_b = _split_key(b)
    if int_a == int_b:
        return int_a + _midpoint(frac_a, frac_b, alpha)
    nxt = _increment_integer(int_a, alpha)
    if nxt is None:  # pragma: no cover - int_a < int_b so a larger integer exists
        raise RankError("cannot increment any more")
    # Prefer a bare integer (short) when one fits; otherwise extend a's fraction.
    if nxt < b:
        return nxt
    return int_a + _midpoint(frac_a, None, alpha)


def generate_n_keys_between(
    a: str | None, b: str | None, n: int, digits: str = BASE_62_DIGITS
) -> list[str]:
    """Return ``n`` strictly increasing keys between ``a`` and ``b``, evenly spread."""
    if n < 0:
        raise RankError(f"n must be >= 0, got {n}")
    if n == 0:
        return []
    if n == 1:
        return [generate_key_between(a, b, digits)]
    if b is None:
        # Open above: consecutive integers are as short as keys get.
        keys = [generate_key_between(a, None, digits)]
        for _ in range(n - 1):
            keys.append(generate_key_between(keys[-1], None, digits))
        return keys
    if a is None:
        keys = [generate_key_between(None, b, digits)]
        for _ in range(n - 1):
            keys.append(generate_key_between(None, keys[-1], digits))
        keys.reverse()
        return keys

    # Bisect the gap (midpoint first, then each half) so keys stay short; an
    # explicit stack in place of recursion keeps the output order of the reference.
    result: list[str] = []
    stack: list[tuple[str, str, int] | str] = [(a, b, n)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            result.append(item)
            continue
        lo, hi, count = item
        if count == 0:
            continue
        mid = generate_key_between(lo, hi, digits)
        if count == 1:
            result.append(mid)
            continue
        left = count // 2
        stack.append((mid, hi, count - left - 1))
        stack.append(mid)
        stack.append((lo, mid, left))
    return result


def _check_bucket(bucket: int) -> int:
    # bool is an int subclass; True/False as a bucket is certainly a bug upstream.
    if isinstance(bucket, bool) or not isinstance(bucket, int) or bucket not in BUCKETS:
        raise RankError(f"invalid bucket: {bucket!r}")
    return bucket


def make_rank(bucket: int, key: str) -> str:
    """Build a full ``"<bucket>|<key>"`` rank after validating both parts."""
    _check_bucket(bucket)
    validate_key(key)
    return f"{bucket}{RANK_SEPARATOR}{key}"


def parse_rank(rank: str) -> tuple[int, str]:
    """Split a full rank into ``(bucket, key)``, raising RankError if malformed."""
    if not isinstance(rank, str):
        raise RankError(f"rank must be a string, got {type(rank).__name__}")
    bucket_text, sep, key = rank.partition(RANK_SEPARATOR)
    if not sep:
        raise RankError(f"rank is missing {RANK_SEPARATOR!r}: {rank!r}")
    # Compare against exact strings: int() would also accept " 1", "+1" or "01",
    # which sort differently from the canonical form.
    if bucket_text not in {str(b) for b in BUCKETS}:
        raise RankError(f"invalid bucket in rank: {rank!r}")
    validate_key(key)
    return int(bucket_text), key


def rank_between(before: str | None, after: str | None, *, bucket: int | None = None) -> str:
    """Return a full rank strictly between two full ranks (None means an open end)."""
    bucket_before, key_before = parse_rank(before) if before is not None else (None, None)
    bucket_after, key_after = parse_rank(after) if after is not None else (None, None)
    buckets = {b for b in (bucket_before, bucket_after, bucket) if b is not None}
    if bucket is not None:
        _check_bucket(bucket)
    if len(buckets) > 1:
        # Buckets never interleave, so a key "between" two of them is meaningless;
        # an explicit bucket that disagrees with the neighbours is treated the same.
        raise RankError(f"ranks are in different buckets: {before!r}, {after!r}, {bucket!r}")
    target = buckets.pop() if buckets else 0
    return make_rank(target, generate_key_between(key_before, key_after))


def next_bucket(bucket: int) -> int:
    """Return the bucket a rebalance should write into (0 -> 1 -> 2 -> 0)."""
    return (_check_bucket(bucket) + 1) % len(BUCKETS)


def initial_ranks(n: int, bucket: int = 0) -> list[str]:
    """Return ``n`` short, increasing ranks in ``bucket`` for a rebalance or import."""
    _check_bucket(bucket)
    return [make_rank(bucket, key) for key in generate_n_keys_between(None, None, n)]


def key_length(rank: str) -> int:
    """Return the length of the key part of a full rank."""
    return len(parse_rank(rank)[1])


def needs_rebalance(rank: str) -> bool:
    """True once the key is long enough that a background rebalance should be queued."""
    return key_length(rank) > REBALANCE_SOFT_LIMIT


def must_rebalance(rank: str) -> bool:
    """True once the key is so long that the column must be rebalanced before a move."""
    return key_length(rank) > REBALANCE_HARD_LIMIT
