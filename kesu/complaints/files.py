"""Attachment checks: the type comes from the bytes (magic numbers), never from the file name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Allowed content types and the kind of limit that applies (photos, recordings, video, PDF).
ALLOWED_TYPES: dict[str, str] = {
    "image/jpeg": "image",
    "image/png": "image",
    "image/gif": "image",
    "image/webp": "image",
    "image/heic": "image",
    "image/heif": "image",
    "audio/mpeg": "audio",
    "audio/mp4": "audio",
    "audio/x-wav": "audio",
    "audio/amr": "audio",
    "audio/aac": "audio",
    "audio/ogg": "audio",
    "video/mp4": "video",
    "video/quicktime": "video",
    "video/3gpp": "video",
    "video/webm": "video",
    "application/pdf": "document",
}
MAX_ATTACHMENTS_PER_COMPLAINT = 20
_HEAD_BYTES = 8192


@dataclass(frozen=True)
class CheckedFile:
    name: str
    kind: str
    content_type: str
    size: int
    sha256: str


def _size_of(f: IO[bytes]) -> int:
    size = getattr(f, "size", None)
    if size is not None:
        return int(size)
    pos = f.tell()
    f.seek(0, 2)
    end = f.tell()
    f.seek(pos)
    return end


def check_upload(f: IO[bytes], name: str, field: str = "attachments") -> CheckedFile:
    """Sniff and size-check one upload; raises ValidationError naming the field and the file."""
    display = (name or "").rsplit("/", 1)[-1][:200] or "file"
    f.seek(0)
    head = f.read(_HEAD_BYTES)
    f.seek(0)
    if not head:
        raise ValidationError({field: _("文件“%(name)s”是空的。") % {"name": display}}, code="empty_file")
    kind = filetype.guess(head)
    content_type = kind.mime if kind else ""
    category = ALLOWED_TYPES.get(content_type)
    if category is None:
        raise ValidationError(
            {field: _("文件“%(name)s”的类型不被接受：只能上传照片、录音、视频或 PDF。") % {"name": display}},
            code="forbidden_type",
        )
    size = _size_of(f)
    limit = settings.KESU_ATTACHMENT_LIMITS[category]
    if size > limit:
        raise ValidationError(
            {
                field: _("文件“%(name)s”太大（%(size).1f MB），此类文件最大 %(limit).0f MB。")
                % {"name": display, "size": size / 1048576, "limit": limit / 1048576}
            },
            code="too_large",
        )
    digest = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 16), b""):
        digest.update(chunk)
    f.seek(0)
    return CheckedFile(
        name=display, kind=category, content_type=content_type, size=size, sha256=digest.hexdigest()
    )
