"""Home: the user's own queue, the counts of their scope, and managers' callback quota."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kesu.notify.models import Outbox

from .. import queues
from ..access import staff_view


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("web:login")
    return _home(request)


@staff_view
def _home(request: HttpRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    notices = list(
        Outbox.objects.filter(user=user, channel=Outbox.Channel.INAPP)
        .select_related("complaint")
        .order_by("-created_at", "-id")[:5]
    )
    context = {
        "items": queues.my_queue(user, now),
        "counts": queues.counts(user, now),
        "quota": queues.callback_quota(user, now),
        "notices": notices,
        "now": now,
        "today": timezone.localdate(),
    }
    return render(request, "web/home/home.html", context)
