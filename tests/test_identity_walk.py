"""No output of Kesu tells the staff complained about who complained (对投诉人身份保密): a walk over the
whole URL conf.

The walk is the one of tests/test_scope_url_walk.py (it reads `django.urls.get_resolver()`, every
include: staff pages, partials, prints, the export, the REST API, the portal, notifications, the
admin). Here the complaints are visible to the walker: two confidential complaints (identity_support:
filed on line from a portal account, anonymous to staff, about the Y01 engineering handler and their
department, with a unit, an address, a name, a phone and photos named after the complainant), walked
as that handler and as the department's manager, signed in and with API keys. Every URL about a
complaint is asked for both complaints (by number and id; GET, and POST with a stale version so that
nothing changes), every URL without parameters is asked with each trace of the complainant as every
query parameter, and every answer — HTML, JSON, xlsx, headers — is searched for the unit (label and
code), the name (full and masked), the phone (full and masked), the address and the portal account's
name. None may appear. Then the list search (`?q=`) with each of them must not find the complaints,
on the web list, the export and the API.

A renderer that reads the complainant without kesu.complaints.scope.complainant_view fails here,
whichever page it is on; so does a new page.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from api_support import make_key
from django.test import Client
from identity_support import PHONE, confidential_fixture  # noqa: F401
from test_scope_url_walk import _page_text, _without_echo, targets, walk

from kesu.complaints.models import Complaint
from kesu.complaints.validation import mask_name, mask_phone
from kesu.notify.models import Outbox

# Pages whose answer is the same whoever complained, and which show one of the traces for another
# reason: (URL name, trace) → why.
NOT_ABOUT_THE_COMPLAINANT = {
    ("api:unit-list", "unit"): "the directory of the office's homes (units, no person, no complaint)",
    ("api:unit-list", "unit code"): "the directory of the office's homes (units, no person, no complaint)",
}

# A stand-in of the same shape for each trace: a page that says back what it was asked shows the
# stand-in as often as the trace, a page that reveals the trace shows it more often.
STAND_INS = {
    "unit": "9栋-0909",
    "unit code": "Y01-9栋-0909",
    "name": "司马无名",
    "masked name": mask_name("司马无名"),
    "phone": "13700009999",
    "masked phone": mask_phone("13700009999"),
    "address": "无名路99号",
    "username": "r-000000000000",
}
QUERY_KEYS = ("q", "find", "phone", "name", "unit", "search", "address", "resident", "number")

PERSONAS = ["handler", "eng_manager", "handler-key", "eng_manager-key"]


@pytest.fixture
def persona(request, org, confidential, settings):
    # The walk asks many hundred times in a minute: not what the per-key API limit is about.
    settings.KESU_API_RATE_PER_KEY = "100000/min"
    settings.KESU_API_RATE_PER_IP = "100000/min"
    who, _sep, how = request.param.partition("-")
    user = getattr(org, who)
    client, headers = Client(), {}
    if how == "key":
        headers = {"Authorization": f"Bearer {make_key(user)}"}
    else:
        client.force_login(user)
    return SimpleNamespace(
        user=user, client=client, headers=headers, only_api=how == "key", label=request.param
    )


def _answer_text(response) -> str:
    # Headers too (Content-Disposition names a file, Location a page), percent-decoded.
    headers = " ".join(f"{k}: {unquote(v)}" for k, v in response.items())
    return _page_text(response) + "\n" + headers


def _leaks(text: str, secrets: dict[str, str], route_name: str) -> list[str]:
    return [
        f"{what} {value!r}"
        for what, value in secrets.items()
        if value and value in text and (route_name, what) not in NOT_ABOUT_THE_COMPLAINANT
    ]


def _stale_body(c: Complaint) -> dict[str, object]:
    """Something every action form could take, with a version that makes every action refuse."""
    return {
        "version": c.version + 1000,
        "text": "核实",
        "reason": "核实",
        "words": "核实",
        "resolution": "核实",
        "nature": "invalid",
        "satisfaction": "satisfied",
        "method": "phone",
        "audience": "internal",
        "next": "complaint",
    }


def _send(p, route, method: str, url: str, c: Complaint):
    call = getattr(p.client, method)
    if method == "get":
        return call(url, headers=p.headers)
    if route.is_api:
        body = json.dumps(_stale_body(c), ensure_ascii=False)
        return call(url, body, content_type="application/json", headers=p.headers)
    return call(url, _stale_body(c), headers=p.headers)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_no_url_about_the_complaint_shows_its_complainant(persona, org, confidential):
    problems, asked = [], 0
    for c in (confidential.c, confidential.done):
        c = Complaint.objects.get(pk=c.pk)
        notifications = list(Outbox.objects.filter(complaint=c, user=persona.user, channel="inapp")[:3])
        w = SimpleNamespace(
            c=c,
            attachments=list(c.attachments.order_by("pk")),
            notifications=notifications or [SimpleNamespace(pk=987654321)],
            persona_phone="",
        )
        for target in targets(w):
            if persona.only_api and not target.route.is_api:
                continue
            for method in target.route.methods():
                response = _send(persona, target.route, method, target.url, c)
                asked += 1
                if response.status_code >= 500:
                    problems.append(f"{method.upper()} {target.url}: answers {response.status_code}")
                text = _without_echo(_answer_text(response), target.url)
                for leak in _leaks(text, confidential.secrets, target.route.name):
                    problems.append(f"{method.upper()} {target.url} ({response.status_code}): shows {leak}")
    assert asked > 40, asked
    # The walk did reach the complaint (it is theirs to handle): not a walk of refusals.
    page = persona.client.get(f"/api/v1/complaints/{confidential.c.number}/", headers=persona.headers)
    assert page.status_code == 200 and page.json()["complainant_hidden"] is True
    assert not problems, f"{persona.label}:\n" + "\n".join(problems)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_no_page_asked_with_a_trace_of_the_complainant_shows_it(persona, org, confidential):
    """Lists, searches, look-ups, exports, reports, the bell, the API's lists: asked with each trace as
    every query parameter, none shows any trace more often than the same page asked with a stand-in."""
    secrets = confidential.secrets
    problems, asked = [], 0
    for route in walk():
        if route.params or (persona.only_api and not route.is_api):
            continue
        url = route.build({})
        plain = persona.client.get(url, headers=persona.headers)
        asked += 1
        if plain.status_code >= 500:
            problems.append(f"GET {url}: answers {plain.status_code}")
        for leak in _leaks(_answer_text(plain), secrets, route.name):
            problems.append(f"GET {url} ({plain.status_code}): shows {leak}")
        for what, value in secrets.items():
            stand_in = STAND_INS[what]
            asked_with = persona.client.get(url, dict.fromkeys(QUERY_KEYS, value), headers=persona.headers)
            ghost = persona.client.get(url, dict.fromkeys(QUERY_KEYS, stand_in), headers=persona.headers)
            if asked_with.status_code >= 500:
                problems.append(f"GET {url}?…={value}: answers {asked_with.status_code}")
            text, ghost_text = _answer_text(asked_with), _answer_text(ghost)
            for other, secret in secrets.items():
                if (route.name, other) in NOT_ABOUT_THE_COMPLAINANT:
                    continue
                # (A trace inside another — the unit in the unit code — is echoed with it.)
                echoed = ghost_text.count(STAND_INS[other])
                if text.count(secret) > echoed:
                    problems.append(
                        f"GET {url} asked with the {what} ({asked_with.status_code}): shows {other}"
                    )
    assert asked > 10, asked
    assert not problems, f"{persona.label}:\n" + "\n".join(sorted(set(problems)))


def _xlsx_numbers(response) -> set[str]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return {str(row[0]) for ws in book for row in ws.iter_rows(min_row=2, values_only=True)}


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
def test_searching_for_a_trace_of_the_complainant_finds_nothing(persona, org, confidential):
    numbers = {confidential.c.number, confidential.done.number}
    values = [*confidential.secrets.values(), PHONE[-4:], "梧桐"]
    problems = []
    for value in values:
        found: set[str] = set()
        r = persona.client.get("/api/v1/complaints/", {"q": value}, headers=persona.headers)
        assert r.status_code == 200, r.content
        found |= {row["number"] for row in r.json()["results"]}
        if not persona.only_api:
            html = persona.client.get("/complaints/", {"q": value}).content.decode()
            found |= {n for n in numbers if n in html}
            found |= _xlsx_numbers(persona.client.get("/complaints/export.xlsx", {"q": value}))
        if found & numbers:
            problems.append(f"?q={value} finds {sorted(found & numbers)}")
    # Searching works for them (the text is theirs to search): the complaints are not just out of scope.
    r = persona.client.get("/api/v1/complaints/", {"q": "维修师傅"}, headers=persona.headers)
    assert {row["number"] for row in r.json()["results"]} == numbers
    assert not problems, f"{persona.label}:\n" + "\n".join(problems)


def test_the_walk_sees_a_leak(org, confidential, client):
    """The same walk as the desk, who may know who complained: the traces are there to be found
    (a walk that searched nothing would pass vacuously)."""
    client.force_login(org.supervisor)
    html = client.get(f"/complaints/{confidential.c.number}/").content.decode()
    assert {"name", "masked phone", "unit", "address"} <= {
        what for what, value in confidential.secrets.items() if value in html
    }
    body = _answer_text(
        client.get(f"/complaints/{confidential.c.number}/files/{confidential.c.attachments.first().pk}/")
    )
    assert confidential.secrets["name"] in body  # the photo's own name, in its Content-Disposition


def test_templates_read_the_complainant_only_through_complainant_view():
    """The staff workspace's templates never read a complainant's field off the complaint (nor an
    attachment's own name, nor a person of the record): their views pass what complainant_view
    gives (`complainant`, `people`, rows' `who`), so a new template cannot forget the rule."""
    import re
    from pathlib import Path

    import kesu

    root = Path(kesu.__file__).parent
    direct = re.compile(
        r"\bc\.(complainant_\w+|unit\b|unit\.|unit_id|address|received_by\b|owner\b|assessed_by\b|resident\b)"
        r"|original_name|\bcb\.by\b|\.actor\.|\bc\.callbacks\b|\bc\.attachments\b"
    )
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()[:120]}"
        for folder in ("web/templates", "reports/templates")
        for path in sorted((root / folder).rglob("*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if direct.search(line)
    ]
    assert found == [], "\n".join(found)
