from __future__ import annotations

import secrets

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kesu.notify import outbound

from .keys import create_key
from .models import WEBHOOK_EVENTS, ApiKey, WebhookSubscription


class ApiKeyForm(forms.ModelForm):
    class Meta:
        model = ApiKey
        fields = ["name", "user", "offices", "scope"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made here or with `kesu apikey create`; the key is shown once, right after saving."""

    form = ApiKeyForm
    list_display = ["prefix", "name", "user", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username"]
    filter_horizontal = ["offices"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["prefix", "created_at", "last_used_at", "revoked_at"]
        return ["prefix", "name", "user", "offices", "scope", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        key, raw = create_key(
            form.cleaned_data["user"],
            offices=[o.code for o in form.cleaned_data["offices"]],
            scope=form.cleaned_data["scope"],
            name=form.cleaned_data["name"],
        )
        obj.pk = key.pk
        obj.refresh_from_db()
        messages.warning(request, _("接口密钥（只显示这一次，请立即保存）：%(key)s") % {"key": raw})

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.action(description=_("吊销所选密钥"))
    def revoke(self, request, queryset):
        n = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("已吊销 %(n)d 个密钥。") % {"n": n})


class WebhookSubscriptionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("接收地址"), max_length=500, assume_scheme="https", validators=[outbound.validator]
    )
    events = forms.MultipleChoiceField(
        label=_("事件"), choices=[(e, e) for e in WEBHOOK_EVENTS], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("签名密钥"), required=False, help_text=_("留空则自动生成"), max_length=100
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "events", "offices", "owner", "is_active", "secret"]

    def clean_secret(self):
        return (
            self.cleaned_data["secret"]
            or (self.instance.secret if self.instance.pk else "")
            or ("whsec_" + secrets.token_urlsafe(32))
        )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ["__str__", "url", "owner", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "url", "owner__username"]
    filter_horizontal = ["offices"]
