"""The web UI's entry page: every client route answers index.html; the server's paths never do."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client, override_settings

INDEX = b"<!doctype html><title>Helpline</title><div id=root></div>"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_bytes(INDEX)
    return tmp_path


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/", "/login", "/projects/DESK/board", "/tickets/DESK-42", "/nowhere"]
)
def test_client_routes_answer_the_app_uncached_with_a_csrf_cookie(built: Path, path: str) -> None:
    with override_settings(FRONTEND_DIST=built):
        response = Client().get(path)
    assert response.status_code == 200
    assert response.content == INDEX
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/nowhere/", "/static/ui/nowhere.js", "/media/nowhere"])
def test_the_servers_own_paths_are_never_the_app(built: Path, path: str) -> None:
    with override_settings(FRONTEND_DIST=built):
        response = Client().get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_without_a_build_the_page_says_how_to_make_one(tmp_path: Path) -> None:
    with override_settings(FRONTEND_DIST=tmp_path):
        response = Client().get("/projects/DESK/board")
    assert response.status_code == 503
    assert b"make ui" in response.content


@pytest.mark.django_db
def test_the_app_page_takes_no_writes(built: Path) -> None:
    with override_settings(FRONTEND_DIST=built):
        assert Client().get("/login").status_code == 200
        assert Client(enforce_csrf_checks=False).post("/login").status_code == 405
