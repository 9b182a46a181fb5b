"""The OpenAPI schema is exact: the web UI's TypeScript types are generated from it.

The same validation `make test` runs (`manage.py spectacular --validate --fail-on-warn`), then
the facts a generated client depends on: paginated lists with their filters, the real status
codes, the error envelope on every operation, stable enum names, unique operation ids.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests_support.live import ROOT, process_env

ERROR_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
PAGE = ["cursor", "page_size"]
TICKET_FILTERS = [
    "archived",
    "assignee",
    "category",
    "created_after",
    "created_before",
    "ordering",
    "priority",
    "project",
    "q",
    "requester",
    "sla_state",
    "status",
    "status_category",
    "tag",
]


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Generated and validated exactly as `make test` does; warnings fail it."""
    out = Path(tmp_path_factory.mktemp("schema")) / "schema.json"
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--format",
            "openapi-json",
            "--file",
            str(out),
        ],
        cwd=ROOT,
        env=process_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr, result.stderr[-3000:]
    return dict(json.loads(out.read_text()))


def op(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(schema["paths"][f"/api/v1/{path}"][method])


def success_codes(operation: dict[str, Any]) -> list[str]:
    return sorted(code for code in operation["responses"] if code < "400")


def body_ref(operation: dict[str, Any], code: str) -> Any:
    return operation["responses"][code]["content"]["application/json"]["schema"]


def query_names(operation: dict[str, Any]) -> list[str]:
    return sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "query")


def test_operation_ids_are_unique_and_never_numbered(schema):
    ids = [o["operationId"] for ops in schema["paths"].values() for o in ops.values()]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i[-2:] in {f"_{n}" for n in range(2, 10)}] == []
    assert op(schema, "get", "tickets/")["operationId"] == "v1_tickets_list"
    assert op(schema, "get", "tickets/{ticket_id}/")["operationId"] == "v1_tickets_retrieve"


def test_the_error_envelope_is_a_component(schema):
    components = schema["components"]["schemas"]
    envelope = components["ErrorEnvelope"]
    assert envelope["type"] == "object"
    assert envelope["properties"] == {"error": {"$ref": "#/components/schemas/Error"}}
    assert envelope["required"] == ["error"]
    error = components["Error"]
    assert error["required"] == ["code", "details", "message", "request_id"]
    assert error["properties"]["code"] == {"type": "string"}
    assert error["properties"]["message"] == {"type": "string"}
    assert error["properties"]["details"] == {"type": "object", "additionalProperties": {}}
    assert error["properties"]["request_id"] == {"type": "string", "nullable": True}


