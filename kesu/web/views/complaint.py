"""The complaint page: every field, live deadlines, the handling record, and the actions this user
may take now, each a small htmx form answered from the same view (no full reload)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import BooleanField
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kesu.complaints import services
from kesu.complaints.choices import OPEN_STATUSES, Severity
from kesu.complaints.deadlines import calendar_for
from kesu.complaints.errors import ComplaintError, RoleNotAllowed, StaleVersion
from kesu.complaints.models import Complaint
from kesu.complaints.scope import complainant_view, get_complaint_for_user

from .. import clock, timeline
from ..access import staff_view
from ..actions import ACTIONS, ordered, suggested
from ..forms import apply_errors

RELATED = (
    "office",
    "category",
    "department",
    "handler",
    "unit__building",
    "received_by",
    "owner",
    "complained_department",
    "complained_staff",
    "assessed_by",
    "repeat_of",
    "merged_into",
    "resident",
)


def load(user, key) -> Complaint:
    """The complaint through the user's scope (404 across offices), with what the page shows."""
    return get_complaint_for_user(user, key, related=RELATED)


def night_note(c: Complaint) -> str:
    """What the night-duty rule (docs/procedures.md §2) means for this complaint, if it came in out of hours."""
    if calendar_for(c.office).in_window(c.received_at):
        return ""
    if c.effective_severity == Severity.MAJOR:
        return _("夜间受理的重大投诉：已即时通知部门经理和管理处主任，请立即处理。")
    due = timezone.localtime(c.forward_due_at).strftime("%m-%d %H:%M") if c.forward_due_at else ""
    return _("夜间受理：一般投诉于下一个工作时段转客服处理（转呈时限 %(due)s）。") % {"due": due}


def context(request: HttpRequest, c: Complaint, *, forms=None, open_action=None, flash="", registered=False):
    user = request.user
    now = timezone.now()
    # The close form only where closing is possible now (services.close_outcomes): it is not offered
    # before the callback and then refused on save.
    allowed = [
        a for a in services.allowed_actions(c, user) if a != "close" or services.close_outcomes(c, user)
    ]
    codes = ordered(c, allowed, user)
    forms = forms or {}
    first = open_action or suggested(c, allowed, user)
    panel = []
    for code in codes:
        spec = ACTIONS[code]
        form = forms.get(code) or spec.form(complaint=c, user=user)
        form.describe_errors()
        panel.append({"spec": spec, "form": form, "open": code == first, "url": action_url(c, code)})
    who = complainant_view(user, c)
    return {
        "candidates": candidates(c, user) if {"link", "merge"} & set(allowed) else [],
        "c": c,
        "dues": clock.pending(c, now),
        "entries": timeline.for_complaint(c, user),
        "panel": panel,
        **record_people(c, who),
        "can_reveal": who.has_phone and "reveal_contact" in allowed,
        "repeats": list(c.repeats.only("number", "status").order_by("received_at")),
        "merged": list(c.merged.only("number", "status").order_by("received_at")),
        "flash": flash,
        "registered": registered,
        "night_note": night_note(c) if registered else "",
        "is_open": c.status in OPEN_STATUSES,
        "now": now,
    }


def record_people(c: Complaint, who) -> dict:
    """The complainant and the people and files of the record as this reader may see them
    (kesu.complaints.scope.complainant_view): the page and the print forms show only these."""
    return {
        "complainant": who,
        "see_complainant": who.visible,
        "people": {
            "received_by": who.person(c.received_by),
            "owner": who.person(c.owner),
            "assessed_by": who.person(c.assessed_by),
        },
        "attachments": [
            {"a": a, "name": who.attachment_name(a)} for a in c.attachments.order_by("uploaded_at", "id")
        ],
        "callbacks": [
            {"cb": cb, "by": who.person(cb.by)}
            for cb in c.callbacks.select_related("by").order_by("at", "id")
        ],
    }


def candidates(c: Complaint, user) -> list[dict]:
    """Likely targets for link/merge: recent complaints of the same office about the same home or
    the same kind of problem (offered in a <datalist>; any number may still be typed)."""
    same = Q(unit_id=c.unit_id) if c.unit_id else Q(pk__in=[])
    if c.category_id:
        same |= Q(category_id=c.category_id)
    since = c.received_at - dt.timedelta(days=60)
    rows = (
        Complaint.objects.visible_to(user)
        .filter(office_id=c.office_id, received_at__gte=since)
        .filter(same)
        .exclude(pk=c.pk)
        .select_related("category")
        .order_by("-received_at")[:10]
    )
    return [
        {"number": o.number, "label": f"{o.category.name if o.category_id else ''} {o.content[:24]}"}
        for o in rows
    ]


def action_url(c: Complaint, code: str) -> str:
    return reverse("web:act", args=[c.number, code])


