"""Every URL that names a complaint refuses people outside its scope: a walk over the whole URL conf.

Nothing here is a hand-kept list of pages. The walk reads `django.urls.get_resolver()` (through every
include: staff pages, portal, REST API under /api/v1/, notifications, admin), and for each pattern that
names a complaint — its number or id, or a sub-path hanging off it (files, photos, actions, print
forms, the timeline, callbacks, signed links, a notification about it, its admin pages) — it builds
the URL for a complaint of office Y01 and sends it (GET and POST; for API views also the other methods
the viewset routes) as people who must not see it:

* staff of office Y02 (director, receptionist), signed in;
* API keys of office Y02 (the director's; and a company-wide executive's key limited to Y02);
* a resident of Y01 who is not the complainant, signed in through the portal's SMS code.

Each answer must be a refusal (404 or 403; 405 when the view does not take that method; a redirect
to a sign-in page), the same answer a complaint that does not exist gets (no existence oracle), and no
body may carry the complaint's number, content, the complainant's name, phone (whole or masked) or an
attachment's file name. Nothing may change on the complaint.

A new URL parameter the walker does not know fails `test_the_walker_knows_every_url_parameter`,
naming the URL: teach RULES below what it names (a complaint, or something else and why).
"""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.regex_helper import normalize
from portal_support import jpeg_bytes, portal_home_fixture, sign_in  # noqa: F401

from kesu.complaints import services
from kesu.complaints.models import Complaint, ComplaintEvent
from kesu.complaints.validation import mask_phone
from kesu.org.choices import DepartmentType
from kesu.org.models import Resident

GHOST_NUMBER = "Y01-209912-9999"  # the shape of a real number; no such complaint
GHOST_ID = 987654321
NAME = "欧阳晓岚"
CONTENT = "翠湖花园3栋2号电梯昨晚困人十五分钟，业主要求书面道歉并赔偿误工费。"
HANDLING = "已联系维保单位更换门机板，并向业主当面致歉。"
INTRUDER_PHONE = "13911112222"

# --------------------------------------------------------------------------------------------------
# The walk


@dataclass(frozen=True)
class Route:
    display: str  # "complaints/<str:key>/files/<int:pk>/", as the URL conf spells it
    regex: str  # the whole pattern, includes joined
    converters: dict
    pattern: URLPattern = field(compare=False)
    name: str  # "web:attachment"; "" for an unnamed pattern

    @property
    def template(self) -> tuple[str, list[str]]:
        fmt, params = normalize(self.regex)[0]
        return "/" + fmt, list(params)

    @property
    def params(self) -> list[str]:
        return self.template[1]

    def build(self, values: dict[str, object]) -> str:
        fmt, params = self.template
        args = {}
        for p in params:
            conv = self.converters.get(p)
            args[p] = conv.to_url(values[p]) if conv else str(values[p])
        url = fmt % args
        assert re.match(self.regex, url[1:]), (self.display, url)
        return url

    def segment_before(self, param: str) -> str:
        """The literal path segment just before a parameter: "files" for files/<int:pk>/."""
        fmt, _params = self.template
        head = fmt.split(f"%({param})s", 1)[0].rstrip("/")
        return head.rsplit("/", 1)[-1]

    @property
    def is_api(self) -> bool:
        from rest_framework.views import APIView

        cls = getattr(self.pattern.callback, "cls", None)
        return isinstance(cls, type) and issubclass(cls, APIView)

    def methods(self) -> list[str]:
        """GET and POST for every view; for a DRF viewset also whatever else its router maps."""
        extra = getattr(self.pattern.callback, "actions", None) or {}
        return ["get", "post"] + sorted(m for m in extra if m not in ("get", "post", "head", "options"))


