from django.contrib import admin

from saved_views.models import SavedView


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "project", "updated_at")
    search_fields = ("name", "owner__username")
    list_select_related = ("owner", "project")
    raw_id_fields = ("owner", "project")
