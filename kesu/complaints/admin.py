from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from kesu.org.admin import ReadOnlyAdmin

from .models import Attachment, Callback, Category, Complaint, ComplaintEvent, SlaPolicy
from .scope import visible_complaints


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["order", "code", "name", "description", "is_active"]
    list_display_links = ["code"]
    list_editable = ["order", "is_active"]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "forward_minutes",
        "report_minutes",
        "resolve_hours",
        "resolve_in_working_hours",
        "callback_hours",
        "callback_onsite_required",
        "callback_by",
        "escalate_director_minutes",
        "escalate_company_minutes",
        "escalate_executive_minutes",
    ]
    list_filter = ["severity", "office"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = ComplaintEvent
    readonly_fields = fields = (
        "at",
        "type",
        "actor",
        "from_status",
        "to_status",
        "note",
        "visibility",
        "changes",
    )


class CallbackInline(ReadOnlyInline):
    model = Callback
    readonly_fields = fields = ("at", "by", "method", "satisfaction", "words", "confirmed")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    readonly_fields = fields = ("original_name", "kind", "content_type", "size", "uploaded_by", "uploaded_at")


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    """Read-only in the admin: complaints change only through the lifecycle (services.py)."""

    list_display = ["number", "office", "status", "channel", "received_at", "nature", "severity", "category"]
    list_filter = ["status", "nature", "severity", "channel", "category", "office"]
    search_fields = ["number", "content"]
    date_hierarchy = "received_at"
    inlines = [EventInline, CallbackInline, AttachmentInline]
    list_select_related = ["office", "category"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Complaint]:
        return visible_complaints(super().get_queryset(request), request.user)  # type: ignore[arg-type]