def walk(resolver: URLResolver | None = None, regex: str = "", display: str = "", ns=(), conv=None):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        part = p.pattern.regex.pattern
        part = part[1:] if part.startswith("^") else part
        converters = {**(conv or {}), **getattr(p.pattern, "converters", {})}
        shown = display + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p, regex + part, shown, ns + ((p.namespace,) if p.namespace else ()), converters)
        else:
            name = ":".join((*ns, p.name)) if p.name else ""
            yield Route(shown, regex + part, converters, p, name)


# --------------------------------------------------------------------------------------------------
# What each URL parameter names. A rule gets (route, fixture) and returns [(real, ghost), ...] values
# for that parameter; NotAComplaint says the whole pattern is about something else, and why.


class NotAComplaint(Exception):
    pass


Values = list[tuple[object, object]]


def _complaint_key(route: Route, w) -> Values:
    """Number and id both: staff pages take either; other views must refuse the id as well."""
    return [(w.c.number, GHOST_NUMBER), (w.c.pk, GHOST_ID)]


def _web_actions() -> list[str]:
    from kesu.web.actions import ACTIONS

    return sorted(ACTIONS)


def _print_forms() -> list[str]:
    from kesu.web.views.printing import FORMS

    return sorted(FORMS)


# Sub-paths of a complaint, by (segment before the parameter, parameter).
SUB_PATHS: dict[tuple[str, str], Callable[[Route, SimpleNamespace], Values]] = {
    ("files", "pk"): lambda r, w: [(a.pk, a.pk) for a in w.attachments],
    ("photos", "pk"): lambda r, w: [(a.pk, a.pk) for a in w.attachments],
    ("do", "action"): lambda r, w: [(a, a) for a in _web_actions()],
    ("reload", "action"): lambda r, w: [(a, a) for a in _web_actions()],
    ("print", "form"): lambda r, w: [(f, f) for f in _print_forms()],
}

# Patterns with parameters that name something other than a complaint (covered by their own tests).
NOT_ABOUT_A_COMPLAINT = {
    "api:webhook-detail": "a webhook subscription (tests/test_api_webhooks.py)",
    "api:webhook-deliveries": "a webhook subscription (tests/test_api_webhooks.py)",
    "web:delete_filter": "a saved list filter, the user's own (tests/test_web_list.py)",
    "portal:qr_sheet": "an office's QR poster (tests/test_portal_qr.py)",
    "admin:auth_user_password_change": "a user account",
    "admin:app_list": "an app's model list",
}


def _link_token(route: Route, w) -> Values:
    """A signed link minted for this complaint and the visitor's own phone: valid signature, wrong owner."""
    from kesu.complaints import links

    phone = w.persona_phone or "13000000000"
    return [(links.token_for(w.c.number, phone), links.token_for(GHOST_NUMBER, phone))]


def _notification(route: Route, w) -> Values:
    return [(n.pk, GHOST_ID) for n in w.notifications]


def _admin_model(route: Route):
    parts = route.display.split("/")
    if len(parts) < 3 or parts[0] != "admin":
        return None
    try:
        model = apps.get_model(parts[1], parts[2])
    except (LookupError, ValueError):
        return None
    return model if admin.site.is_registered(model) else None


def _complaint_path(model) -> str | None:
    """The lookup from `model` to its complaint ("pk", "complaint", "breach__complaint"), if any."""
    if model is Complaint:
        return "pk"
    for f in model._meta.get_fields():
        if f.many_to_one or f.one_to_one:
            if not f.concrete or f.related_model is None:
                continue
            if f.related_model is Complaint:
                return f.name
            for g in f.related_model._meta.get_fields():
                if (g.many_to_one or g.one_to_one) and g.concrete and g.related_model is Complaint:
                    return f"{f.name}__{g.name}"
    return None


def _admin_object(route: Route, w) -> Values:
    model = _admin_model(route)
    lookup = _complaint_path(model) if model else None
    if lookup is None:
        raise NotAComplaint(f"admin page of {model._meta.label if model else '?'}, which has no complaint")
    rows = list(model.objects.filter(**{lookup: w.c.pk}).values_list("pk", flat=True)[:3])
    return [(pk, GHOST_ID) for pk in rows or [w.c.pk]]


