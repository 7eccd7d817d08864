"""Errors as `application/problem+json` (RFC 9457): type, title, status, detail, a stable `code`, and
`errors` (field → message) for field problems. Messages follow Accept-Language (zh-hans default)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response

from kesu.complaints.errors import ComplaintError, RoleNotAllowed, StaleVersion, TransitionNotAllowed

PROBLEM_CONTENT_TYPE = "application/problem+json"
NON_FIELD = "__all__"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = 422
    default_detail = gettext_lazy("该 Idempotency-Key 已用于另一个不同的请求。")
    default_code = "idempotency_key_reused"


class IdempotencyKeyInvalid(exceptions.APIException):
    status_code = 400
    default_detail = gettext_lazy("Idempotency-Key 须为 1–255 个可见 ASCII 字符。")
    default_code = "idempotency_key_invalid"


# code → (HTTP status, title). Titles are short and fixed per problem type, as RFC 9457 asks.
def _titles() -> dict[str, str]:
    return {
        "validation_error": _("请求数据有误"),
        "parse_error": _("请求体不是有效的 JSON"),
        "not_authenticated": _("需要身份验证"),
        "authentication_failed": _("身份验证失败"),
        "permission_denied": _("没有权限"),
        "role_not_allowed": _("没有权限"),
        "not_found": _("找不到资源"),
        "method_not_allowed": _("不支持的请求方法"),
        "not_acceptable": _("无法提供所要求的格式"),
        "unsupported_media_type": _("不支持的请求体格式"),
        "throttled": _("请求过于频繁"),
        "request_too_large": _("请求体过大"),
        "transition_not_allowed": _("当前状态下不能执行此操作"),
        "stale_version": _("投诉已被他人修改"),
        "idempotency_key_reused": _("Idempotency-Key 重复使用"),
        "idempotency_key_invalid": _("Idempotency-Key 无效"),
    }


def problem(
    status_code: int,
    code: str,
    detail: str,
    *,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": f"urn:kesu:problem:{code}",
        "title": _titles().get(code, _("请求失败")),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def flatten(detail: Any, prefix: str = "") -> dict[str, str]:
    """DRF's nested error detail → {"field": "first message", "events.0": "..."}."""
    out: dict[str, str] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = NON_FIELD if key in ("non_field_errors", NON_FIELD) and not prefix else str(key)
            out.update(flatten(value, f"{prefix}.{name}" if prefix else name))
    elif isinstance(detail, list | tuple):
        if detail and all(not isinstance(v, dict | list | tuple) for v in detail):
            out[prefix or NON_FIELD] = str(detail[0])
        else:
            for i, value in enumerate(detail):
                out.update(flatten(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or NON_FIELD] = str(detail)
    return out


def _summary(errors: dict[str, str]) -> str:
    if list(errors) == [NON_FIELD]:
        return errors[NON_FIELD]
    return _("请检查以下字段：%(fields)s。") % {"fields": "、".join(errors)}


def validation_problem(errors: dict[str, str]) -> Response:
    return problem(400, "validation_error", _summary(errors), errors=errors)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, RequestDataTooBig):  # Django's limit on a body read into memory
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        detail = _("请求体不能超过 %(mb)s MB。") % {"mb": f"{limit / (1024 * 1024):g}"}
        return problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "request_too_large", detail)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {k: str(v[0]) for k, v in exc.message_dict.items() if v}
        else:
            errors = {NON_FIELD: exc.messages[0] if exc.messages else _("请求数据有误。")}
        return validation_problem(errors)
    if isinstance(exc, ComplaintError):
        if isinstance(exc, TransitionNotAllowed | StaleVersion):
            return problem(status.HTTP_409_CONFLICT, exc.code, exc.message)
        code = exc.code if isinstance(exc, RoleNotAllowed) else "permission_denied"
        return problem(status.HTTP_403_FORBIDDEN, code, exc.message)
    if isinstance(exc, Http404):
        return problem(404, "not_found", _("找不到该资源，或您无权查看。"))
    if isinstance(exc, DjangoPermissionDenied):
        return problem(403, "permission_denied", str(exc) or _("您没有权限执行此操作。"))
    if isinstance(exc, exceptions.ValidationError):
        return validation_problem(flatten(exc.detail) or {NON_FIELD: _("请求数据有误。")})
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        auth_header = getattr(exc, "auth_header", None)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        code = exc.default_code
        if isinstance(exc, exceptions.NotFound):
            code, detail = "not_found", _("找不到该资源，或您无权查看。")
        elif isinstance(exc, exceptions.Throttled):
            wait = max(1, int(exc.wait or 1))
            headers["Retry-After"] = str(wait)
            detail = _("请求过于频繁，请 %(n)d 秒后重试。") % {"n": wait}
        else:
            detail = (
                str(exc.detail) if not isinstance(exc.detail, list | dict) else _summary(flatten(exc.detail))
            )
        return problem(exc.status_code, code, detail, headers=headers or None)
    return None


@csrf_exempt  # a 404 whatever the method: CSRF would otherwise answer a POST with an HTML 403
def not_found_view(request):
    """Unknown paths under /api/ answer in problem+json too, not with the HTML 404 page."""
    from rest_framework.renderers import JSONRenderer

    detail = _("找不到该资源，或您无权查看。")
    if not request.path.endswith("/") and _resolves(request.path + "/"):
        detail = _("地址须以“/”结尾：%(path)s") % {"path": request.path + "/"}
    response = problem(404, "not_found", detail)
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = PROBLEM_CONTENT_TYPE
    response.renderer_context = {}
    response.render()
    return response


def _resolves(path: str) -> bool:
    from django.urls import Resolver404, resolve

    try:
        return resolve(path).func is not not_found_view
    except Resolver404:
        return False
