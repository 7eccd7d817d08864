"""My notifications (站内通知): the signed-in member of staff's own in-app rows, newest first, and the
unread count. Staff pages, like every workspace page: a resident is refused (403).

Scope: every query starts from `inbox(request.user)`; another person's row answers 404."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kesu.notify.inbox import inbox as mine
from kesu.notify.inbox import unread_count

from ..access import is_staff_user, staff_view


@staff_view
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    rows = mine(request.user).select_related("complaint").order_by("-created_at", "-id")
    if request.GET.get("unread"):
        rows = rows.filter(read_at__isnull=True)
    page = Paginator(rows, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/list.html",
        {"page": page, "unread": unread_count(request.user), "only_unread": bool(request.GET.get("unread"))},
    )


def _back(request: HttpRequest) -> HttpResponse:
    if request.htmx:
        return render(request, "notify/partials/bell.html", {"unread": unread_count(request.user)})
    return redirect("notify:list")


@staff_view
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(mine(request.user), pk=pk)
    if row.read_at is None:
        mine(request.user).filter(pk=row.pk, read_at__isnull=True).update(read_at=timezone.now())
    target = request.POST.get("next", "")
    if target == "complaint" and row.complaint_id:
        return redirect(f"/complaints/{row.complaint.number}/")
    return _back(request)


@staff_view
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    mine(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return _back(request)


@require_GET
def unread_json(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        return JsonResponse({"unread": 0, "error": "not signed in"}, status=401)
    if not is_staff_user(request.user):
        return JsonResponse({"unread": 0, "error": "staff only"}, status=403)
    return JsonResponse({"unread": unread_count(request.user)})


@staff_view
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The header's bell, which every page polls (htmx, once a minute) so that a new job shows without
    a reload. The poll is not the user's doing: it leaves the session's idle time running (see
    kesu.web.middleware.SessionMiddleware), and once the session has expired it sends the page to
    sign-in instead of keeping complaints on an unattended screen."""
    if request.htmx:
        request.background_poll = True
    return render(request, "notify/partials/bell.html", {"unread": unread_count(request.user)})