def _admin_view_on_site(route: Route, w) -> dict[str, Values]:
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Complaint).pk
    return {"content_type_id": [(ct, ct)], "object_id": [(w.c.pk, GHOST_ID)]}


def _admin_catch_all(route: Route, w) -> Values:
    raise NotAComplaint("the admin's catch-all (redirects to sign-in or 404)")


# Parameter rules by name. Each is (applies?, values) so one name can mean different things by route.
RULES: list[tuple[str, Callable[[Route], bool], Callable[[Route, SimpleNamespace], Values]]] = [
    ("key", lambda r: True, _complaint_key),
    ("number", lambda r: True, _complaint_key),
    ("token", lambda r: r.name == "portal:link", _link_token),
    ("pk", lambda r: r.name == "notify:read", _notification),
    ("object_id", lambda r: _admin_model(r) is not None, _admin_object),
    ("url", lambda r: r.display.startswith("admin/"), _admin_catch_all),
]
COMPLAINT_KEYS = {"key", "number"}


class Unfillable(Exception):
    pass


def plan(route: Route, w) -> list[dict[str, object]] | str:
    """For a pattern about a complaint: the list of value sets (each with "__ghost__", the same URL for
    a complaint that does not exist). For any other pattern: why it is not walked (a str)."""
    params = route.params
    if not params:
        return "takes no parameter"
    if route.name in NOT_ABOUT_A_COMPLAINT:
        return NOT_ABOUT_A_COMPLAINT[route.name]
    choices: dict[str, Values] = {}
    try:
        if route.name == "admin:view_on_site":
            choices.update(_admin_view_on_site(route, w))
        for p in params:
            if p in choices:
                continue
            rule = next((values for name, applies, values in RULES if name == p and applies(route)), None)
            if rule is None and COMPLAINT_KEYS & set(params):
                rule = SUB_PATHS.get((route.segment_before(p), p))
            if rule is None:
                raise Unfillable(
                    f"{route.display} (name {route.name or 'unnamed'!r}): the URL walk cannot fill "
                    f"parameter {p!r}. Teach tests/test_scope_url_walk.py what it names: a complaint "
                    f"(RULES or SUB_PATHS) or something else (NOT_ABOUT_A_COMPLAINT)."
                )
            choices[p] = rule(route, w)
    except NotAComplaint as e:
        return str(e)
    plans = []
    for combo in itertools.product(*(choices[p] for p in params)):
        real = {p: v[0] for p, v in zip(params, combo, strict=True)}
        real["__ghost__"] = {p: v[1] for p, v in zip(params, combo, strict=True)}
        plans.append(real)
    return plans


@dataclass
class Target:
    route: Route
    url: str
    ghost: str


def targets(w) -> Iterator[Target]:
    for route in walk():
        steps = plan(route, w)
        if isinstance(steps, str):
            continue
        for values in steps:
            ghost = values.pop("__ghost__")
            url = route.build(values)
            match = resolve(urlsplit(url).path)
            assert match.func is route.pattern.callback, (
                f"{url} was built for {route.display} but resolves to {match.route}: shadowed pattern?"
            )
            yield Target(route, url, route.build(ghost))


# --------------------------------------------------------------------------------------------------
# Fixtures


