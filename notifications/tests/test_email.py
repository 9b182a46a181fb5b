"""E-mail notifications through Django's SMTP backend to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import time

import pytest
from django.test import override_settings
from django.utils import timezone

from notifications.email import send_email
from notifications.models import EmailDelivery
from notifications.tests.smtp_sink import smtp_server
from tests_support.factories import make_ticket
from tests_support.live import free_port
from tickets.services.conversation import add_message
from tickets.services.tickets import assign_ticket

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def send(email_id: int) -> tuple[str, float | None]:
    """One send that is expected to happen (not a no-op)."""
    result = send_email(email_id)
    assert result is not None, "the e-mail was not due or not pending"
    return result


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def smtp(port):
    with (
        smtp_server(port) as sink,
        override_settings(
            EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_TIMEOUT=2
        ),
    ):
        yield sink


@pytest.fixture
def ticket(desk):
    created = make_ticket(desk["project"], desk["customer"], title="Printer on fire")
    assign_ticket(actor=desk["lead"], ticket_id=created.pk, assignee=desk["agent"])
    EmailDelivery.objects.all().delete()
    return created


def _parts(message):
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


@pytest.mark.django_db
def test_a_reply_is_mailed_as_text_and_html_once(desk, ticket, smtp):
    add_message(
        actor=desk["agent"], ticket_id=ticket.pk, body="Replace the toner <b>now</b>, please."
    )
    row = EmailDelivery.objects.get()
    assert (row.user_id, row.to_email) == (desk["customer"].pk, "customer@example.com")

    assert send(row.pk) == ("succeeded", None)
    [accepted] = smtp.wait_for(1)
    assert accepted.rcpt_tos == ["customer@example.com"]
    message = accepted.message
    assert message["Subject"] == f"[DESK-{ticket.number}] agent replied on DESK-{ticket.number}"
    assert message["To"] == "customer@example.com"
    assert message["From"] == "Helpline <helpdesk@localhost>"
    assert message["Message-ID"] == f"<{row.event_id}.{row.user_id}@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert set(parts) == {"text/plain", "text/html"}
    assert "Replace the toner <b>now</b>, please." in parts["text/plain"]
    assert f"DESK-{ticket.number}: Printer on fire" in parts["text/plain"]
    # The HTML part escapes what people typed.
    assert "Replace the toner &lt;b&gt;now&lt;/b&gt;, please." in parts["text/html"]
    assert "<b>now</b>" not in parts["text/html"]

    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("succeeded", 1, "")
    assert row.sent_at is not None
    # A second run of the same task sends nothing. The sink stores a message before it answers
    # 250, so one sent by that run would be here already, no waiting needed.
    assert send_email(row.pk) is None
    assert len(smtp.messages) == 1
    # Positive control: the same row made pending again is sent, and is here at once.
    EmailDelivery.objects.filter(pk=row.pk).update(status="pending")
    assert send(row.pk) == ("succeeded", None)
    assert len(smtp.messages) == 2


@pytest.mark.django_db
def test_an_smtp_outage_schedules_a_retry_then_the_mail_goes_out(desk, ticket, port):
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Any luck?")
    row = EmailDelivery.objects.get()
    settings = {
        "EMAIL_BACKEND": SMTP,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_TIMEOUT": 2,
    }
    with override_settings(**settings):
        outcome, retry_in = send(row.pk)  # nothing listens yet
    assert outcome == "retry" and retry_in is not None and 22.5 <= retry_in <= 37.5  # 30 s +- 25 %
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error
    assert send_email(row.pk) is None  # not due yet
    EmailDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    with smtp_server(port) as sink, override_settings(**settings):
        assert send(row.pk) == ("succeeded", None)
        assert [m.rcpt_tos for m in sink.wait_for(1)] == [["customer@example.com"]]


@pytest.mark.django_db
@override_settings(NOTIFICATION_EMAIL_MAX_ATTEMPTS=2)
def test_the_last_attempt_gives_up(desk, ticket, port):
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Any luck?")
    row = EmailDelivery.objects.get()
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port):
        assert send(row.pk)[0] == "retry"
        EmailDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert send(row.pk) == ("failed", None)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)


# --- end to end: the write path, a real worker, a real SMTP server ------------------------------


@pytest.fixture(scope="module")
def mail_worker(django_db_setup):
    """One real worker for this module's end-to-end tests, mailing to a port of the test's choice."""
    from tests_support.live import celery_worker

    port = free_port()
    with celery_worker(
        EMAIL_BACKEND=SMTP,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        NOTIFICATION_EMAIL_RETRY_BASE_SECONDS="0.5",
    ):
        yield port


def _wait_until(predicate, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_mails_each_recipient_once_and_never_mails_an_internal_note(
    desk, mail_worker
):
    ticket = make_ticket(desk["project"], desk["customer"], title="VPN down")
    with smtp_server(mail_worker) as sink:
        assign_ticket(actor=desk["lead"], ticket_id=ticket.pk, assignee=desk["agent"])
        assignment_mails = sink.wait_for(2)
        assert sorted(m.rcpt_tos[0] for m in assignment_mails) == [
            "agent@example.com",
            "customer@example.com",
        ]
        add_message(
            actor=desk["lead"],
            ticket_id=ticket.pk,
            body="@customer is a VIP, handle with care",
            internal=True,
        )
        add_message(actor=desk["lead"], ticket_id=ticket.pk, body="We are on it.")
        sink.wait_for(4)
        # The worker records each send after the SMTP server accepted it.
        _wait_until(
            lambda: not EmailDelivery.objects.exclude(status="succeeded").exists(),
            "the sends to be recorded",
        )
        mails = list(sink.messages)
    assert len(mails) == 4
    replies = mails[2:]
    assert sorted(m.rcpt_tos[0] for m in replies) == ["agent@example.com", "customer@example.com"]
    for m in mails:
        assert "VIP" not in m.message.as_string()
    assert set(EmailDelivery.objects.values_list("kind", "status")) == {
        ("ticket.assigned", "succeeded"),
        ("ticket.commented", "succeeded"),
    }
    assert EmailDelivery.objects.count() == 4


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_while_smtp_is_down_and_delivers_when_it_is_back(desk, mail_worker):
    ticket = make_ticket(desk["project"], desk["customer"], title="VPN down")
    add_message(actor=desk["agent"], ticket_id=ticket.pk, body="Back soon")
    _wait_until(lambda: EmailDelivery.objects.filter(attempts__gte=1).exists(), "a first try")
    assert EmailDelivery.objects.get().status == "pending"
    with smtp_server(mail_worker) as sink:
        [accepted] = sink.wait_for(1)
        _wait_until(
            lambda: EmailDelivery.objects.filter(status="succeeded").exists(),
            "the send to be recorded",
        )
    assert accepted.rcpt_tos == ["customer@example.com"]
    row = EmailDelivery.objects.get()
    assert row.status == "succeeded" and row.attempts >= 2
    assert len(sink.messages) == 1
