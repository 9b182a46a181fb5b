"""The web UI in a real browser (Debian's Chromium through Python Playwright) against a real desk:
gunicorn serving the API and the built app, uvicorn the sockets, a Celery worker, all on the test
database and the suite's Redis. Build the app first (`make ui`; `make test` does)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

from tests_support.factories import make_project, make_ticket, make_user
from tests_support.live import (
    ROOT,
    celery_worker,
    free_port,
    gunicorn_server,
    process_env,
    stop,
    wait_for_port,
)

# Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous ones (Django's documented escape hatch).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
# The shared 2-core machine runs several suites at once: waits are for correctness, not speed
# (latency targets live in bench/bench_ui.py; tests assert no timings).
expect.set_options(timeout=30_000)
SCREENSHOTS = ROOT / "docs" / "screenshots"

# Fast heartbeats and short-lived presence so the live behaviour shows within a test.
LIVE_ENV = {
    "BOARD_HEARTBEAT_SECONDS": "1",
    "BOARD_PRESENCE_TTL_SECONDS": "3",
    "BOARD_INDICATOR_TTL_SECONDS": "15",
}


def channels_prefix() -> str:
    """Pub/sub ignores the Redis database number: keep this suite's pushes to itself."""
    return f"helpline-ui-{settings.REDIS_URL.rsplit('/', 1)[-1]}"


class SocketServer:
    """uvicorn for the sockets on a fixed port, so a test can kill it and start it again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"ws://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(ROOT / ".data" / f"uvicorn-ui-{self.port}.log", "ab")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "uvicorn"),
                "config.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--ws-per-message-deflate",
                "false",
            ],
            cwd=ROOT,
            env=process_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        try:
            wait_for_port(self.port, self.proc, timeout=120)
        except BaseException:
            self.stop()  # never leave a server behind a failed start
            raise

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGKILL)
            self.proc = None


@dataclass
class Desk:
    url: str
    sockets: SocketServer


def warm_up(base: str) -> None:
    """Both gunicorn workers have served the app and its script before the first test's page."""
    import httpx

    index = httpx.get(f"{base}/login", timeout=120)
    script = re.search(r'src="(/static/ui/assets/[^"]+)"', index.text)
    for _ in range(4):
        httpx.get(f"{base}/api/v1/meta/", timeout=120)
        if script:
            httpx.get(f"{base}{script.group(1)}", timeout=120)


# Package scope: the live desk (and its Celery worker, which would otherwise take tasks queued by
# later packages' tests from the same broker) stops when the browser tests are done.
@pytest.fixture(scope="package")
def desk(django_db_setup: None, django_db_blocker: Any) -> Iterator[Desk]:
    if not (ROOT / "frontend" / "dist" / "index.html").exists():
        pytest.fail("frontend/dist is missing: build the UI first (make ui)")
    env = {**LIVE_ENV, "CHANNELS_PREFIX": channels_prefix()}
    sockets = SocketServer(env)
    with django_db_blocker.unblock():
        sockets.start()
        try:
            api_server = gunicorn_server(workers=2, WS_PUBLIC_URL=sockets.url, **env)
            with api_server as api, celery_worker(concurrency=1, queue=None, **env):
                warm_up(api)
                yield Desk(url=api, sockets=sockets)
        finally:
            sockets.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        warm = browser.new_page()  # the first page of a cold browser is the slowest
        warm.goto("about:blank")
        warm.close()
        yield browser
        browser.close()


# Chromium logs every 4xx response as "Failed to load resource"; those are answers the app handles
# (401 from /me/ before sign-in, 400 for a wrong password, 409 for a refused move), not app errors.
CLIENT_ERROR_LOG = re.compile(
    r"^Failed to load resource: the server responded with a status of 4\d\d"
)


@dataclass
class Console:
    """Console errors and uncaught exceptions of every page of a context (there must be none)."""

    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def listen(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def unexpected(self) -> list[str]:
        return [
            e
            for e in self.errors
            if not any(a in e for a in self.allowed) and not CLIENT_ERROR_LOG.search(e)
        ]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def new_context(browser: Browser, desk: Desk, console: Console) -> Iterator[Any]:
    """Open browser contexts (one per person); each page's console errors fail the test."""
    contexts: list[BrowserContext] = []

    def open_context(*, dark: bool = False) -> BrowserContext:
        context = browser.new_context(
            base_url=desk.url,
            viewport={"width": 1440, "height": 900},
            color_scheme="dark" if dark else "light",
            reduced_motion="reduce",
        )
        context.on("page", console.listen)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
    assert console.unexpected() == []


def sign_in_cookie(context: BrowserContext, desk: Desk, user: Any) -> None:
    """A session for `user` without the sign-in page (tests of other pages)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": desk.url}]
    )


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@dataclass
class Team:
    project: Any
    ann: Any
    bob: Any
    admin: Any
    tickets: list[Any]


@pytest.fixture
def team(transactional_db: None) -> Team:
    """Project DESK: Ann and Bob (agents), a site admin, and six tickets in To Do."""
    project = make_project("DESK", name="Service Desk")
    ann = make_user("ann", project=project, role="agent", full_name="Ann Agent")
    bob = make_user("bob", project=project, role="agent", full_name="Bob Builder")
    admin = make_user(
        "root", project=project, role="admin", full_name="Rita Root", is_superuser=True
    )
    titles = [
        "Printer on fire",
        "VPN drops every hour",
        "Refund for order 1182",
        "Password reset loop",
        "Invoice shows wrong VAT",
        "Laptop will not boot",
    ]
    tickets = [make_ticket(project, ann, title=title) for title in titles]
    return Team(project=project, ann=ann, bob=bob, admin=admin, tickets=tickets)


def signed_in_page(new_context: Any, desk: Desk, user: Any, path: str, **context: Any) -> Page:
    """A new browser context signed in as `user`, on `path`."""
    browser_context = new_context(**context)
    sign_in_cookie(browser_context, desk, user)
    page: Page = browser_context.new_page()
    page.goto(path)
    return page


def open_board(new_context: Any, desk: Desk, user: Any, project: str = "DESK") -> Page:
    """`user`'s browser on the project's board, once its socket says Live."""
    page = signed_in_page(new_context, desk, user, f"/projects/{project}/board")
    try:
        expect(page.locator(".connection")).to_have_text(re.compile("Live"), timeout=30_000)
    except AssertionError as failure:
        page.screenshot(path=str(ROOT / ".data" / "open-board-failure.png"))
        body = page.locator("body").inner_text()[:500]
        raise AssertionError(f"{failure}\nat {page.url}: {body!r}") from None
    return page