def _png(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


@pytest.fixture
def y01(org):
    """A Y01 complaint with everything that hangs off it: a resident's photo, a staff attachment, a
    timeline, a callback, and in-app notifications to Y01 staff."""
    Resident.objects.filter(pk=org.a.resident.pk).update(name=NAME)
    c = services.register(
        org.resident,
        office="Y01",
        channel="online",
        content=CONTENT,
        unit=org.a.unit,
        complainant_name=NAME,
        attachments=[(SimpleUploadedFile("欧阳家门口.jpg", jpeg_bytes()), "欧阳家门口.jpg")],
    )
    c = services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    c = services.accept(c, org.handler)
    services.add_attachment(c, org.handler, _png("欧阳晓岚-现场.png"), "欧阳晓岚-现场.png")
    c = services.note(Complaint.objects.get(pk=c.pk), org.handler, text="内部：维保合同下月到期。")
    c = services.resolve(c, org.handler, resolution=HANDLING)
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="satisfied", words="满意，谢谢。")
    c = Complaint.objects.get(pk=c.pk)
    from kesu.notify.models import Outbox

    notifications = list(Outbox.objects.filter(complaint=c, channel=Outbox.Channel.INAPP).order_by("pk")[:3])
    if not notifications:
        notifications = [
            Outbox.objects.create(
                created_at=c.received_at,
                kind="registered",
                user=org.director,
                channel=Outbox.Channel.INAPP,
                complaint=c,
                subject=f"新投诉 {c.number}",
                body=CONTENT,
                delivery_key=f"walk-{c.pk}",
            )
        ]
    attachments = list(c.attachments.order_by("pk"))
    assert len(attachments) == 2 and c.complainant_name == NAME, (attachments, c.complainant_name)
    secrets = [c.number, CONTENT[:12], CONTENT[-10:], HANDLING[:10], NAME, c.complainant_phone]
    secrets += [mask_phone(c.complainant_phone)] + [a.original_name for a in attachments]
    return SimpleNamespace(c=c, attachments=attachments, notifications=notifications, secrets=secrets)


PERSONAS = ["director2", "reception2", "director2-key", "executive-key-Y02", "resident-neighbour"]


@pytest.fixture
def persona(request, org, y01, client, portal_home, django_capture_on_commit_callbacks):
    """(client, extra headers, which routes it walks, its phone) for one persona."""
    from api_support import make_key

    who = request.param
    if who in ("director2", "reception2"):
        client.force_login(getattr(org, who))
        return SimpleNamespace(client=client, headers={}, only_api=False, phone="", label=who)
    keys = {
        "director2-key": lambda: make_key(org.director2, ["Y02"]),
        # A company-wide user whose key is narrowed to Y02: the key's offices must hold.
        "executive-key-Y02": lambda: make_key(org.executive, ["Y02"]),
    }
    if who in keys:
        headers = {"Authorization": f"Bearer {keys[who]()}"}
        return SimpleNamespace(client=Client(), headers=headers, only_api=True, phone="", label=who)
    assert who == "resident-neighbour"
    Resident.objects.create(unit=org.a.other_unit, name="李梅", phone=INTRUDER_PHONE)
    sign_in(client, django_capture_on_commit_callbacks, portal_home, INTRUDER_PHONE)
    return SimpleNamespace(client=client, headers={}, only_api=False, phone=INTRUDER_PHONE, label=who)


# --------------------------------------------------------------------------------------------------
# Asking


def sign_in_pages() -> set[str]:
    from django.conf import settings

    return {settings.LOGIN_URL, reverse("web:login"), reverse("portal:login"), reverse("admin:login")}


def form_body(c: Complaint) -> dict[str, object]:
    """Something every action form could take: if scope failed, the request would do something."""
    return {
        "version": c.version,
        "text": "越权测试",
        "reason": "越权测试",
        "words": "越权测试",
        "resolution": "越权测试",
        "satisfaction": "dissatisfied",
        "method": "phone",
        "audience": "internal",
        "confirmed": "on",
        "next": "complaint",
    }


