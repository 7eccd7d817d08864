from django import forms
from django.contrib import admin, messages
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from kesu.org.admin import ReadOnlyAdmin

from . import outbound
from .messages import DEFAULTS, VARIABLES
from .models import Escalation, MessageTemplate, NotificationPreference, OfficeChannel, Outbox


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "channel",
        "recipient",
        "complaint",
        "state",
        "attempts",
        "last_error",
    ]
    list_filter = ["state", "channel", "kind"]
    search_fields = ["delivery_key", "complaint__number", "subject", "address", "user__username"]
    readonly_fields = [f.name for f in Outbox._meta.fields]
    list_select_related = ["user", "complaint"]
    date_hierarchy = "created_at"
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("收件人"))
    def recipient(self, obj: Outbox) -> str:
        return str(obj.user) if obj.user_id else obj.address

    @admin.action(description=_("重新发送选中的失败通知"))
    def retry(self, request, queryset):
        # Same delivery key: a channel that already got it drops the repeat.
        n = queryset.filter(state=Outbox.State.FAILED).update(
            state=Outbox.State.PENDING, attempts=0, next_attempt_at=None
        )
        self.message_user(request, _("已重新排队 %(n)d 条通知。") % {"n": n}, messages.SUCCESS)


def _robot_field(db_field, kwargs):
    """Secrets are typed, not shown; robot URLs are https unless written otherwise, and public."""
    if db_field.name == "dingtalk_secret":
        kwargs["widget"] = forms.PasswordInput(render_value=True)
    if isinstance(db_field, models.URLField):
        # Public addresses only, as for webhooks (kesu.notify.outbound).
        return db_field.formfield(assume_scheme="https", validators=[outbound.validator], **kwargs)
    return None


class _RobotColumns(admin.ModelAdmin):
    """Robot webhooks: shown as yes/no in lists, edited as secrets."""

    @admin.display(boolean=True, description=_("企业微信"))
    def has_wecom(self, obj):
        return bool(obj.wecom_webhook)

    @admin.display(boolean=True, description=_("钉钉"))
    def has_dingtalk(self, obj):
        return bool(obj.dingtalk_webhook)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return _robot_field(db_field, kwargs) or super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(_RobotColumns):
    list_display = ["user", "email", "sms", "has_wecom", "has_dingtalk", "kinds"]
    search_fields = ["user__username", "user__display_name"]
    autocomplete_fields = ["user"]


@admin.register(OfficeChannel)
class OfficeChannelAdmin(_RobotColumns):
    list_display = ["office", "is_active", "has_wecom", "has_dingtalk", "kinds"]
    list_filter = ["is_active"]


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ["kind", "channel", "subject", "is_active", "updated_at"]
    list_filter = ["kind", "channel", "is_active"]

    def get_fieldsets(self, request, obj=None):
        variables = format_html_join("", "<li><code>{{{{ {} }}}}</code> {}</li>", VARIABLES.items())
        defaults = format_html_join(
            "",
            "<li><b>{}</b>：<code>{}</code> / <code>{}</code></li>",
            ((k, s, b) for k, (s, b) in DEFAULTS.items()),
        )
        help_text = format_html(
            "使用 Django 模板语法。可用变量：<ul>{}</ul>未设置模板时使用内置文字：<ul>{}</ul>",
            variables,
            defaults,
        )
        return [
            (None, {"fields": ["kind", "channel", "subject", "body", "is_active"], "description": help_text})
        ]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        kind = initial.get("kind")
        if kind in DEFAULTS and "subject" not in initial:
            initial["subject"], initial["body"] = DEFAULTS[kind]
        return initial


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """Read-only: which passed deadlines climbed which tier of the ladder, and when."""

    list_display = ["number", "kind", "due_at", "tier", "at"]
    list_filter = ["tier", "breach__kind"]
    search_fields = ["breach__complaint__number"]
    list_select_related = ["breach", "breach__complaint"]

    @admin.display(description=_("投诉编号"), ordering="breach__complaint__number")
    def number(self, obj: Escalation) -> str:
        return obj.breach.complaint.number

    @admin.display(description=_("时限"))
    def due_at(self, obj: Escalation):
        return obj.breach.due_at

    @admin.display(description=_("时限类型"))
    def kind(self, obj: Escalation) -> str:
        return obj.breach.get_kind_display()
