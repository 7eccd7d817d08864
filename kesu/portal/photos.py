"""Server-side checks on the photos a resident sends (the phone resizes them first when it can;
these limits hold whatever the client did)."""

from __future__ import annotations

from typing import IO

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from kesu.complaints import files

# Formats Pillow can open and check to the end; HEIC (iPhone) is accepted on the sniffed type alone.
_DECODABLE = {"image/jpeg", "image/png", "image/gif", "image/webp"}
Image.MAX_IMAGE_PIXELS = 80_000_000  # a decompression bomb is refused, not decoded


def check_photos(uploads: list) -> list[tuple[IO[bytes], str]]:
    """[(file, name)] ready for services.register, or ValidationError({"photos": [...]})."""
    limit = settings.KESU_PORTAL_MAX_PHOTOS
    if len(uploads) > limit:
        raise ValidationError(
            {"photos": [ngettext("最多上传 %(n)s 张照片。", "最多上传 %(n)s 张照片。", limit) % {"n": limit}]}
        )
    checked, refused = [], []
    for f in uploads:
        name = (getattr(f, "name", "") or "photo.jpg").rsplit("/", 1)[-1][:100]
        try:
            _check_one(f, name)
        except ValidationError as e:
            refused += e.message_dict["photos"]  # every bad photo is named, not only the first
            continue
        checked.append((f, name))
    if refused:
        raise ValidationError({"photos": refused})
    return checked


def _check_one(f: IO[bytes], name: str) -> None:
    max_bytes = settings.KESU_PORTAL_MAX_PHOTO_BYTES
    size = getattr(f, "size", None)
    if size is not None and size > max_bytes:
        words = _("照片“%(name)s”太大（%(size).1f MB），每张最大 %(max).0f MB。")
        raise ValidationError(
            {"photos": [words % {"name": name, "size": size / 1048576, "max": max_bytes / 1048576}]}
        )
    f.seek(0)
    sniffed = filetype.guess(f.read(8192))
    f.seek(0)
    if sniffed is not None and files.ALLOWED_TYPES.get(sniffed.mime) != "image":
        raise ValidationError({"photos": [_("“%(name)s”不是照片，只能上传照片。") % {"name": name}]})
    try:
        info = files.check_upload(f, name, field="photos")  # the lifecycle's own checks (type, size)
    except ValidationError as e:
        if sniffed is None:
            raise ValidationError(
                {"photos": [_("“%(name)s”不是照片，只能上传照片。") % {"name": name}]}
            ) from None
        raise ValidationError({"photos": e.message_dict["photos"]}) from None
    if info.content_type in _DECODABLE:
        f.seek(0)
        try:
            with Image.open(f) as img:
                # Decode it (a JPEG at 1/8 scale, which is quick): a picture header glued to
                # anything else, or a cut-off file, fails here.
                img.draft("RGB", (img.width // 8 or 1, img.height // 8 or 1))
                img.load()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise ValidationError(
                {"photos": [_("“%(name)s”不是完整的照片，请重新拍摄或选择。") % {"name": name}]}
            ) from None
        finally:
            f.seek(0)
