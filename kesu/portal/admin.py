from django.contrib import admin

from .models import PortalSubmission


@admin.register(PortalSubmission)
class PortalSubmissionAdmin(admin.ModelAdmin):
    """Read-only: what the resident asked for when filing on line."""

    list_display = ["complaint", "anonymous", "preferred_contact", "created_at"]
    list_filter = ["anonymous", "preferred_contact"]
    search_fields = ["complaint__number"]
    readonly_fields = ["complaint", "user", "key", "anonymous", "preferred_contact", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
