"""No username carries personal data, and a timeline actor the reader may not identify is shown by
role (issue 13, finding 3).

Portal accounts used to be named `r-<phone>`, and the `registered` event's actor is that account: the
API timeline and every webhook body handed the complainant's phone number to whoever read them, the
staff complained about included. Accounts now get an opaque name (existing ones are renamed by a
migration), and where the reader may not know who complained (kesu.complaints.scope.complainant_view)
a resident actor is "业主/住户" (API: `actor` null, `actor_role` "resident").
"""

from __future__ import annotations

import importlib
import json
import re

from api_support import Api, make_key
from identity_support import NAME, PHONE, confidential_fixture, leaks  # noqa: F401
from web_support import client_for, url

from kesu.org.models import Resident, User

_OPAQUE = re.compile(r"^r-[0-9a-z]{12}$")


def test_a_new_portal_account_is_named_without_personal_data(org):
    from kesu.portal.codes import resident_user

    names = []
    for phone in ("13700137000", "13700137001"):
        Resident.objects.create(unit=org.b.unit, name="李梅", phone=phone)
        user = resident_user(phone)
        assert user is not None and user.phone == phone
        assert _OPAQUE.match(user.username), user.username
        assert phone[-4:] not in user.username and phone[:7] not in user.username
        assert resident_user(phone) == user  # the same account on the next sign-in
        names.append(user.username)
    assert names[0] != names[1]


def test_existing_phone_usernames_are_renamed_by_a_migration(org):
    from django.apps import apps

    old = User.objects.create(username="r-13911112222", role="resident", phone="13911112222")
    staff = User.objects.create(username="r-2024", role="receptionist")  # not a portal account
    migration = importlib.import_module("kesu.portal.migrations.0002_opaque_resident_usernames")
    migration.rename_phone_usernames(apps, None)
    old.refresh_from_db()
    staff.refresh_from_db()
    assert _OPAQUE.match(old.username) and old.phone == "13911112222"
    assert staff.username == "r-2024"
    assert not User.objects.filter(username__regex=r"^r-\+?\d{5,}$", role="resident").exists()


def test_the_api_timeline_shows_the_complainant_by_role_to_those_complained_about(org, confidential):
    c = confidential.c
    for who in ("handler", "eng_manager"):
        events = Api(make_key(getattr(org, who))).get(f"/complaints/{c.number}/events/")
        assert events.status_code == 200
        registered = events.json()[0]
        assert registered["type"] == "registered"
        assert registered["actor"] is None and registered["actor_role"] == "resident", registered
        assert leaks(events.content.decode(), confidential.secrets) == [], who
    # Those who may know who complained see the account's name, which says nothing about the person.
    events = Api(make_key(org.supervisor)).get(f"/complaints/{c.number}/events/").json()
    assert events[0]["actor"] == confidential.account.username and events[0]["actor_role"] == "resident"
    assert events[1]["actor"] == "supervisor" and events[1]["actor_role"] == "supervisor"
    assert PHONE not in json.dumps(events)


def test_webhook_bodies_follow_the_owner_view_of_the_complainant(org, confidential):
    from kesu.api.models import WebhookSubscription
    from kesu.complaints import services
    from kesu.complaints.models import Complaint
    from kesu.notify.models import Outbox

    for owner in (org.supervisor, org.director):
        sub = WebhookSubscription.objects.create(
            owner=owner, url="https://erp.example.com/hook", events=["called_back"], secret="s" * 20
        )
        sub.offices.set([org.a.office])
    # The supervisor is the one complained about now; the complainant rates the result on line.
    Complaint.objects.filter(pk=confidential.c.pk).update(complained_staff=org.supervisor)
    c = services.resolve(Complaint.objects.get(pk=confidential.c.pk), org.handler, resolution="已修好。")
    services.call_back(c, confidential.account, method="other", satisfaction="satisfied", words="好的。")
    rows = {
        WebhookSubscription.objects.get(pk=row.payload["subscription"]).owner.username: row.body
        for row in Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK)
    }
    assert set(rows) == {"supervisor", "director"}
    assert leaks(rows["supervisor"], confidential.secrets) == []
    hidden = json.loads(rows["supervisor"])
    assert hidden["complaint"]["complainant_hidden"] is True
    assert (hidden["timeline_event"]["actor"], hidden["timeline_event"]["actor_role"]) == (None, "resident")
    shown = json.loads(rows["director"])
    assert shown["complaint"]["complainant_name"] == NAME
    assert shown["timeline_event"]["actor"] == confidential.account.username
    assert PHONE not in rows["director"]


def test_the_web_timeline_and_prints_show_the_complainant_by_role_to_those_complained_about(
    org, confidential
):
    c = confidential.done
    for who in ("handler", "eng_manager"):
        client = client_for(getattr(org, who))
        for page in (
            url("complaint", c.number),
            url("print", c.number, "handling"),
            url("print", c.number, "callback"),
        ):
            html = client.get(page).content.decode()
            assert leaks(html, confidential.secrets) == [], (who, page)
            assert "业主/住户" in html, (who, page)
            assert "住户（网上自助）" not in html, (who, page)
    # The desk sees the account as the portal names it (never the person's details either).
    html = client_for(org.supervisor).get(url("complaint", c.number)).content.decode()
    assert "住户（网上自助）" in html and PHONE not in html