def test_every_operation_documents_its_errors_with_the_envelope(schema):
    for path, ops in schema["paths"].items():
        for method, operation in ops.items():
            # Any operation can fail unexpectedly (500): `default` says how that looks.
            errors = {c: r for c, r in operation["responses"].items() if c >= "400"}
            assert "default" in errors, f"{method} {path} has no default error response"
            for code, response in errors.items():
                assert response["content"] == {"application/json": {"schema": ERROR_REF}}, (
                    method,
                    path,
                    code,
                )
    # Authenticated operations say 401; the public ones do not.
    assert "401" in op(schema, "get", "me/")["responses"]
    assert "401" not in op(schema, "get", "meta/")["responses"]
    assert "401" not in op(schema, "post", "auth/session/")["responses"]
    # Path parameters can miss; inputs can be invalid.
    assert "404" in op(schema, "get", "tickets/{ticket_id}/")["responses"]
    assert "404" not in op(schema, "get", "me/")["responses"]
    assert "400" in op(schema, "get", "tickets/")["responses"]
    assert "400" in op(schema, "post", "tickets/")["responses"]
    assert "400" not in op(schema, "get", "me/")["responses"]


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("patch", "tickets/{ticket_id}/move/", {"400", "401", "403", "404", "409"}),
        ("get", "projects/{key}/events/", {"400", "401", "403", "404", "410"}),
        ("post", "tickets/{ticket_id}/attachments/", {"400", "401", "403", "404", "413"}),
        ("post", "auth/session/", {"400", "403", "429"}),
        ("post", "auth/token/", {"400", "429"}),
        ("post", "tickets/classify/", {"400", "401", "403", "429"}),
        ("delete", "statuses/{key}/", {"401", "403", "404", "409"}),
        ("post", "users/", {"400", "401", "403", "409"}),
    ],
)
def test_domain_errors_are_listed(schema, method, path, codes):
    operation = op(schema, method, path)
    assert {c for c in operation["responses"] if "400" <= c < "600"} == codes


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("get", "auth/csrf/", ["204"]),
        ("post", "auth/session/", ["200"]),
        ("delete", "auth/session/", ["204"]),
        ("post", "projects/", ["201"]),
        ("post", "projects/{key}/members/", ["201"]),
        ("delete", "projects/{key}/members/{username}/", ["204"]),
        ("post", "projects/{key}/columns/", ["201"]),
        ("delete", "projects/{key}/columns/{column_id}/", ["204"]),
        ("post", "statuses/", ["201"]),
        ("post", "tickets/", ["201"]),
        ("delete", "tickets/{ticket_id}/", ["204"]),
        ("post", "tickets/{ticket_id}/messages/", ["201"]),
        ("post", "tickets/{ticket_id}/attachments/", ["201"]),
        ("delete", "tickets/{ticket_id}/watch/", ["204"]),
        ("get", "attachments/{attachment_id}/download/", ["302"]),
        ("get", "attachments/file/{token}/", ["200"]),
        ("post", "exports/", ["202"]),
        ("get", "exports/{export_id}/download/", ["200", "302"]),
        ("post", "calendars/", ["201"]),
        ("post", "users/", ["201"]),
    ],
)
def test_status_codes_are_the_real_ones(schema, method, path, codes):
    assert success_codes(op(schema, method, path)) == codes


