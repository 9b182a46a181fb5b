"""People: the caller, site-admin user management (signing in is in `signin.py`)."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.password_validation import validate_password
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import errors
from config.pagination import cursor_pagination
from tickets.models import Membership, User
from tickets.permissions import IsSiteAdmin
from tickets.services.people import create_user, update_user


class MembershipSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.key")
    project_name = serializers.CharField(source="project.name")

    class Meta:
        model = Membership
        fields = ["project", "project_name", "role"]


class UserSerializer(serializers.ModelSerializer):
    password = serializers.CharField(
        write_only=True, required=True, max_length=256, trim_whitespace=False
    )
    email = serializers.EmailField(required=False, allow_blank=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "full_name",
            "is_active",
            "is_superuser",
            "date_joined",
            "password",
        ]
        read_only_fields = ["id", "is_superuser", "date_joined"]

    def validate_password(self, value: str) -> str:
        validate_password(value)
        return value


class UserUpdateSerializer(UserSerializer):
    password = serializers.CharField(
        write_only=True, required=False, max_length=256, trim_whitespace=False
    )

    class Meta(UserSerializer.Meta):
        read_only_fields = ["id", "username", "is_superuser", "date_joined"]


class MeSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "email", "full_name", "is_superuser", "memberships"]


def me_payload(user: User) -> dict[str, Any]:
    """The caller as `GET me/` (and signing in) answers: built by hand, this endpoint is hot and
    ModelSerializer builds its fields per request."""
    memberships = (
        Membership.objects.filter(user=user).select_related("project").order_by("project__key")
    )
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "is_superuser": user.is_superuser,
        "memberships": [
            {"project": m.project.key, "project_name": m.project.name, "role": m.role}
            for m in memberships
        ],
    }


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(me_payload(cast(User, request.user)))


@extend_schema_view(post=extend_schema(responses={201: UserSerializer, **errors(409)}))
class UserListView(generics.ListCreateAPIView):
    permission_classes = [IsAuthenticated, IsSiteAdmin]
    serializer_class = UserSerializer
    queryset = User.objects.all()
    pagination_class = cursor_pagination("username")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = UserSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = create_user(actor=request.user, **data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserDetailView(generics.RetrieveUpdateAPIView):
    permission_classes = [IsAuthenticated, IsSiteAdmin]
    serializer_class = UserUpdateSerializer
    queryset = User.objects.all()
    lookup_field = "username"
    http_method_names = ["get", "patch", "head", "options"]

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        data = UserUpdateSerializer(user, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = update_user(actor=request.user, user=user, changes=dict(data.validated_data))
        return Response(UserUpdateSerializer(user).data)