def send(p, target: Target, method: str, url: str, c: Complaint):
    call = getattr(p.client, method)
    if target.route.is_api:
        body = json.dumps({k: v for k, v in form_body(c).items() if k != "confirmed"}, ensure_ascii=False)
        if method == "get":
            return call(url, headers=p.headers)
        return call(url, body, content_type="application/json", headers=p.headers)
    if method == "get":
        return call(url, headers=p.headers)
    return call(url, form_body(c), headers=p.headers)


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _without_echo(text: str, url: str) -> str:
    """The page may say where it was asked (a `next` field, a problem's `instance`): not a leak."""
    path = urlsplit(url).path
    for echo in (path, quote(path), quote(path, safe=""), json.dumps(path)[1:-1]):
        text = text.replace(echo, "")
    return text


def refusal_problems(response, ghost_response, url: str, w, method: str) -> list[str]:
    problems = []
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        where = urlsplit(response["Location"]).path
        if where not in sign_in_pages():
            problems.append(f"redirects to {response['Location']} (not a sign-in page)")
    elif status not in (403, 404, 405):
        problems.append(f"answers {status}")
    if status != ghost_response.status_code:
        problems.append(
            f"answers {status} but {ghost_response.status_code} for a complaint that does not exist"
        )
    text = _without_echo(_text(response), url)
    location = _without_echo(response.get("Location", ""), url)
    for secret in w.secrets:
        if secret and (secret in text or secret in location):
            problems.append(f"shows {secret!r}")
    return [f"{method.upper()} {url}: {p}" for p in problems]


# Real leaks the walk found, to be fixed outside this file: {(persona, URL name, method): reason}.
KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}


# --------------------------------------------------------------------------------------------------
# Tests


def test_the_walker_knows_every_url_parameter(org, y01):
    unknown, walked, skipped = [], set(), {}
    w = SimpleNamespace(**vars(y01), persona_phone="")
    for route in walk():
        try:
            steps = plan(route, w)
        except Unfillable as e:
            unknown.append(str(e))
            continue
        if isinstance(steps, str):
            skipped[route.display] = steps
        else:
            assert steps, f"{route.display}: about a complaint, but the fixture gave it nothing to ask"
            walked.add(route.name or route.display)
    assert not unknown, "\n".join(unknown)
    # The walk reaches every kind of complaint URL (a broken resolver walk would pass vacuously).
    for name in (
        "web:complaint",
        "web:act",
        "web:attachment",
        "web:print",
        "web:reveal",
        "portal:detail",
        "portal:photo",
        "portal:rate",
        "portal:link",
        "api:complaint-detail",
        "api:complaint-events",
        "api:complaint-callback",
        "notify:read",
        "admin:complaints_complaint_change",
    ):
        assert name in walked, (name, sorted(walked))


def _stub(request, **kwargs):  # for the URL conf below
    raise AssertionError("never called")


def test_a_new_complaint_parameter_fails_the_walk_by_name(org, y01, settings):
    """Someone adds complaints/<key>/share/<str:channel>/: the walk names it instead of skipping it."""
    import sys
    from types import ModuleType

    from django.urls import clear_url_caches, include, path

    module = ModuleType("kesu_walk_test_urls")
    module.urlpatterns = [
        path("complaints/<str:key>/share/<str:channel>/", _stub, name="share"),
        path("", include("kesu.urls")),
    ]
    sys.modules[module.__name__] = module
    settings.ROOT_URLCONF = module.__name__
    clear_url_caches()
    try:
        w = SimpleNamespace(**vars(y01), persona_phone="")
        with pytest.raises(Unfillable, match=r"complaints/<str:key>/share/<str:channel>/.*'channel'"):
            for route in walk():
                plan(route, w)
    finally:
        del sys.modules[module.__name__]
        clear_url_caches()


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_no_complaint_url_opens_a_complaint_outside_ones_scope(persona, y01):
    c = y01.c
    events = ComplaintEvent.objects.filter(complaint=c).count()
    w = SimpleNamespace(**vars(y01), persona_phone=persona.phone)
    problems, leaks, asked = [], [], 0
    for target in targets(w):
        if persona.only_api and not target.route.is_api:
            continue
        answered = False
        for method in target.route.methods():
            response = send(persona, target, method, target.url, c)
            ghost = send(persona, target, method, target.ghost, c)
            asked += 1
            found = refusal_problems(response, ghost, target.url, w, method)
            if response.status_code != 405:
                answered = True
            known = KNOWN_LEAKS.get((persona.label, target.route.name, method))
            (leaks if known else problems).extend(found)
        if not answered:
            problems.append(f"{target.url}: every method answered 405, so the walk asked nothing")
    assert asked > 20, asked
    if Complaint.objects.get(pk=c.pk).version != c.version:
        problems.append("the complaint was changed (its version moved)")
    if ComplaintEvent.objects.filter(complaint=c).count() != events:
        problems.append("the complaint's timeline grew")
    assert not problems, f"{persona.label}:\n" + "\n".join(problems)
    if leaks:
        pytest.xfail("known leaks: " + "; ".join(leaks))


