"""Pure pieces of the real-time layer: the client's local board, presence and indicator members."""

from __future__ import annotations

from typing import Any

from notifications.client import LocalBoard
from notifications.presence import (
    Indicator,
    Viewer,
    parse_indicator,
    parse_person,
    users_of,
)


def _ticket(tid: int, status: str, rank: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "key": f"DESK-{tid}",
        "title": f"T{tid}",
        "status": status,
        "rank": rank,
        "priority": "medium",
        "category": "general",
        "assignee": None,
        **extra,
    }


def _board(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "columns": [
            {
                "id": 2,
                "name": "Doing",
                "order": 1,
                "statuses": [{"key": "in_progress"}],
                "tickets": [_ticket(3, "in_progress", "0|a")],
            },
            {
                "id": 1,
                "name": "To Do",
                "order": 0,
                "statuses": [{"key": "new"}, {"key": "open"}],
                "tickets": [_ticket(1, "new", "0|b"), _ticket(2, "open", "0|c")],
            },
        ],
    }


def _ids(view: list[dict[str, Any]]) -> list[tuple[int, list[int]]]:
    return [(c["id"], [t["id"] for t in c["tickets"]]) for c in view]


def test_a_loaded_board_views_like_the_server_normalises_it():
    board = LocalBoard()
    board.load(_board(7))
    assert board.seq == 7
    assert board.view() == LocalBoard.normalise(_board(7))
    assert _ids(board.view()) == [(1, [1, 2]), (2, [3])]
    assert board.view()[0]["status_keys"] == ["new", "open"]


def test_events_patch_the_board_in_rank_order():
    board = LocalBoard()
    board.load(_board(7))
    moved = _ticket(2, "in_progress", "0|Z")  # "Z" < "a" byte-wise: above ticket 3
    assert board.apply({"type": "ticket.moved", "seq": 8, "data": moved}) is False
    created = _ticket(4, "new", "0|a")
    assert board.apply({"type": "ticket.created", "seq": 9, "data": created}) is False
    assert board.apply({"type": "ticket.archived", "seq": 10, "data": {"id": 1}}) is False
    assert board.apply({"type": "ticket.commented", "seq": 11, "data": {"id": 4}}) is False
    assert board.seq == 11
    assert _ids(board.view()) == [(1, [4]), (2, [2, 3])]


def test_an_archived_flag_in_an_update_takes_the_card_off():
    board = LocalBoard()
    board.load(_board(1))
    data = _ticket(3, "in_progress", "0|a", is_archived=True)
    board.apply({"type": "ticket.updated", "seq": 2, "data": data})
    assert _ids(board.view()) == [(1, [1, 2]), (2, [])]


def test_column_events_and_when_only_a_reload_will_do():
    board = LocalBoard()
    board.load(_board(1))
    renamed = {"id": 2, "name": "Busy", "order": 1, "status_keys": ["in_progress"]}
    assert board.apply({"type": "column.updated", "seq": 2, "data": renamed}) is False
    assert board.apply({"type": "column.reordered", "seq": 3, "data": {"order": [2, 1]}}) is False
    assert _ids(board.view()) == [(2, [3]), (1, [1, 2])]
    assert board.view()[0]["name"] == "Busy"
    # A status newly shown has tickets this board never loaded.
    widened = {"id": 2, "name": "Busy", "order": 0, "status_keys": ["in_progress", "blocked"]}
    assert board.apply({"type": "column.updated", "seq": 4, "data": widened}) is True
    assert board.apply({"type": "column.deleted", "seq": 5, "data": {"id": 2}}) is False
    assert _ids(board.view()) == [(1, [1, 2])]
    assert board.apply({"type": "board.reranked", "seq": 6, "data": {"bucket": 1}}) is True


def test_assignee_objects_and_usernames_compare_equal():
    server = _board(1)
    server["columns"][0]["tickets"][0]["assignee"] = {"username": "agent"}
    local = LocalBoard()
    local.load(server)
    data = _ticket(3, "in_progress", "0|a", assignee="agent")
    local.apply({"type": "ticket.updated", "seq": 2, "data": data})
    server["columns"][0]["tickets"][0]["assignee"] = "agent"
    assert local.view() == LocalBoard.normalise(server)


def test_presence_people_parse_and_collapse_to_one_entry_each():
    alice = Viewer(socket="p.specific.a1", user_id=3, username="alice", full_name="Alice | Ops")
    bob = Viewer(socket="p.specific.b", user_id=4, username="bob", full_name="")
    assert alice.person() == "3|alice|Alice | Ops"
    assert parse_person(alice.person()) == {"username": "alice", "full_name": "Alice | Ops"}
    assert parse_person(bob.person().encode()) == {"username": "bob", "full_name": ""}
    assert parse_person("garbage") is None
    assert parse_person("notanid|x|y") is None
    members = [bob.person().encode(), alice.person(), alice.person(), "junk"]
    assert users_of(members) == [
        {"username": "alice", "full_name": "Alice | Ops"},
        {"username": "bob", "full_name": ""},
    ]
    assert users_of([]) == []


def test_indicator_members_round_trip():
    indicator = Indicator(kind="moving", ticket_id=12, user="bob")
    assert parse_indicator(indicator.member()) == indicator
    assert parse_indicator(b"editing|5|a|b") == Indicator(kind="editing", ticket_id=5, user="a|b")
    assert parse_indicator("typing|5|bob") is None
    assert parse_indicator("editing|x|bob") is None
    assert indicator.message(active=False) == {
        "type": "moving",
        "ticket_id": 12,
        "user": "bob",
        "active": False,
    }
