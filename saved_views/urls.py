from django.urls import URLPattern, URLResolver, path

from saved_views import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("saved-views/", api.SavedViewListView.as_view(), name="saved-view-list"),
    path("saved-views/<int:view_id>/", api.SavedViewDetailView.as_view(), name="saved-view-detail"),
]
