"""The intake look-ups never tell staff who complained about them (issue 13, finding 2).

The look-ups (`/new/find/`, `/new/history/`, the API's `/residents/`) are the customer-service desk's
tools (kesu.complaints.scope.LOOKUP_ROLES); department staff, who might be the ones complained
about, get 403. A complaint whose complainant the clerk may not see (the clerk is the one
complained about) is never among a home's or a caller's complaints. And every user's look-ups are
counted: past the limit, a clear answer with 429 instead of an open-ended probe of homes.
"""

from __future__ import annotations

import pytest
from api_support import Api, make_key
from identity_support import NAME, PHONE, confidential_fixture  # noqa: F401
from web_support import HTMX, client_for, url

from kesu.complaints import scope


def test_department_staff_cannot_use_the_intake_lookups(org, confidential):
    unit = org.a.other_unit
    for who in ("handler", "eng_manager"):
        client = client_for(getattr(org, who))
        for name, params in (
            ("find", {"q": unit.label}),
            ("find", {"find": PHONE[-4:]}),
            ("history", {"unit": unit.label}),
            ("history", {"phone": PHONE}),
        ):
            r = client.get(url(name), params, **HTMX)
            body = r.content.decode()
            assert r.status_code == 403, (who, name, params, r.status_code)
            assert confidential.c.number not in body and NAME not in body, (who, name, params)


def test_department_staff_cannot_list_residents_through_the_api(org, confidential):
    for who in ("handler", "eng_manager"):
        user = getattr(org, who)
        for api in (Api(make_key(user)), Api(client=client_for(user))):
            r = api.get("/residents/", {"unit": org.a.other_unit.code})
            assert r.status_code == 403, (who, r.status_code)
            assert r["Content-Type"].startswith("application/problem+json")
            assert NAME not in r.content.decode()


@pytest.mark.parametrize("who", ["reception", "supervisor", "cs_manager", "director", "quality"])
def test_the_customer_service_desk_keeps_its_lookups(org, confidential, who):
    client = client_for(getattr(org, who))
    found = client.get(url("find"), {"q": org.a.other_unit.label}, **HTMX)
    assert found.status_code == 200 and NAME in found.content.decode()
    history = client.get(url("history"), {"office": org.a.office.pk, "phone": PHONE}, **HTMX)
    assert history.status_code == 200 and confidential.c.number in history.content.decode()


def test_the_lookup_roles_are_the_customer_service_side(org):
    assert [u.username for u in vars(org).values() if hasattr(u, "role") and scope.may_look_up(u)] == [
        "reception",
        "supervisor",
        "cs_manager",
        "director",
        "director2",
        "reception2",
        "quality",
    ]


def test_a_clerk_complained_about_does_not_find_that_complaint_by_home_or_phone(org, make_complaint):
    about_reception = make_complaint(complained_party="前台接待", complained_staff=org.reception)
    ordinary = make_complaint(content="地库照明不足。", category="facilities")
    for who, expected in (
        ("reception", {ordinary.number}),
        ("supervisor", {ordinary.number, about_reception.number}),
    ):
        client = client_for(getattr(org, who))
        for params in (
            {"unit": org.a.unit.label},
            {"phone": org.a.resident.phone},
            {"resident": org.a.resident.pk},
        ):
            html = client.get(url("history"), {"office": org.a.office.pk, **params}, **HTMX).content.decode()
            shown = {n for n in (ordinary.number, about_reception.number) if n in html}
            assert shown == expected, (who, params)


def test_the_intake_form_sent_back_with_errors_leaves_it_out_too(org, make_complaint):
    about_reception = make_complaint(complained_party="前台接待", complained_staff=org.reception)
    data = {
        "office": org.a.office.pk,
        "channel": "phone",
        "unit": org.a.unit.label,
        "phone": org.a.resident.phone,
    }
    r = client_for(org.reception).post(url("intake"), data, **HTMX)  # no content: 422, the form again
    assert r.status_code == 422
    assert about_reception.number not in r.content.decode()


def test_lookups_are_rate_limited_per_user(org, settings):
    settings.KESU_LOOKUPS_PER_MINUTE = 5
    client = client_for(org.reception)
    answers = [client.get(url("find"), {"q": f"3栋-12{i:02d}"}, **HTMX) for i in range(5)]
    answers.append(client.get(url("history"), {"office": org.a.office.pk, "unit": "3栋-1201"}, **HTMX))
    assert [r.status_code for r in answers] == [200] * 5 + [429]
    refused = answers[-1]
    assert "查询过于频繁" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1
    # Another clerk is not held up by this one.
    assert client_for(org.supervisor).get(url("find"), {"q": "3栋-1201"}, **HTMX).status_code == 200


def test_api_resident_lookups_are_rate_limited_per_user_too(org, settings):
    settings.KESU_LOOKUPS_PER_MINUTE = 3
    api = Api(make_key(org.reception))
    codes = [api.get("/residents/", {"q": "王建国"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_the_intake_page_offers_the_lookups_only_to_the_desk(org):
    desk = client_for(org.reception).get(url("intake")).content.decode()
    assert 'id="find"' in desk and 'id="history"' in desk
    handler = client_for(org.handler).get(url("intake"))
    assert handler.status_code == 200  # department staff still register what they are told (首问负责制)
    assert 'id="find"' not in handler.content.decode() and 'id="history"' not in handler.content.decode()


def test_a_refused_lookup_is_shown_in_place(org):
    # htmx swaps the refusal's fragment into the results (the page's htmx-config), so the clerk reads why.
    html = client_for(org.reception).get(url("intake")).content.decode()
    assert '"code":"(403|409|422|429)","swap":true' in html
