"""`GET|POST /api/v1/saved-views/`, `GET|PATCH|DELETE /api/v1/saved-views/{id}/`: the caller's own."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.pagination import cursor_pagination
from saved_views import services
from saved_views.models import SavedView


class SavedViewSerializer(serializers.ModelSerializer[SavedView]):
    """Input: `query` is a query string (`status=new,open&q=x`) or an object of ticket filters;
    `project` a project key or null. Output: the normalised filters and their query string."""

    query = serializers.JSONField()
    project = serializers.CharField(max_length=10, allow_null=True, required=False)
    query_string = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "project", "query", "query_string", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        # The owner-name uniqueness is the service's to report (with the field's message).
        validators: list[Any] = []

    def get_query_string(self, view: SavedView) -> str:
        return services.query_string(view.query)

    def to_representation(self, view: SavedView) -> dict[str, Any]:
        data = super().to_representation(view)
        data["project"] = view.project.key if view.project_id and view.project else None
        return data


class SavedViewListView(GenericAPIView[SavedView]):
    serializer_class = SavedViewSerializer
    pagination_class = cursor_pagination("name", "id")

    @extend_schema(
        operation_id="v1_saved_views_list",
        parameters=[
            OpenApiParameter(
                "project", str, description="Only views of this project key, and those of none"
            )
        ],
    )
    def get(self, request: Request) -> Response:
        qs = SavedView.objects.filter(owner_id=request.user.pk).select_related("project")
        key = request.query_params.get("project")
        if key:
            qs = qs.filter(project__key=key) | qs.filter(project__isnull=True)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(SavedViewSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = SavedViewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        view = services.create_saved_view(
            actor=request.user,
            name=fields["name"],
            query=fields["query"],
            project=fields.get("project"),
        )
        return Response(SavedViewSerializer(view).data, status=http.HTTP_201_CREATED)


class SavedViewDetailView(GenericAPIView[SavedView]):
    serializer_class = SavedViewSerializer

    def get(self, request: Request, view_id: int) -> Response:
        view = services.get_own_view(actor=request.user, view_id=view_id)
        return Response(SavedViewSerializer(view).data)

    def patch(self, request: Request, view_id: int) -> Response:
        services.get_own_view(actor=request.user, view_id=view_id)
        data = SavedViewSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        view = services.update_saved_view(
            actor=request.user, view_id=view_id, changes=dict(data.validated_data)
        )
        return Response(SavedViewSerializer(view).data)

    def delete(self, request: Request, view_id: int) -> Response:
        services.delete_saved_view(actor=request.user, view_id=view_id)
        return Response(status=http.HTTP_204_NO_CONTENT)
