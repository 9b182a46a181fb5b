"""The event catalogue, preferences and mentions: pure logic, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.catalogue import (
    CATALOGUE,
    PREFERENCE_KINDS,
    WEBHOOK_KINDS,
    channel_enabled,
    clean_preferences,
    clean_webhook_events,
    headline,
    parse_mentions,
    resolved_preferences,
)


def test_internal_notes_are_never_a_webhook_nor_an_email_kind():
    noted = CATALOGUE["ticket.noted"]
    assert noted.audience == "staff"
    assert "ticket.noted" not in WEBHOOK_KINDS
    assert (
        channel_enabled({"events": {"ticket.noted": {"email": True}}}, "ticket.noted", "email")
        is False
    )
    assert resolved_preferences(None)["events"]["ticket.noted"] == {"in_app": True, "email": False}


def test_the_catalogue_names_every_kind_the_issue_lists():
    for kind in (
        "ticket.created",
        "ticket.updated",
        "ticket.moved",
        "ticket.assigned",
        "ticket.commented",
        "ticket.resolved",
        "sla.warning",
        "sla.breached",
        "sla.escalated",
        "export.succeeded",
    ):
        assert kind in WEBHOOK_KINDS
    assert "webhook.test" not in WEBHOOK_KINDS
    assert "webhook.test" not in PREFERENCE_KINDS


@pytest.mark.parametrize(
    ("prefs", "kind", "channel", "expected"),
    [
        (None, "ticket.commented", "email", True),
        (None, "ticket.moved", "email", False),
        (None, "ticket.moved", "in_app", True),
        ({"email": False}, "ticket.commented", "email", False),
        ({"email": False}, "ticket.commented", "in_app", True),
        ({"in_app": False}, "ticket.commented", "in_app", False),
        ({"events": {"ticket.moved": {"email": True}}}, "ticket.moved", "email", True),
        ({"events": {"ticket.commented": {"in_app": False}}}, "ticket.commented", "in_app", False),
        (
            {"email": False, "events": {"ticket.moved": {"email": True}}},
            "ticket.moved",
            "email",
            False,
        ),
        (None, "webhook.test", "in_app", False),
        (None, "no.such.kind", "in_app", False),
    ],
)
def test_channel_enabled_master_switch_then_kind_then_default(prefs, kind, channel, expected):
    assert channel_enabled(prefs, kind, channel) is expected


def test_clean_preferences_keeps_only_what_differs_from_the_defaults():
    clean = clean_preferences(
        {
            "email": False,
            "events": {
                "ticket.moved": {"in_app": True, "email": True},
                "ticket.commented": {"in_app": True},
            },
        }
    )
    assert clean == {"email": False, "events": {"ticket.moved": {"email": True}}}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "Expected an object."),
        ({"sms": True}, "Unknown keys: sms."),
        ({"email": "yes"}, "email must be true or false."),
        ({"events": {"ticket.exploded": {"email": True}}}, "Unknown event kind 'ticket.exploded'."),
        ({"events": {"ticket.noted": {"email": True}}}, "ticket.noted is never sent by email."),
        (
            {"events": {"ticket.moved": {"pager": True}}},
            "events.ticket.moved must be an object with in_app and/or email.",
        ),
        (
            {"events": {"ticket.moved": {"email": 1}}},
            "events.ticket.moved.email must be true or false.",
        ),
    ],
)
def test_clean_preferences_rejects_with_a_reason(document, message):
    with pytest.raises(ValueError) as raised:
        clean_preferences(document)
    assert str(raised.value) == message


def test_resolved_preferences_lists_every_kind_with_both_channels():
    resolved = resolved_preferences({"in_app": False, "events": {"ticket.moved": {"email": True}}})
    assert resolved["in_app"] is False
    assert resolved["email"] is True
    assert set(resolved["events"]) == set(PREFERENCE_KINDS)
    assert resolved["events"]["ticket.moved"] == {"in_app": True, "email": True}
    assert resolved["events"]["sla.breached"] == {"in_app": True, "email": True}


def test_webhook_event_filters():
    assert clean_webhook_events(["*"]) == ["*"]
    assert clean_webhook_events(["ticket.moved", "ticket.moved", "sla.breached"]) == [
        "ticket.moved",
        "sla.breached",
    ]
    for bad in ([], "ticket.moved", ["*", "ticket.moved"], ["ticket.noted"], ["webhook.test"], [3]):
        with pytest.raises(ValueError):
            clean_webhook_events(bad)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("@agent please look", ["agent"]),
        ("ping @Lead and @agent.", ["lead", "agent"]),
        ("(@manager) @manager again", ["manager"]),
        ("write to someone@example.com", []),
        ("@@twice and a@b", []),
        ("cc:@first.last-2+x", ["first.last-2+x"]),
        ("", []),
    ],
)
def test_parse_mentions(text, names):
    assert parse_mentions(text) == names


@given(st.text())
def test_mentions_are_unique_lowercase_and_appear_in_the_text(text):
    names = parse_mentions(text)
    assert len(names) == len(set(names))
    for name in names:
        assert name and "@" not in name and name == name.lower()
        assert f"@{name}" in text.lower()


def test_headlines_read_as_sentences():
    ticket = {
        "key": "DESK-7",
        "title": "Printer on fire",
        "status_name": "In Progress",
        "assignee": "agent",
    }
    assert (
        headline("ticket.moved", {"ticket": ticket, "actor": "lead"})
        == "lead moved DESK-7 to In Progress"
    )
    assert (
        headline("ticket.assigned", {"ticket": ticket, "actor": "lead"})
        == "lead assigned DESK-7 to agent"
    )
    assert (
        headline("ticket.assigned", {"ticket": {**ticket, "assignee": None}, "actor": None})
        == "Someone unassigned DESK-7"
    )
    assert (
        headline(
            "ticket.updated", {"ticket": ticket, "actor": "agent", "changed": ["priority", "tags"]}
        )
        == "agent changed priority, tags of DESK-7"
    )
    assert (
        headline("sla.escalated", {"ticket": ticket, "level": 2})
        == "DESK-7 was escalated to level 2"
    )


def test_docs_events_md_describes_every_kind():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "events.md").read_text()
    for kind in CATALOGUE:
        assert f"| `{kind}` |" in text, kind
