"""Every registered model has a working admin list and add page (or refuses adding on purpose)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from tests_support.factories import make_ticket


@pytest.mark.django_db
def test_every_admin_changelist_renders(site_admin, desk):
    ticket = make_ticket(desk["project"], desk["customer"])
    client = Client()
    client.force_login(site_admin)
    models = list(admin.site._registry)
    assert len(models) >= 20
    for model in models:
        opts = model._meta
        response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, (opts.label, response.status_code)
    detail = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    assert detail.status_code == 200
    assert (
        client.get("/admin/tickets/ticket/add/").status_code == 403
    )  # tickets come through the API
