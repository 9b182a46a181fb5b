from django.urls import path

from tickets.api import people

urlpatterns = [
    path("auth/token/", people.TokenView.as_view(), name="auth-token"),
    path("me/", people.MeView.as_view(), name="me"),
    path("users/", people.UserListView.as_view(), name="user-list"),
    path("users/<str:username>/", people.UserDetailView.as_view(), name="user-detail"),
]
