"""`GET /api/v1/tickets/by-key/{KEY}/` (e.g. `DESK-42`): the ticket page's URL holds the key."""

from __future__ import annotations

import re

from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import NotFound
from tickets.api.serializers import TicketSerializer
from tickets.models import Ticket
from tickets.selectors import visible_ticket, visible_tickets

MAX_NUMBER = 2**31 - 1  # Ticket.number is a PostgreSQL integer
KEY = re.compile(r"^([A-Z]{2,10})-([1-9][0-9]{0,9})$")


class TicketByKeyView(GenericAPIView[Ticket]):
    """The same body as `GET tickets/{id}/`; a key the caller may not see (or malformed) is 404."""

    serializer_class = TicketSerializer

    def get(self, request: Request, key: str) -> Response:
        match = KEY.match(key)
        if match is None or int(match[2]) > MAX_NUMBER:
            raise NotFound("No such ticket.")
        ticket_id = (
            visible_tickets(request.user)
            .filter(project__key=match[1], number=int(match[2]))
            .values_list("id", flat=True)
            .first()
        )
        if ticket_id is None:
            raise NotFound("No such ticket.")
        return Response(TicketSerializer(visible_ticket(request.user, ticket_id)).data)
