"""`manage.py export_tickets --project KEY --format csv -o FILE`: an operator's export, with a progress bar.

Streams exactly like an export job (COPY through the same writers), but to a local file and as
the system: every ticket of the project that the filters keep, never internal notes.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from config.api import InvalidInput
from exports.columns import COLUMNS, DEFAULT_FIELDS, unknown_fields
from exports.conf import export_setting
from exports.selectors import copy_plan, export_tickets
from exports.streaming import open_export_connection, stream_rows
from exports.writers import make_writer, stream_encoded_export
from tickets.audit import record_audit
from tickets.filters import parse_ticket_filters
from tickets.models import Project

PART_SIZE = 1024 * 1024


class Command(BaseCommand):
    help = "Export a project's tickets to a CSV or JSONL file (the same format as export jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", required=True, help="Project key, e.g. DESK.")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("-o", "--output", required=True, help="File to write ('-': stdout).")
        parser.add_argument(
            "--fields",
            default=",".join(DEFAULT_FIELDS),
            help=f"Comma-separated columns, from: {', '.join(COLUMNS)}.",
        )
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A ticket-list filter (repeatable), e.g. --filter status=open,new.",
        )
        parser.add_argument("--bom", action="store_true", help="CSV only: start with a UTF-8 BOM.")
        parser.add_argument("--as-of", help="Only tickets created up to this ISO instant.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.filter(key=options["project"]).first()
        if project is None:
            raise CommandError(f"No project {options['project']!r}.")
        fields = tuple(name.strip() for name in options["fields"].split(",") if name.strip())
        unknown = unknown_fields(fields)
        if unknown or not fields:
            raise CommandError(f"Unknown or missing fields: {', '.join(unknown) or '(none)'}.")
        raw_filters = dict(self._pair(item) for item in options["filter"])
        if "me" in (raw_filters.get("assignee"), raw_filters.get("requester")):
            raise CommandError("'me' means nobody here: the command runs as the system.")
        try:
            filters = parse_ticket_filters(raw_filters)
            writer = make_writer(options["format"], fields, bom=options["bom"])
        except (InvalidInput, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        as_of = timezone.now()
        if options["as_of"]:
            parsed = parse_datetime(options["as_of"])
            if parsed is None or timezone.is_naive(parsed):
                raise CommandError("--as-of needs an ISO date-time with a time zone.")
            as_of = parsed
        tickets = export_tickets(user=None, project=project, filters=filters, as_of=as_of)
        plan = copy_plan(
            tickets, project=project, fmt=options["format"], fields=fields, filters=filters
        )
        record_audit(
            actor=None,
            action="export.requested",
            project_id=project.pk,
            new={
                "source": "manage.py export_tickets",
                "format": options["format"],
                "fields": list(fields),
                "filters": filters.as_json(),
                "as_of": as_of,
                "output": options["output"],
            },
        )
        result, rows = self._run(plan, writer, options)
        self.stderr.write(
            f"Wrote {rows} tickets, {result.size} bytes, sha256 {result.sha256} "
            f"to {options['output']}."
        )

    @staticmethod
    def _pair(item: str) -> tuple[str, str]:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CommandError(f"--filter takes NAME=VALUE, got {item!r}.")
        return name.strip(), value

    def _run(self, plan: Any, writer: Any, options: dict[str, Any]) -> tuple[Any, int]:
        with ExitStack() as stack:
            out: BinaryIO
            if options["output"] == "-":
                out = sys.stdout.buffer
            else:
                out = stack.enter_context(Path(options["output"]).open("wb"))
            bar = stack.enter_context(
                tqdm(
                    unit="rows",
                    unit_scale=True,
                    disable=options["no_progress"],
                    # The raw stream: Django's wrapper would end each redraw with a newline.
                    file=getattr(self.stderr, "_out", sys.stderr),
                    desc=options["project"],
                )
            )
            done = 0

            def on_total(total: int) -> None:
                bar.reset(total=total)

            def on_rows(rows: int) -> None:
                nonlocal done
                bar.update(rows - done)
                done = rows

            conn = stack.enter_context(open_export_connection())
            chunks = stream_rows(
                conn,
                plan,
                fmt=options["format"],
                on_total=on_total,
                on_rows=on_rows,
                sessions=int(export_setting("EXPORT_PARALLEL_SESSIONS")),
                parallel_min_rows=int(export_setting("EXPORT_PARALLEL_MIN_ROWS")),
            )
            stream = stream_encoded_export(writer, chunks, PART_SIZE)
            for part in stream:
                out.write(part)
            out.flush()
            return stream.result, done
