from django.contrib import admin

from .models import Outbox


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "channel", "user", "complaint", "state", "attempts", "last_error"]
    list_filter = ["state", "channel", "kind"]
    search_fields = ["delivery_key", "complaint__number", "subject"]
    readonly_fields = [f.name for f in Outbox._meta.fields]

    def has_add_permission(self, request):
        return False
