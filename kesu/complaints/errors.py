"""Errors raised by the lifecycle. Field errors use django.core.exceptions.ValidationError
(with a field → message dict); these are for refusals that are not about one field."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ComplaintError(Exception):
    """Base class: `code` is stable (API), `message` is for people (translated)."""

    code = "complaint_error"
    default_message = _("操作失败。")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)


class TransitionNotAllowed(ComplaintError):
    """The action is not allowed in the complaint's current state."""

    code = "transition_not_allowed"
    default_message = _("当前状态下不能执行此操作。")


class RoleNotAllowed(ComplaintError):
    """The action is not allowed for this user's role or scope."""

    code = "role_not_allowed"
    default_message = _("您没有权限执行此操作。")


class StaleVersion(ComplaintError):
    """Someone else changed the complaint since the caller loaded it."""

    code = "stale_version"
    default_message = _("该投诉已被他人修改，请刷新后重试。")
