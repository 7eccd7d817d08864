"""Delivery channels. Each has send(row) that either returns (delivered, or already delivered: the
channel drops a message whose delivery key it has seen) or raises Retry / Permanent."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Permanent, Retry

if TYPE_CHECKING:
    from kesu.notify.models import Outbox

__all__ = ["Permanent", "Retry", "channel_for"]


class Channel(Protocol):
    def send(self, row: Outbox) -> None: ...


def channel_for(name: str) -> Channel:
    from . import email, inapp, robots

    if name == "inapp":
        return inapp.InApp()
    if name == "sms":
        return sms_provider(settings.KESU_SMS_PROVIDER)
    if name == "email":
        return email.Email()
    if name == "wecom":
        return robots.WeCom()
    if name == "dingtalk":
        return robots.DingTalk()
    raise Permanent(f"没有“{name}”渠道的发送程序")


@lru_cache(maxsize=8)
def _provider_class(name: str) -> type:
    from . import sms

    if name == "file":
        return sms.FileSms
    if name == "http":
        return sms.HttpSms
    return import_string(name)


def sms_provider(name: str) -> Channel:
    return _provider_class(name)()