@require_GET
@staff_view
def detail(request: HttpRequest, key: str) -> HttpResponse:
    c = load(request.user, key)
    registered = request.GET.get("registered") == "1" and c.received_by_id == request.user.pk
    return render(request, "web/complaint/detail.html", context(request, c, registered=registered))


def _main(request, c, status=200, **kwargs) -> HttpResponse:
    return render(request, "web/complaint/_main.html", context(request, c, **kwargs), status=status)


@require_POST
@staff_view
def act(request: HttpRequest, key: str, action: str) -> HttpResponse:
    """One action form, sent. htmx: the form comes back with errors in place (nothing typed is
    lost), or the whole complaint is redrawn on success. Without JavaScript: the same, as pages."""
    c = load(request.user, key)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    user = request.user
    form = spec.form(request.POST, complaint=c, user=user)
    status = 422
    stale = False
    if action not in services.allowed_actions(c, user):
        form.is_valid()
        form.add_error(None, _("您现在不能对该投诉执行“%(action)s”。") % {"action": spec.label})
        status = 403
    elif form.is_valid():
        try:
            message = spec.run(form, c, user, request.FILES.getlist("attachments"))
        except StaleVersion as e:
            form.add_error(None, e.message)
            status, stale = 409, True
        except RoleNotAllowed as e:
            form.add_error(None, e.message)
            status = 403
        except ComplaintError as e:
            form.add_error(None, e.message)
            status = 409
        except ValidationError as e:
            apply_errors(form, e)
            status = 422
        else:
            fresh = load(user, c.pk)
            if request.htmx:
                response = _main(request, fresh, flash=message)
                response["HX-Retarget"] = "#complaint"
                response["HX-Reswap"] = "outerHTML"
                return response
            messages.success(request, message)
            return redirect("web:complaint", key=fresh.number)
    form.describe_errors()
    if request.htmx:
        item = {"spec": spec, "form": form, "open": True, "url": action_url(c, action)}
        return render(
            request, "web/complaint/_action.html", {"c": c, "item": item, "stale": stale}, status=status
        )
    ctx = context(request, c, forms={action: form}, open_action=action)
    ctx["stale"] = stale
    return render(request, "web/complaint/detail.html", ctx, status=status)


@require_POST
@staff_view
def reload_with(request: HttpRequest, key: str, action: str) -> HttpResponse:
    """After "已被他人修改": redraw the complaint as it is now, with the user's typed values put back
    into the same form (on the new version), so they can check the change and send again."""
    c = load(request.user, key)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404
    forms = {}
    if action in services.allowed_actions(c, request.user):
        typed = {k: v for k, v in request.POST.items() if k not in ("version", "csrfmiddlewaretoken")}
        for name, field in spec.form.base_fields.items():
            if getattr(field.widget, "allow_multiple_selected", False):
                typed[name] = request.POST.getlist(name)
            elif isinstance(field, BooleanField):
                typed[name] = name in request.POST
        forms[action] = spec.form(complaint=c, user=request.user, initial=typed)
    flash = _("已载入最新内容；您填写的内容已保留，请核对后再提交。")
    if request.htmx:
        response = _main(request, c, forms=forms, open_action=action if forms else None, flash=flash)
        response["HX-Retarget"] = "#complaint"
        response["HX-Reswap"] = "outerHTML"
        return response
    return redirect("web:complaint", key=c.number)


@require_POST
@staff_view
def reveal(request: HttpRequest, key: str) -> HttpResponse:
    """显示完整号码: through the lifecycle, which records the reveal in the timeline."""
    c = load(request.user, key)
    try:
        phone = services.reveal_contact(c, request.user)
    except ComplaintError as e:
        if request.htmx:
            return HttpResponse(format_html('<p class="error" role="alert">{}</p>', e.message), status=403)
        messages.error(request, e.message)
        return redirect("web:complaint", key=c.number)
    if not request.htmx:
        messages.info(request, _("完整号码：%(phone)s（已记录查看）") % {"phone": phone})
        return redirect("web:complaint", key=c.number)
    html = render_to_string("web/complaint/_phone.html", {"c": c, "phone": phone}, request=request)
    html += render_to_string(
        "web/complaint/_timeline.html",
        {"c": c, "entries": timeline.for_complaint(c, request.user), "oob": True},
        request=request,
    )
    return HttpResponse(html)


@require_GET
@staff_view
def attachment(request: HttpRequest, key: str, pk: int) -> FileResponse:
    """Attachments are served only through the complaint's scope (never as public media)."""
    c = get_complaint_for_user(request.user, key)
    att = get_object_or_404(c.attachments, pk=pk)
    inline = att.kind in ("image", "audio", "video") or att.content_type == "application/pdf"
    response = FileResponse(
        att.file.open("rb"),
        as_attachment=not inline,
        filename=complainant_view(request.user, c).attachment_name(att),
        content_type=att.content_type,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
