"""My notifications (/notifications/): each person sees only their own in-app rows, newest first,
marks them read, and the header gets the unread count."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import local

from kesu.notify.models import Outbox

TUE_10 = local(2026, 3, 10, 10, 0)


@pytest.fixture
def rows(org, make_complaint):
    c = make_complaint(received_at=TUE_10, at=TUE_10)

    def add(user, n, channel="inapp", **extra):
        return Outbox.objects.create(
            created_at=TUE_10 + dt.timedelta(minutes=n),
            kind="dispatched",
            channel=channel,
            user=user,
            complaint=c,
            subject=f"新派单 {c.number} #{n}",
            body=f"请于 2026-03-12 12:00 前处理完毕。#{n}",
            delivery_key=f"t{n}:{user.username}:{channel}",
            next_attempt_at=TUE_10,
            **extra,
        )

    return {
        "old": add(org.handler, 1),
        "new": add(org.handler, 2),
        "read": add(org.handler, 3, read_at=TUE_10),
        "email": add(org.handler, 4, channel="email"),  # the same message by e-mail: not an in-app row
        "others": add(org.director2, 5),
        "complaint": c,
    }


def test_i_see_my_in_app_notifications_newest_first_and_nobody_elses(client, org, rows):
    client.force_login(org.handler)
    page = client.get("/notifications/")
    assert page.status_code == 200
    text = page.content.decode()
    assert text.index("#3") < text.index("#2") < text.index("#1")
    assert "#4" not in text and "#5" not in text
    assert '<small id="unread-count">未读 2 条</small>' in text
    unread_only = client.get("/notifications/", {"unread": "1"}).content.decode()
    assert "#2" in unread_only and "#3" not in unread_only


def test_the_unread_count_is_mine(client, org, rows):
    client.force_login(org.handler)
    assert client.get("/notifications/unread.json").json() == {"unread": 2}
    client.force_login(org.director2)
    assert client.get("/notifications/unread.json").json() == {"unread": 1}


def test_marking_read(client, org, rows):
    client.force_login(org.handler)
    answer = client.post(f"/notifications/{rows['old'].pk}/read/")
    assert answer.status_code == 302
    rows["old"].refresh_from_db()
    assert rows["old"].read_at is not None
    assert client.get("/notifications/unread.json").json() == {"unread": 1}
    answer = client.post(f"/notifications/{rows['new'].pk}/read/", {"next": "complaint"})
    assert answer["Location"] == f"/complaints/{rows['complaint'].number}/"
    client.post("/notifications/read-all/")
    assert client.get("/notifications/unread.json").json() == {"unread": 0}
    rows["others"].refresh_from_db()
    assert rows["others"].read_at is None


def test_nobody_can_read_or_mark_another_persons_notification(client, org, rows):
    client.force_login(org.handler)
    assert client.post(f"/notifications/{rows['others'].pk}/read/").status_code == 404
    assert client.post(f"/notifications/{rows['email'].pk}/read/").status_code == 404
    rows["others"].refresh_from_db()
    assert rows["others"].read_at is None


def test_the_bell_is_an_htmx_partial_with_the_count(client, org, rows):
    client.force_login(org.handler)
    bell = client.get("/notifications/bell/").content.decode()
    assert 'id="notify-bell"' in bell and '<span class="bell-count">2<' in bell
    answer = client.post(f"/notifications/{rows['old'].pk}/read/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and '<span class="bell-count">1<' in answer.content.decode()


def test_every_page_polls_the_bell_so_a_new_job_shows_without_reloading(client, org, rows):
    client.force_login(org.handler)
    page = client.get("/").content.decode()
    bell = re.search(r'<a class="bell" id="notify-bell"[^>]*>', page).group(0)
    assert 'hx-get="/notifications/bell/"' in bell and 'hx-trigger="every 60s"' in bell
    Outbox.objects.create(
        user=org.handler,
        channel=Outbox.Channel.INAPP,
        kind="dispatched",
        subject="新派单",
        body="",
        delivery_key="poll-test",
        created_at=TUE_10,
        next_attempt_at=TUE_10,
    )
    polled = client.get("/notifications/bell/", HTTP_HX_REQUEST="true").content.decode()
    assert '<span class="bell-count">3<' in polled


def _expiry(client) -> str:
    from django.contrib.sessions.models import Session

    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date.isoformat()


def test_the_bells_poll_does_not_keep_an_unattended_session_alive(client, org, rows):
    """Every request renews the 8-hour idle time, except the bell's background poll: a page left open at
    the front desk still signs out; and once signed out, the next poll sends the page to sign-in."""
    import time

    client.force_login(org.handler)
    client.get("/")
    before = _expiry(client)
    time.sleep(1.1)
    answer = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200 and "sessionid" not in answer.cookies
    assert _expiry(client) == before  # not renewed by the poll
    time.sleep(0.1)
    client.get("/")
    assert _expiry(client) > before  # the user's own request renews it

    client.logout()  # the idle time ran out
    answer = client.get(
        "/notifications/bell/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://x/complaints/"
    )
    assert answer["HX-Redirect"] == "/login/?next=%2Fcomplaints%2F"


def test_signed_out_visitors_are_sent_to_sign_in(client, rows):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/unread.json").status_code == 401
    assert client.post(f"/notifications/{rows['old'].pk}/read/").status_code == 302
    rows["old"].refresh_from_db()
    assert rows["old"].read_at is None


def test_marking_read_needs_a_post(client, org, rows):
    client.force_login(org.handler)
    assert client.get(f"/notifications/{rows['old'].pk}/read/").status_code == 405


def test_the_list_costs_the_same_few_queries_however_many_notifications(
    client, org, rows, django_assert_max_num_queries
):
    for n in range(10, 40):
        Outbox.objects.create(
            created_at=TUE_10,
            kind="night",
            channel="inapp",
            user=org.handler,
            complaint=rows["complaint"],
            subject="x",
            body="y",
            delivery_key=f"many{n}",
        )
    client.force_login(org.handler)
    with django_assert_max_num_queries(12):
        assert client.get("/notifications/").status_code == 200
