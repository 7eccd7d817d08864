"""E-mail over SMTP (KESU_SMTP_URL), or into KESU_HOME/email.log when no server is configured.

The Message-ID is derived from the delivery key: a message re-sent after a crash carries the same
id, so the receiving side (and the log) can drop the repeat.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.utils import timezone

from .base import KeyedLog, Permanent, Retry, link_for, message_id

if TYPE_CHECKING:
    from kesu.notify.models import Outbox


def build_message(row: Outbox) -> EmailMessage:
    msg = EmailMessage()
    name, address = parseaddr(settings.KESU_EMAIL_FROM)
    msg["From"] = formataddr((name, address)) if name else address
    msg["To"] = row.address
    msg["Subject"] = row.subject
    msg["Message-ID"] = message_id(row.delivery_key, address.rpartition("@")[2] or "kesu.local")
    msg["X-Kesu-Delivery-Key"] = row.delivery_key
    body = row.body
    link = link_for(row.payload)
    if link:
        body += f"\n\n详情：{link}"
    msg.set_content(body + "\n\n—— 客诉 Kesu 自动通知，请勿直接回复。\n")
    _attach(msg, row.payload.get("files") or {})
    return msg


MAX_ATTACHMENTS_BYTES = 15 * 1024 * 1024


def _attach(msg: EmailMessage, files: dict) -> None:
    """Files named in the payload (names in the default storage, e.g. the monthly report's xlsx/pdf)."""
    from django.core.files.storage import default_storage

    total = 0
    for info in files.values():
        name = info.get("path", "") if isinstance(info, dict) else ""
        try:
            if not name or not default_storage.exists(name):
                continue
            size = default_storage.size(name)
            if total + size > MAX_ATTACHMENTS_BYTES:
                continue
            with default_storage.open(name, "rb") as f:
                data = f.read()
        except Exception:  # an odd name (outside the storage) is skipped, never followed
            continue
        total += size
        maintype, _, subtype = (info.get("content_type") or "application/octet-stream").partition("/")
        msg.add_attachment(
            data, maintype=maintype, subtype=subtype or "octet-stream", filename=name.rsplit("/", 1)[-1]
        )


class Email:
    def send(self, row: Outbox) -> None:
        if not row.address or "@" not in row.address:
            raise Permanent("没有邮箱地址")
        msg = build_message(row)
        if not settings.KESU_SMTP_URL:
            stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
            KeyedLog(settings.KESU_EMAIL_LOG).append(
                row.delivery_key, f"KEY\t{row.delivery_key}\t{stamp}\n{msg.as_string()}\n"
            )
            return
        smtp_send(settings.KESU_SMTP_URL, msg)


def smtp_send(url: str, msg: EmailMessage) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise Permanent(f"KESU_SMTP_URL 必须以 smtp:// 或 smtps:// 开头：{parts.scheme}")
    options = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    host = parts.hostname or "localhost"
    port = parts.port or (465 if parts.scheme == "smtps" else 25)
    timeout = settings.KESU_NOTIFY_HTTP_TIMEOUT
    try:
        server_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
        with server_class(host, port, timeout=timeout) as server:
            if options.get("starttls") in ("1", "true", "yes"):
                server.starttls()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:
        raise Permanent(f"收件人被拒绝：{e.recipients}") from None
    except smtplib.SMTPResponseException as e:
        # 5xx: the server will never take it; 4xx: try again later.
        text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) else e.smtp_error
        if 500 <= e.smtp_code < 600 and e.smtp_code != 554:
            raise Permanent(f"SMTP {e.smtp_code}: {text}") from None
        raise Retry(f"SMTP {e.smtp_code}: {text}") from None
    except (smtplib.SMTPException, OSError) as e:
        raise Retry(f"邮件服务器连接失败：{e}") from None
