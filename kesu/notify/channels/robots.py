"""Group and personal robots: WeCom (企业微信群机器人) and DingTalk (钉钉自定义机器人, with signing).

Rows name their target in the payload ("office_channel": id, or a user whose preference holds the
robot); the URL and secret are looked up when sending, so secrets never sit in outbox rows.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import TYPE_CHECKING

from .base import Permanent, Retry, link_for, post_json

if TYPE_CHECKING:
    from kesu.notify.models import Outbox


def _target(row: Outbox, channel: str) -> tuple[str, str]:
    """(webhook URL, secret) for the row's office group or person."""
    from kesu.notify.models import NotificationPreference, OfficeChannel

    if row.payload.get("office_channel"):
        oc = OfficeChannel.objects.filter(pk=row.payload["office_channel"], is_active=True).first()
        if oc is None:
            raise Permanent("管理处群通知已停用或删除")
        source: object = oc
    else:
        source = NotificationPreference.objects.filter(user_id=row.user_id).first()
        if source is None:
            raise Permanent("该用户没有机器人设置")
    url = getattr(source, f"{channel}_webhook", "")
    if not url:
        raise Permanent("没有配置机器人地址")
    return url, getattr(source, f"{channel}_secret", "")


def markdown(row: Outbox) -> str:
    text = f"**{row.subject}**\n\n{row.body}"
    link = link_for(row.payload)
    if link:
        text += f"\n\n[查看详情]({link})"
    return text


def _check(answer: dict) -> None:
    code = answer.get("errcode", 0)
    if code not in (0, None):
        # e.g. 45009 / 130101: sending too fast; anything else is retried too, up to the cap.
        raise Retry(f"机器人返回 {code}: {answer.get('errmsg', '')}")


class WeCom:
    """POST {"msgtype": "markdown", "markdown": {"content": …}} to the group robot's webhook."""

    def send(self, row: Outbox) -> None:
        url, _secret = _target(row, "wecom")
        content = markdown(row).encode()[:4000].decode("utf-8", "ignore")  # the robot takes 4096 bytes
        _check(
            post_json(url, {"msgtype": "markdown", "markdown": {"content": content}}, key=row.delivery_key)
        )


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    if not secret:
        return url
    ts = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"


class DingTalk:
    """POST {"msgtype": "markdown", "markdown": {"title", "text"}}, signed when the robot has a secret."""

    def send(self, row: Outbox) -> None:
        url, secret = _target(row, "dingtalk")
        payload = {"msgtype": "markdown", "markdown": {"title": row.subject, "text": markdown(row)}}
        _check(post_json(signed_url(url, secret), payload, key=row.delivery_key))
