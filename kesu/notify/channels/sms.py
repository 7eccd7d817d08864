"""SMS to complainants (and staff who asked for it) through a pluggable provider.

- FileSms (the default, for the demo and tests): one line per message in KESU_HOME/sms.log.
- HttpSms: a provider's HTTP API (URL, account, token, signature and template ids from the environment).
Any class with send(row) can be named in KESU_SMS_PROVIDER instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from .base import KeyedLog, Permanent, Retry, post_json

if TYPE_CHECKING:
    from kesu.notify.models import Outbox


def _one_line(text: str) -> str:
    return " ".join(text.split())


class FileSms:
    """Appends `KEY<TAB>delivery key<TAB>time<TAB>phone<TAB>【sign】text` to the SMS log, once per key."""

    def send(self, row: Outbox) -> None:
        if not row.address:
            raise Permanent("没有手机号")
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        text = f"【{settings.KESU_SMS_SIGN_NAME}】{_one_line(row.body)}"
        KeyedLog(settings.KESU_SMS_LOG).append(
            row.delivery_key, f"KEY\t{row.delivery_key}\t{stamp}\t{row.address}\t{text}\n"
        )


class HttpSms:
    """POSTs {phone, sign, template, params, text, key} as JSON to KESU_SMS_HTTP_URL.

    Chinese SMS gateways send only pre-approved templates: KESU_SMS_TEMPLATES maps each message kind
    to the provider's template id; params carry the number, deadline and text for it to fill in.
    """

    def send(self, row: Outbox) -> None:
        url = settings.KESU_SMS_HTTP_URL
        if not url:
            raise Permanent("KESU_SMS_HTTP_URL 未设置")
        if not row.address:
            raise Permanent("没有手机号")
        headers = {}
        if settings.KESU_SMS_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.KESU_SMS_HTTP_TOKEN}"
        payload = {
            "account": settings.KESU_SMS_HTTP_USER,
            "phone": row.address,
            "sign": settings.KESU_SMS_SIGN_NAME,
            "template": settings.KESU_SMS_TEMPLATES.get(row.kind, ""),
            "params": {"number": row.payload.get("number", ""), "kind": row.kind, "text": row.body},
            "text": row.body,
            "key": row.delivery_key,
        }
        answer = post_json(url, payload, key=row.delivery_key, headers=headers, operators=True)
        code = answer.get("code", answer.get("errcode", 0))
        if code not in (0, "0", "OK", "ok", None):
            raise Retry(f"短信平台拒绝：{code} {answer.get('message') or answer.get('errmsg') or ''}")