def test_redirects_name_their_location(schema):
    redirect = op(schema, "get", "attachments/{attachment_id}/download/")["responses"]["302"]
    assert set(redirect["headers"]) == {"Location"}
    assert "content" not in redirect
    accepted = op(schema, "post", "exports/")["responses"]["202"]
    assert set(accepted["headers"]) == {"Location"}
    assert body_ref(op(schema, "post", "exports/"), "202") == {
        "$ref": "#/components/schemas/ExportJob"
    }
    download = op(schema, "get", "attachments/file/{token}/")["responses"]["200"]
    assert download["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }


@pytest.mark.parametrize(
    ("path", "item", "filters"),
    [
        ("tickets/", "Ticket", TICKET_FILTERS),
        ("projects/", "Project", []),
        ("projects/{key}/members/", "Member", []),
        ("projects/{key}/columns/{column_id}/tickets/", "Ticket", []),
        ("tickets/{ticket_id}/messages/", "Message", []),
        ("tickets/{ticket_id}/watchers/", "Watcher", []),
        ("tickets/{ticket_id}/audit/", "Audit", []),
        ("tickets/{ticket_id}/attachments/", "Attachment", []),
        ("exports/", "ExportJob", []),
        ("users/", "User", []),
        ("notifications/", "Notification", ["unread"]),
        ("calendars/", "Calendar", []),
    ],
)
def test_lists_are_paginated_with_their_filters(schema, path, item, filters):
    operation = op(schema, "get", path)
    assert operation["operationId"].endswith("_list")
    assert query_names(operation) == sorted([*PAGE, *filters])
    page_ref = body_ref(operation, "200")["$ref"]
    page = schema["components"]["schemas"][page_ref.rsplit("/", 1)[-1]]
    assert page["required"] == ["results"]
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert page["properties"]["results"] == {
        "type": "array",
        "items": {"$ref": f"#/components/schemas/{item}"},
    }
    assert page["properties"]["next"]["nullable"] is True


def test_unpaginated_lists_are_arrays(schema):
    for path, item in [("statuses/", "Status"), ("projects/{key}/columns/", "Column")]:
        operation = op(schema, "get", path)
        assert operation["operationId"].endswith("_list")
        assert query_names(operation) == []
        assert body_ref(operation, "200") == {
            "type": "array",
            "items": {"$ref": f"#/components/schemas/{item}"},
        }


def test_the_ticket_filters_are_typed(schema):
    params = {p["name"]: p for p in op(schema, "get", "tickets/")["parameters"]}
    assert params["priority"]["schema"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
    }
    assert params["priority"]["explode"] is False and params["priority"]["style"] == "form"
    assert params["created_after"]["schema"] == {"type": "string", "format": "date-time"}
    assert params["archived"]["schema"] == {"type": "string", "enum": ["all", "false", "true"]}
    orderings = ["created_at", "updated_at", "priority", "rank", "sla_due_at"]
    assert params["ordering"]["schema"]["enum"] == sorted(
        [*orderings, *(f"-{o}" for o in orderings)]
    )


def test_the_board_and_stats_have_their_own_shapes(schema):
    components = schema["components"]["schemas"]
    board = op(schema, "get", "projects/{key}/board/")
    assert body_ref(board, "200") == {"$ref": "#/components/schemas/Board"}
    assert set(components["Board"]["properties"]) == {"project", "seq", "columns"}
    column = components["BoardColumn"]["properties"]
    assert column["tickets"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Ticket"},
        "readOnly": True,
    }
    assert column["next"]["nullable"] is True
    stats = op(schema, "get", "stats/")
    # Every ticket-list filter applies to the stats (issue 17's dashboard).
    assert query_names(stats) == sorted(TICKET_FILTERS)
    assert body_ref(stats, "200") == {"$ref": "#/components/schemas/Stats"}
    assert {"total_tickets", "open_tickets", "sla"} <= set(components["Stats"]["properties"])
    bulk = op(schema, "post", "tickets/bulk/")
    assert body_ref(bulk, "200") == {"$ref": "#/components/schemas/BulkResult"}


def test_enum_names_are_stable(schema):
    components = schema["components"]["schemas"]
    enums = {name: c["enum"] for name, c in components.items() if "enum" in c}
    assert enums == {
        "RoleEnum": ["customer", "agent", "lead", "manager", "admin"],
        "StaffRoleEnum": ["agent", "lead", "manager", "admin"],
        "PriorityEnum": ["low", "medium", "high", "critical"],
        "StatusCategoryEnum": ["todo", "in_progress", "done"],
        "SlaStateEnum": ["on_track", "near_breach", "breached", "paused", "met", "no_sla"],
        "ClassifierSourceEnum": ["gemini", "local", "keywords"],
        "BulkActionEnum": ["assign", "set_status", "set_priority", "archive"],
        "ExportFormatEnum": ["csv", "jsonl"],
        "ExportStatusEnum": ["pending", "running", "succeeded", "failed", "expired"],
        "DeliveryStatusEnum": ["pending", "succeeded", "failed"],
        "WebhookEventEnum": [
            "ticket.created",
            "ticket.updated",
            "ticket.moved",
            "ticket.assigned",
            "ticket.commented",
            "ticket.resolved",
            "ticket.archived",
            "sla.warning",
            "sla.breached",
            "sla.escalated",
            "export.succeeded",
            "export.failed",
            "*",
        ],
        "TriageDecisionEnum": ["applied", "dismissed"],
    }


def test_the_session_endpoints_are_described(schema):
    session = op(schema, "post", "auth/session/")
    assert body_ref(session, "200") == {"$ref": "#/components/schemas/Me"}
    request = session["requestBody"]["content"]["application/json"]["schema"]
    assert request == {"$ref": "#/components/schemas/CredentialsRequest"}
    assert op(schema, "get", "auth/csrf/")["responses"]["204"] == {
        "description": "The csrftoken cookie is set."
    }