def _page_text(response) -> str:
    """Text of a page, a JSON answer or a spreadsheet (the list's export)."""
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        import openpyxl

        book = openpyxl.load_workbook(
            io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
        )
        return "\n".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v)
    return _text(response)


GHOST_PHONE = "13700009999"
GHOST_NAME = "司马无名"


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_no_page_without_a_complaint_key_shows_it_either(persona, y01):
    """Lists, searches, look-ups, exports, reports, the bell: asked for the complaint by every way a
    query names it, none shows it outside the scope. A page may say back what it was asked (a search
    box, a `next` link): each answer is compared with the same query for a complaint that does not
    exist, which must show its made-up number, phone and name exactly as often."""
    c = y01.c

    def query(number: str, phone: str, name: str) -> dict[str, str]:
        return {
            "q": number,
            "find": number,
            "number": number,
            "phone": phone,
            "name": name,
            "search": name,
            "office": "Y01",
            "unit": c.unit.code if c.unit_id else "",
        }

    pairs = [
        (c.number, GHOST_NUMBER),
        (c.complainant_phone, GHOST_PHONE),
        (mask_phone(c.complainant_phone), mask_phone(GHOST_PHONE)),
        (NAME, GHOST_NAME),
    ]
    pairs += [(s, "") for s in y01.secrets if s not in dict(pairs)]
    problems, asked = [], 0
    for route in walk():
        if route.params or (persona.only_api and not route.is_api):
            continue
        url = route.build({})
        response = persona.client.get(
            url, query(c.number, c.complainant_phone, NAME), headers=persona.headers
        )
        ghost = persona.client.get(url, query(GHOST_NUMBER, GHOST_PHONE, GHOST_NAME), headers=persona.headers)
        asked += 1
        text, ghost_text = _page_text(response), _page_text(ghost)
        for secret, stand_in in pairs:
            said = text.count(secret)
            echoed = ghost_text.count(stand_in) if stand_in else 0
            if said > echoed:
                problems.append(f"GET {url} ({response.status_code}): shows {secret!r}")
    assert asked > 5, asked
    assert not problems, f"{persona.label}:\n" + "\n".join(problems)


def test_a_residents_portal_session_does_not_open_the_staff_api(org, y01, client):
    """The API is for staff and integration keys (ApiAccess's docstring); the complainant's own
    complaint is theirs to follow on the portal, which leaves out internal notes and staff names."""
    client.force_login(org.resident)  # the complainant, as the portal signs them in
    for url in (
        f"/api/v1/complaints/{y01.c.number}/events/",
        f"/api/v1/complaints/{y01.c.number}/",
        "/api/v1/complaints/",
        "/api/v1/residents/",
        f"/api/v1/residents/?q={org.a.resident.phone}",
        "/api/v1/units/",
        "/api/v1/departments/",
    ):
        response = client.get(url)
        assert response.status_code == 403, (url, response.status_code)
        assert response["Content-Type"].startswith("application/problem+json"), url
        assert "维保合同" not in response.content.decode()  # the internal note
