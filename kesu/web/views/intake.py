"""Intake at the front desk (《客户投诉记录表》): fast with a caller on the line, at 3 a.m. too."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from kesu.complaints import services
from kesu.complaints.choices import Severity
from kesu.complaints.deadlines import committed_answer_due
from kesu.complaints.models import Category
from kesu.complaints.scope import count_lookup, may_look_up, offices_for
from kesu.org.models import Resident

from .. import lookup
from ..access import staff_view
from ..forms import IntakeForm, apply_errors, local_minute


def _offices(user):
    offices = list(offices_for(user).order_by("code"))
    if not offices:
        raise PermissionDenied
    return offices


def _office_from(request, offices):
    raw = request.GET.get("office") or request.POST.get("office") or ""
    for o in offices:
        if str(o.pk) == raw:
            return o
    return offices[0]


def _resident(office, raw) -> Resident | None:
    if not raw:
        return None
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    return (
        Resident.objects.select_related("unit__building").filter(pk=pk, unit__building__office=office).first()
    )


def _category(code) -> Category | None:
    return Category.objects.filter(code=code, is_active=True).first() if code else None


def _history_for(user, office, *, unit_text, resident, phone_text, category_code, content):
    unit = lookup.unit_in_office(office, unit_text) if unit_text else None
    if unit is None and resident is not None:
        unit = resident.unit
    phone = lookup.clean_phone(phone_text) or (resident.phone if resident else "")
    return lookup.history(user, unit=unit, phone=phone, category=_category(category_code), content=content)


@staff_view
def intake(request: HttpRequest) -> HttpResponse:
    offices = _offices(request.user)
    if request.method == "POST":
        return _submit(request, offices)
    office = offices[0]
    received = local_minute(timezone.now())
    initial = {
        "office": office,
        "received_at": received,
        "committed_answer_at": committed_answer_due(office, Severity.GENERAL, received),
    }
    form = IntakeForm(user=request.user, offices=offices, initial=initial)
    hist = lookup.History([], [], None, searched=False)
    return _page(request, form, offices, hist)


def _page(request, form, offices, hist, *, resident=None, repeat_error="", attachment_error="", status=200):
    form.describe_errors()
    context = {
        "form": form,
        "offices": offices,
        "resident": resident,
        "hist": hist,
        "repeat_error": repeat_error,
        "attachment_error": attachment_error,
        "may_look_up": may_look_up(request.user),
    }
    template = "web/intake/_form.html" if request.htmx else "web/intake/intake.html"
    return render(request, template, context, status=status)


def _submit(request: HttpRequest, offices) -> HttpResponse:
    """Check the form, the home and the repeat question, then register in one action."""
    user = request.user
    form = IntakeForm(request.POST, user=user, offices=offices)
    valid = form.is_valid()
    office = form.cleaned_data.get("office") if valid else _office_from(request, offices)
    resident = _resident(office, request.POST.get("resident"))
    hist = _history_for(
        user,
        office,
        unit_text=request.POST.get("unit", ""),
        resident=resident,
        phone_text=request.POST.get("phone", ""),
        category_code=request.POST.get("category", ""),
        content=request.POST.get("content", ""),
    )
    page = {"resident": resident, "status": 422}
    if not valid:
        return _page(request, form, offices, hist, **page)
    d = form.cleaned_data
    unit = _unit(form, office, d, resident)
    choice = d["repeat_choice"]
    repeat_numbers = {c.number for c in hist.repeats}
    # "Not a repeat" answers for the likely repeats the clerk was shown (the partial lists them),
    # never for one that became likely since: that one is asked about first.
    shown = set(request.POST.getlist("repeat_shown"))
    answered = choice in repeat_numbers or (choice == "new" and repeat_numbers <= shown)
    if hist.repeats and not answered:
        page["repeat_error"] = _("该房屋或来电人有相同问题的投诉未完结或刚结案：请确认这是否是重复投诉。")
    if form.errors or page.get("repeat_error"):
        return _page(request, form, offices, hist, **page)
    try:
        c = services.register(
            user,
            _intake_from(d, office, unit, resident, request.FILES.getlist("attachments")),
            repeat_of=choice if choice in repeat_numbers else None,
            not_repeat_of=sorted(repeat_numbers) if choice == "new" else (),
        )
    except ValidationError as e:
        errors = e.message_dict if hasattr(e, "error_dict") else {}
        page["attachment_error"] = " ".join(errors.pop("attachments", []))
        if errors or not page["attachment_error"]:
            apply_errors(form, ValidationError(errors) if errors else e, {"resident": "unit"})
        return _page(request, form, offices, hist, **page)
    url = reverse("web:complaint", args=[c.number]) + "?registered=1"
    if request.htmx:
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _unit(form, office, d, resident):
    """The home chosen in the look-up, which must be in the office (an error on the form if not)."""
    unit = None
    if d["unit"]:
        unit = lookup.unit_in_office(office, d["unit"])
        if unit is None:
            form.add_error(
                "unit",
                _("本管理处没有房屋“%(unit)s”，请从查找结果中选择，或核对栋号和房号。") % {"unit": d["unit"]},
            )
    if d["resident"] and resident is None:
        form.add_error("unit", _("所选住户不属于该管理处，请重新查找。"))
    return unit


def _intake_from(d: dict, office, unit, resident, files) -> services.Intake:
    return services.Intake(
        office=office,
        channel=d["channel"],
        content=d["content"],
        complainant_name=d["complainant_name"],
        phone=d["phone"],
        unit=unit,
        resident=resident,
        address=d["address"],
        preferred_contact=d["preferred_contact"],
        anonymous_to_staff=d["anonymous_to_staff"],
        received_at=d["received_at"] or None,
        complained_party=d["complained_party"],
        complained_department=d["complained_department"],
        complained_staff=d["complained_staff"],
        on_spot_answer=d["on_spot_answer"],
        committed_answer_at=d["committed_answer_at"],
        requested_by=d["requested_by"],
        nature=d["nature"],
        nature_subtype=d["nature_subtype"],
        is_major=d["is_major"],
        severity=d["severity"],
        category=d["category"] or None,
        attachments=[(f, f.name) for f in files],
    )


@require_GET
@staff_view
def promise(request: HttpRequest) -> JsonResponse:
    """The committed answer time (承诺答复时间) for the form as it stands: the lifecycle's own default
    (kesu.complaints.deadlines), asked for by the page when the office, time or severity changes."""
    offices = _offices(request.user)
    office = _office_from(request, offices)
    major = request.GET.get("is_major") in ("on", "true", "1")
    severity = Severity.MAJOR if major else request.GET.get("severity", "")
    if severity not in Severity.values:
        severity = Severity.GENERAL
    try:
        received = dt.datetime.fromisoformat(request.GET.get("received_at", ""))
    except ValueError:
        return JsonResponse({"committed_answer_at": ""}, status=400)
    if timezone.is_naive(received):
        received = timezone.make_aware(received)
    due = timezone.localtime(committed_answer_due(office, severity, received))
    return JsonResponse({"committed_answer_at": due.strftime("%Y-%m-%dT%H:%M")})


def _lookup(view):
    """The desk's look-ups: for the customer-service roles (scope.may_look_up), counted per user
    (scope.count_lookup); a refusal is a small fragment the intake page shows in place."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        if not may_look_up(request.user):
            message = _("查找住户和近期投诉仅供客服人员使用。")
            return render(request, "web/intake/_refused.html", {"message": message}, status=403)
        wait = count_lookup(request.user)
        if wait:
            message = _("查询过于频繁，请 %(n)s 秒后再试。") % {"n": wait}
            response = render(request, "web/intake/_refused.html", {"message": message}, status=429)
            response["Retry-After"] = str(wait)
            return response
        return view(request)

    return wrapper


@require_GET
@staff_view
@_lookup
def find(request: HttpRequest) -> HttpResponse:
    """As-you-type look-up of homes and residents in the user's offices."""
    offices = _offices(request.user)
    office = _office_from(request, offices)
    ids = [office.pk] + [o.pk for o in offices if o.pk != office.pk]
    q = request.GET.get("find", "") or request.GET.get("q", "")
    hits = lookup.find(ids, q)
    return render(request, "web/intake/_find.html", {"hits": hits, "q": q.strip(), "office": office})


@require_GET
@staff_view
@_lookup
def history(request: HttpRequest) -> HttpResponse:
    """The unit's and caller's recent complaints, and the likely repeat complaints among them."""
    offices = _offices(request.user)
    office = _office_from(request, offices)
    resident = _resident(office, request.GET.get("resident"))
    hist = _history_for(
        request.user,
        office,
        unit_text=request.GET.get("unit", ""),
        resident=resident,
        phone_text=request.GET.get("phone", ""),
        category_code=request.GET.get("category", ""),
        content=request.GET.get("content", ""),
    )
    choice = request.GET.get("repeat_choice", "")  # kept while the form changes around it
    return render(request, "web/intake/_history.html", {"hist": hist, "repeat_choice": choice})
