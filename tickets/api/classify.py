"""`POST /api/v1/tickets/classify/`: suggest a category and a priority for a ticket being written."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from config.openapi import errors
from tickets.classification.service import classify_ticket_text
from tickets.models import Priority
from tickets.selectors import get_visible_project


class ClassifyThrottle(UserRateThrottle):
    """Per user: the form may ask as the user types, but not flood a paid model."""

    scope = "classify"

    def get_rate(self) -> str:
        return str(getattr(settings, "CLASSIFY_RATE", "120/min"))


class ClassifyRequestSerializer(serializers.Serializer[Any]):
    project = serializers.CharField(max_length=10)
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    description = serializers.CharField(
        max_length=100_000, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs["title"].strip() or attrs["description"].strip()):
            raise serializers.ValidationError(
                {"description": ["Give a title or a description to classify."]}
            )
        return attrs


ClassifyResponse = inline_serializer(
    "ClassifyResponse",
    {
        "suggested_category": serializers.CharField(),
        "suggested_priority": serializers.ChoiceField(choices=Priority.choices),
        "confidence": serializers.FloatField(),
        "source": serializers.ChoiceField(choices=["gemini", "local", "keywords"]),
        "model_version": serializers.CharField(),
    },
)


class ClassifyView(APIView):
    """Members of the project only (anyone else: 404); the answer never fails for a classifier's fault."""

    throttle_classes = [ClassifyThrottle]

    @extend_schema(
        request=ClassifyRequestSerializer, responses={200: ClassifyResponse, **errors(429)}
    )
    def post(self, request: Request) -> Response:
        data = ClassifyRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        project = get_visible_project(request.user, fields["project"])
        suggestion = classify_ticket_text(
            project=project, title=fields["title"], description=fields["description"]
        )
        return Response(
            {
                "suggested_category": suggestion.category.value,
                "suggested_priority": suggestion.priority.value,
                "confidence": round(suggestion.confidence, 4),
                "source": suggestion.source,
                "model_version": suggestion.model_version,
            }
        )
