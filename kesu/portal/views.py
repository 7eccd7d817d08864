"""The resident's pages: sign in with an SMS code, complain, follow, rate and confirm.

Thin views: forms check shape, the lifecycle (kesu.complaints.services) decides and writes, and every
complaint is fetched through the resident's scope (get_complaint_for_user / visible_to) — a number that
is not theirs gives the same "not found" page as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, override, pgettext
from django.views.decorators.http import require_http_methods, require_POST

from kesu.complaints import links, services
from kesu.complaints.choices import EventType, Satisfaction, Status
from kesu.complaints.deadlines import company_tz
from kesu.complaints.errors import ComplaintError
from kesu.complaints.models import Category, Complaint
from kesu.complaints.scope import get_complaint_for_user, units_for_resident
from kesu.complaints.validation import mask_phone
from kesu.org.models import Building, Office, Unit

from . import codes, icons, photos, progress, throttle
from .forms import CodeForm, ComplainForm, PhoneForm, RateForm, WithdrawForm
from .models import PortalSubmission
from .security import is_resident, portal_page, resident_required

HOUR = 3600
SESSION_PHONE = "portal_phone"
SESSION_NEXT = "portal_next"
WRONG_CODE = gettext_lazy(
    "验证码不正确或已失效，请核对后重试，或重新获取。如果您的手机号还没有在物业登记，请联系管理处客服中心登记。"
)
PAGE_SIZE = 20
# Categories a resident picks from; 内部管理 is the company's own business.
HIDDEN_CATEGORIES = {"internal"}


# ---------------------------------------------------------------------------------------------
# helpers


def _safe_next(value: str | None) -> str:
    home = reverse("portal:home")
    if value and value.startswith(home) and url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return value
    return home


def _place(params) -> tuple[Office | None, Building | None]:
    """The office and building a QR code preselects (?o=Y01&b=12); unknown values are ignored."""
    office = Office.objects.filter(code=str(params.get("o", ""))[:10], is_active=True).first()
    building = None
    raw = str(params.get("b", ""))
    if raw.isascii() and raw.isdigit():
        building = (
            Building.objects.select_related("office").filter(pk=int(raw), office__is_active=True).first()
        )
        if building is not None and office is not None and building.office_id != office.pk:
            building = None
        if building is not None:
            office = building.office
    return office, building


def _place_from_next(next_url: str) -> tuple[Office | None, Building | None]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(next_url).query).items()}
    return _place(query)


def _too_many(request: HttpRequest, what: str, window: int) -> HttpResponse:
    minutes = max(1, throttle.retry_after(window) // 60)
    response = render(
        request,
        "portal/too_many.html",
        {"what": what, "minutes": minutes},
        status=429,
    )
    response.headers["Retry-After"] = str(throttle.retry_after(window))
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/not_found.html", status=404)


# What a portal page shows of a complaint besides the complaint itself.
PAGE_RELATED = ("unit__building__office",)


def _complaint(request: HttpRequest, number: str) -> Complaint | None:
    try:
        return get_complaint_for_user(request.user, number, related=PAGE_RELATED)
    except Http404:
        return None


def _unit_label(unit: Unit) -> str:
    return f"{unit.building.office.name} {unit.building.name}-{unit.number}"


# ---------------------------------------------------------------------------------------------
# sign-in


@portal_page
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request.POST.get("next") or request.GET.get("next"))
    office, building = _place_from_next(next_url)
    form = PhoneForm(request.POST or None)
    status = 200
    if request.method == "POST":
        ip = throttle.client_ip(request)
        if not throttle.hit("code-ip", ip, limit=settings.KESU_PORTAL_CODES_PER_IP_HOUR, window=HOUR):
            return _too_many(request, pgettext("too many attempts at", "获取验证码"), HOUR)
        if form.is_valid():
            phone = form.cleaned_data["phone"]
            refusal = codes.issue(phone, ip=ip)
            if refusal is None:
                request.session[SESSION_PHONE] = phone
                request.session[SESSION_NEXT] = next_url
                return redirect("portal:code")
            if refusal.just_sent and request.session.get(SESSION_PHONE) == phone:
                # Back on this page after asking a moment ago: the code on its way is still good.
                messages.info(request, _("验证码刚刚已发送，请查收短信。"))
                return redirect("portal:code")
            form.add_error(None, _("获取太频繁，请 %(wait)s后再试。") % {"wait": _wait_words(refusal.wait)})
            status = 429
    context = {"form": form, "next": next_url, "office": office, "building": building}
    return render(request, "portal/sign_in.html", context, status=status)


def _wait_words(seconds: int) -> str:
    if seconds < 120:
        return ngettext("%(n)s秒", "%(n)s秒", seconds) % {"n": seconds}
    minutes = (seconds + 59) // 60
    return ngettext("%(n)s分钟", "%(n)s分钟", minutes) % {"n": minutes}


@portal_page
@require_http_methods(["GET", "POST"])
def enter_code(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if not phone:
        return redirect("portal:login")
    next_url = _safe_next(request.session.get(SESSION_NEXT))
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        ip = throttle.client_ip(request)
        if not throttle.hit("verify-ip", ip, limit=settings.KESU_PORTAL_VERIFY_PER_IP_HOUR, window=HOUR):
            return _too_many(request, pgettext("too many attempts at", "验证码登录"), HOUR)
        if form.is_valid():
            user = codes.verify(phone, form.cleaned_data["code"])
            if user is not None:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                request.session.set_expiry(settings.KESU_PORTAL_SESSION_DAYS * 86400)
                return HttpResponseRedirect(next_url)
            form.add_error("code", WRONG_CODE)
    context = {
        "form": form,
        "masked_phone": mask_phone(phone),
        "phone": phone,
        "next": next_url,
        "resend_after": settings.KESU_PORTAL_CODE_INTERVAL_SECONDS,
        "minutes": max(1, settings.KESU_PORTAL_CODE_SECONDS // 60),
    }
    return render(request, "portal/code.html", context)


@portal_page
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("portal:login")


# ---------------------------------------------------------------------------------------------
# home: my homes and my complaints


@portal_page
@resident_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = list(units_for_resident(user).select_related("building__office").order_by("code"))
    office, building = _place(request.GET)
    qs = (
        Complaint.objects.visible_to(user)
        .select_related("office", "unit__building")
        .order_by("-received_at", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "c": c,
            "status": progress.status_words(c),
            "deadline": progress.deadline_words(c),
            "can_rate": progress.can_rate(c, request.user),
        }
        for c in page.object_list
    ]
    context = {
        "units": [{"unit": u, "label": _unit_label(u)} for u in units],
        "rows": rows,
        "page": page,
        "office": office,
        "building": building,
        "masked_phone": mask_phone(user.phone),
    }
    return render(request, "portal/home.html", context)


# ---------------------------------------------------------------------------------------------
# complain


def _categories() -> list[Category]:
    return list(Category.objects.filter(is_active=True).exclude(code__in=HIDDEN_CATEGORIES).order_by("order"))


def _preselected_unit(units: list[Unit], office: Office | None, building: Building | None) -> Unit | None:
    if building is not None:
        for u in units:
            if u.building_id == building.pk:
                return u
    if office is not None:
        for u in units:
            if u.building.office_id == office.pk:
                return u
    return units[0] if len(units) == 1 else None


def _requested_by(day: dt.date | None, unit: Unit) -> dt.datetime | None:
    if day is None:
        return None
    # By the end of the front desk's day (the office's working window) on the chosen date; asked for
    # "today" after that, by the end of today.
    at = dt.datetime.combine(day, unit.building.office.work_end, tzinfo=company_tz())
    if at <= timezone.now():
        at = dt.datetime.combine(day, dt.time(23, 59), tzinfo=company_tz())
    return at


def _map_errors(form: ComplainForm, error: ValidationError) -> None:
    fields = {"unit": "unit", "content": "content", "category": "category", "requested_by": "wanted_by"}
    for field, messages_ in error.message_dict.items():
        target = "photos" if field in ("attachments", "photos") else fields.get(field)
        for message in messages_:
            if target == "photos":
                form.photo_errors.append(message)
            else:
                form.add_error(target, message)


@portal_page
@resident_required
@require_http_methods(["GET", "POST"])
def complain(request: HttpRequest) -> HttpResponse:
    user = request.user
    units = list(units_for_resident(user).select_related("building__office").order_by("code"))
    categories = _categories()
    office, building = _place(request.POST if request.method == "POST" else request.GET)
    status = 200
    if request.method == "POST":
        limit = settings.KESU_PORTAL_MAX_PHOTOS * settings.KESU_PORTAL_MAX_PHOTO_BYTES + 1024 * 1024
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return render(request, "portal/too_large.html", status=413)
        form = ComplainForm(request.POST, units=units, categories=categories)
        form.photo_errors = []
        done = _already_filed(request)
        if done is not None:
            return redirect("portal:sent", number=done.number)
        ip = throttle.client_ip(request)
        since = timezone.now() - dt.timedelta(hours=1)
        recent = Complaint.objects.filter(received_by=user, received_at__gte=since).count()
        if recent >= settings.KESU_PORTAL_SUBMISSIONS_PER_HOUR or not throttle.hit(
            "submit-ip", ip, limit=settings.KESU_PORTAL_SUBMISSIONS_PER_IP_HOUR, window=HOUR
        ):
            return _too_many(request, pgettext("too many attempts at", "提交投诉"), HOUR)
        if form.is_valid():
            complaint = _file(request, form, units, building)
            if complaint is not None:
                return redirect("portal:sent", number=complaint.number)
        status = 400
    else:
        unit = _preselected_unit(units, office, building)
        form = ComplainForm(
            initial={"unit": unit.pk if unit else None, "key": uuid.uuid4()},
            units=units,
            categories=categories,
        )
        form.photo_errors = []
    context = {
        "form": form,
        "units": [{"unit": u, "label": _unit_label(u)} for u in units],
        "categories": [{"c": c, **icons.for_category(c.code, c.name, c.description)} for c in categories],
        "unsure_icon": icons.svg("other"),
        "building": building,
        "office": office,
        "max_photos": settings.KESU_PORTAL_MAX_PHOTOS,
        "max_mb": settings.KESU_PORTAL_MAX_PHOTO_BYTES // 1048576,
        "min_day": timezone.localdate().isoformat(),
    }
    return render(request, "portal/complain.html", context, status=status)


def _already_filed(request: HttpRequest) -> Complaint | None:
    """A form sent twice (double tap, resend after a lost answer) files once."""
    try:
        key = uuid.UUID(request.POST.get("key", ""))
    except ValueError:
        return None
    done = PortalSubmission.objects.filter(key=key, user=request.user).select_related("complaint").first()
    return done.complaint if done else None


def _file(request: HttpRequest, form: ComplainForm, units: list[Unit], building: Building | None):
    data = form.cleaned_data
    unit = next(u for u in units if u.pk == data["unit"])
    try:
        attachments = photos.check_photos(request.FILES.getlist("photos"))
    except ValidationError as e:
        form.photo_errors.extend(e.message_dict["photos"])
        return None
    wechat = "MicroMessenger" in request.headers.get("User-Agent", "")
    address = f"{building.office.name} {building.name}（扫码）" if building is not None else ""
    try:
        with transaction.atomic():
            complaint = services.register(
                request.user,
                office=unit.building.office,
                channel="wechat" if wechat else "online",
                content=data["content"],
                unit=unit,
                address=address,
                category=data["category"] or None,
                requested_by=_requested_by(data["wanted_by"], unit),
                anonymous_to_staff=data["anonymous"],
                preferred_contact=data["preferred_contact"] or "",
                attachments=attachments,
            )
            PortalSubmission.objects.create(
                complaint=complaint,
                user=request.user,
                key=data["key"],
                anonymous=data["anonymous"],
                preferred_contact=data["preferred_contact"],
                created_at=complaint.received_at,
            )
    except ValidationError as e:
        _map_errors(form, e)
        return None
    except ComplaintError as e:
        form.add_error(None, e.message)
        return None
    except IntegrityError:  # the same form, sent twice at the same moment: the other one won
        return _already_filed(request)
    return complaint


@portal_page
@resident_required
def sent(request: HttpRequest, number: str) -> HttpResponse:
    c = _complaint(request, number)
    if c is None:
        return _not_found(request)
    context = {"c": c, "masked_phone": mask_phone(request.user.phone), "answer_by": None}
    if c.committed_answer_at:
        context["answer_by"] = progress.when(c.committed_answer_at)
    return render(request, "portal/sent.html", context)


# ---------------------------------------------------------------------------------------------
# follow, rate, withdraw


def _own_photos(c: Complaint, user) -> list:
    """The photos the resident sent themselves; photos staff attach (site checks, work) stay internal.
    None through a signed link read without signing in: photos are served to the signed-in resident."""
    if not is_resident(user):
        return []
    return list(c.attachments.filter(kind="image", uploaded_by=user).order_by("pk"))


def _detail_context(c: Complaint, user) -> dict:
    entries = progress.timeline(c)
    return {
        "c": c,
        "status": progress.status_words(c),
        "deadline": progress.deadline_words(c),
        "entries": entries,
        # What was done, beside the rating question (only when it was told to the complainant).
        "resolution": next((e.text for e in reversed(entries) if e.event == EventType.RESOLVED), ""),
        "photos": _own_photos(c, user),
        "unit_label": _unit_label(c.unit) if c.unit_id else "",
    }


@portal_page
@resident_required
def photo(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """One of the resident's own photos, through the complaint's scope; anything else is 404."""
    c = _complaint(request, number)
    att = next((a for a in _own_photos(c, request.user) if a.pk == pk), None) if c else None
    if att is None:
        return _not_found(request)
    response = FileResponse(att.file.open("rb"), content_type=att.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@portal_page
@resident_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    c = _complaint(request, number)
    if c is None:
        return _not_found(request)
    context = _detail_context(c, request.user)
    actions = services.allowed_actions(c, request.user)
    context["rate_form"] = (
        RateForm(initial={"version": c.version}) if progress.can_rate(c, request.user) else None
    )
    context["withdraw_form"] = (
        WithdrawForm(initial={"version": c.version})
        if "withdraw" in actions and c.status != Status.RESOLVED
        else None
    )
    context["satisfactions"] = icons.faces()
    return render(request, "portal/detail.html", context)


@portal_page
@resident_required
@require_POST
def rate(request: HttpRequest, number: str) -> HttpResponse:
    c = _complaint(request, number)
    if c is None:
        return _not_found(request)
    form = RateForm(request.POST)
    if form.is_valid():
        satisfaction = form.cleaned_data["satisfaction"]
        with override(settings.LANGUAGE_CODE):  # saved on the record, in the company's language
            rating = str(Satisfaction(satisfaction).label)
        words = form.cleaned_data["words"].strip() or rating
        try:
            c = services.call_back(
                c,
                request.user,
                method="other",
                satisfaction=satisfaction,
                words=words,
                version=form.cleaned_data["version"],
            )
        except ComplaintError as e:
            messages.error(request, e.message)
            return redirect("portal:detail", number=c.number)
        except ValidationError as e:
            for message in e.messages:
                form.add_error(None, message)
        else:
            if c.status == Status.RECTIFYING:
                messages.success(request, _("已收到您的评价。我们已安排整改，并会尽快联系您。"))
            else:
                messages.success(request, _("感谢您的评价！"))
            return redirect("portal:detail", number=c.number)
    c = _complaint(request, c.number) or c  # the state after the refused rating
    context = _detail_context(c, request.user)
    context.update(rate_form=form, withdraw_form=None, satisfactions=icons.faces())
    return render(request, "portal/detail.html", context, status=400)


@portal_page
@resident_required
@require_POST
def withdraw(request: HttpRequest, number: str) -> HttpResponse:
    c = _complaint(request, number)
    if c is None:
        return _not_found(request)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.withdraw(
                c, request.user, reason=form.cleaned_data["reason"], version=form.cleaned_data["version"]
            )
        except ComplaintError as e:
            messages.error(request, e.message)
        except ValidationError as e:
            messages.error(request, pgettext("list separator", "；").join(e.messages))
        else:
            messages.success(request, _("投诉已撤回。"))
    else:
        messages.error(request, _("请写一下撤回的原因。"))
    return redirect("portal:detail", number=c.number)


@portal_page
def open_link(request: HttpRequest, token: str) -> HttpResponse:
    """A signed link from an SMS: shows that one complaint, read-only, even before signing in."""
    found = links.open_link(token)
    if found is None:
        return _not_found(request)
    c, phone = found
    if is_resident(request.user) and request.user.phone == phone:
        return redirect("portal:detail", number=c.number)
    context = _detail_context(c, request.user)
    detail_url = reverse("portal:detail", args=[c.number])
    context.update(
        via_link=True,
        sign_in_url=f"{reverse('portal:login')}?{urlencode({'next': detail_url})}",
        needs_rating=c.status == Status.RESOLVED and not c.satisfaction,
    )
    return render(request, "portal/detail.html", context)
