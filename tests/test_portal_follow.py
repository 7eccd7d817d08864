"""Following a complaint from the portal: plain status words, what staff told the complainant (never
internal notes or staff names), promised times, rating and confirming, signed links — and nothing at
all of anyone else's complaints."""

from __future__ import annotations

import re
import time
from unittest import mock
from urllib.parse import urlsplit

import pytest
from conftest import local
from django.test import Client
from django.urls import reverse
from portal_support import portal_home_fixture  # noqa: F401

from kesu.complaints import links, services
from kesu.complaints.choices import CallbackMethod, Status
from kesu.complaints.models import Complaint
from kesu.notify.models import Outbox
from kesu.org.models import Resident, User
from kesu.portal import progress

pytestmark = pytest.mark.usefixtures("portal_home")
AT = local(2026, 3, 10, 10, 0)
INTERNAL = "内部：怀疑是维保单位偷工减料，先别告诉业主"


@pytest.fixture
def resident(client, org):
    client.force_login(org.resident, backend="django.contrib.auth.backends.ModelBackend")
    return org.resident


@pytest.fixture
def neighbour(org):
    """Another resident of office A with a complaint of their own."""
    Resident.objects.create(unit=org.a.other_unit, name="李梅", phone="13911112222")
    return User.objects.create(username="r-13911112222", role="resident", phone="13911112222")


def file(org, by=None, **kwargs):
    by = by or org.resident
    unit = org.a.unit if by == org.resident else org.a.other_unit
    params = dict(office="Y01", channel="online", content="楼道灯坏了一周没人修。", unit=unit)
    params.update(kwargs)
    return services.register(by, **params)


def resolve(org, c, text="已更换灯管。"):
    if c.status == Status.RECEIVED:
        c = services.dispatch(c, org.supervisor, department=org.a.dept["engineering"])
    return services.resolve(c, org.handler, resolution=text)


def _page(response) -> str:
    """The page without its per-response CSRF token."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def open_page(client, c):
    return client.get(reverse("portal:detail", args=[c.number]))


def test_the_status_is_said_in_plain_words():
    c = Complaint(status=Status.RECEIVED)
    expected = {
        Status.RECEIVED: ("已受理", ""),
        Status.DISPATCHED: ("已受理", ""),
        Status.IN_PROGRESS: ("处理中", ""),
        Status.RECTIFYING: ("处理中", "正在整改"),
        Status.RESOLVED: ("已处理待回访", ""),
        Status.CLOSED: ("已完结", "已结案"),
        Status.DECLINED: ("已完结", "不予受理"),
        Status.WITHDRAWN: ("已完结", "已撤回"),
        Status.MERGED: ("已完结", "已合并处理"),
    }
    for status, words in expected.items():
        c.status = status
        got = progress.status_words(c)
        assert (got.word, got.detail) == words, status
    c.status, c.satisfaction = Status.RESOLVED, "satisfied"
    assert progress.status_words(c).detail == "您已评价：满意，等待管理处结案"


def test_the_promised_time_is_shown_as_answer_by(client, org, resident):
    c = file(org)
    due = progress.when(c.committed_answer_at)
    assert progress.deadline_words(c) == f"预计 {due} 前答复"
    page = open_page(client, c).content.decode()
    assert f"预计 {due} 前答复" in page and "已受理" in page
    c = services.note(c, org.supervisor, text="师傅明早上门。", tell_complainant=True)
    assert progress.deadline_words(c).endswith("前处理完毕")
    later = c.resolve_due_at + (c.resolve_due_at - c.received_at)
    assert "原定" in progress.deadline_words(c, now=later)


def test_the_resident_sees_what_staff_told_them_and_never_internal_notes_or_staff_names(
    client, org, resident
):
    org.handler.first_name, org.handler.display_name = "赵", "赵师傅"
    org.handler.save()
    c = file(org)
    c = services.dispatch(c, org.supervisor, department=org.a.dept["engineering"], handler=org.handler)
    c = services.accept(c, org.handler, note="收到")
    c = services.note(c, org.handler, text=INTERNAL)
    c = services.note(c, org.handler, text="已联系电梯维保单位，明天上午更换配件。", tell_complainant=True)
    c = services.resolve(c, org.handler, resolution="已更换灯管，楼道照明恢复。")
    page = open_page(client, c).content.decode()
    for told in ("已收到您的投诉", "已转交责任部门处理", "明天上午更换配件", "已更换灯管，楼道照明恢复"):
        assert told in page
    for hidden in (INTERNAL, "赵师傅", "handler", "收到</", org.supervisor.username, "工程部"):
        assert hidden not in page
    assert "已处理待回访" in page


def test_satisfied_is_a_confirmed_online_callback_then_the_office_closes_it(client, org, resident):
    c = resolve(org, file(org))
    page = open_page(client, c).content.decode()
    assert "处理结果您满意吗" in page
    response = client.post(
        reverse("portal:rate", args=[c.number]),
        {"satisfaction": "satisfied", "words": "", "version": c.version},
    )
    assert response.status_code == 302
    c.refresh_from_db()
    cb = c.callbacks.get()
    assert (cb.method, cb.satisfaction, cb.confirmed, cb.by, cb.words) == (
        CallbackMethod.OTHER,
        "satisfied",
        True,
        resident,
        "满意",
    )
    assert c.status == Status.RESOLVED
    page = open_page(client, c).content.decode()
    assert "您已评价：满意，等待管理处结案" in page and "处理结果您满意吗" not in page
    c = services.assess(c, org.supervisor, nature="assist", severity="minor", category="facilities")
    c = services.close(c, org.supervisor)
    assert "已完结" in open_page(client, c).content.decode()


def test_dissatisfied_needs_words_reopens_for_rectification_and_alerts_the_office(client, org, resident):
    c = resolve(org, file(org))
    url = reverse("portal:rate", args=[c.number])
    refused = client.post(url, {"satisfaction": "dissatisfied", "words": " ", "version": c.version})
    assert refused.status_code == 400 and "哪里还不满意" in refused.content.decode()
    Outbox.objects.all().delete()
    response = client.post(
        url, {"satisfaction": "dissatisfied", "words": "灯还是一闪一闪", "version": c.version}
    )
    assert response.status_code == 302
    c.refresh_from_db()
    assert (c.status, c.reopen_count) == (Status.RECTIFYING, 1) and c.rectify_due_at is not None
    alerted = set(Outbox.objects.filter(kind="reopened").values_list("user__username", flat=True))
    assert {"cs_manager", "director"} <= alerted
    page = client.get(response["Location"]).content.decode()
    assert "已安排整改" in page and "正在整改" in page and "整改完毕" in page


def test_a_major_complaint_cannot_be_rated_away_on_line(client, org, resident):
    c = resolve(org, file(org))
    c = services.assess(c, org.cs_manager, is_major=True)
    page = open_page(client, c).content.decode()
    assert "处理结果您满意吗" not in page and "上门回访" in page
    response = client.post(
        reverse("portal:rate", args=[c.number]),
        {"satisfaction": "satisfied", "words": "好", "version": c.version},
    )
    assert response.status_code == 302 and not c.callbacks.exists()
    assert "上门回访" in client.get(response["Location"]).content.decode()


def test_a_rating_on_a_page_that_changed_meanwhile_is_not_recorded(client, org, resident):
    c = resolve(org, file(org))
    stale = c.version
    services.note(c, org.supervisor, text="内部备注")
    response = client.post(
        reverse("portal:rate", args=[c.number]),
        {"satisfaction": "satisfied", "words": "好", "version": stale},
    )
    assert response.status_code == 302 and not c.callbacks.exists()
    assert "刷新" in client.get(response["Location"]).content.decode()


def test_a_resident_can_withdraw_their_open_complaint(client, org, resident):
    c = file(org)
    response = client.post(
        reverse("portal:withdraw", args=[c.number]), {"reason": "已和邻居协商解决", "version": c.version}
    )
    c.refresh_from_db()
    assert response.status_code == 302 and c.status == Status.WITHDRAWN
    assert "已撤回" in client.get(response["Location"]).content.decode()


def test_another_resident_gets_nothing_by_number(client, org, resident, neighbour):
    theirs = file(org, by=neighbour, content="隔壁装修太吵。")
    missing = reverse("portal:detail", args=["Y01-209901-0001"])
    nothing = client.get(missing)
    for url in (
        reverse("portal:detail", args=[theirs.number]),
        reverse("portal:sent", args=[theirs.number]),
        reverse("portal:detail", args=[str(theirs.pk)]),
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert _page(response) == _page(nothing).replace("Y01-209901-0001", theirs.number)
        assert "隔壁装修" not in response.content.decode()
    for action, data in (
        ("rate", {"satisfaction": "dissatisfied", "words": "x"}),
        ("withdraw", {"reason": "x"}),
    ):
        response = client.post(reverse(f"portal:{action}", args=[theirs.number]), {**data, "version": 1})
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Status.RECEIVED and not theirs.callbacks.exists()


def test_guessing_numbers_finds_only_ones_own(client, org, resident, neighbour):
    mine = file(org)
    for _ in range(3):
        file(org, by=neighbour)
    prefix = mine.number.rsplit("-", 1)[0]
    found = [
        n
        for n in range(1, 10)
        if client.get(reverse("portal:detail", args=[f"{prefix}-{n:04d}"])).status_code == 200
    ]
    assert found == [int(mine.number.rsplit("-", 1)[1])]
    home = client.get(reverse("portal:home")).content.decode()
    assert set(re.findall(rf"{prefix}-\d{{4}}", home)) == {mine.number}


def test_a_signed_link_opens_the_complaint_read_only_without_signing_in(org):
    c = resolve(org, file(org))
    url = links.complaint_url(c)
    assert org.resident.phone not in url
    visitor = Client()
    response = visitor.get(urlsplit(url).path)
    page = response.content.decode()
    assert response.status_code == 200 and c.number in page and "登录并评价" in page
    assert "处理结果您满意吗" not in page  # rating needs signing in
    assert response["Content-Security-Policy"]


def test_the_owner_signed_in_goes_from_the_link_to_the_full_page(client, org, resident):
    c = file(org)
    path = reverse("portal:link", args=[links.token_for(c.number, c.complainant_phone)])
    assert client.get(path)["Location"] == reverse("portal:detail", args=[c.number])


def test_a_tampered_or_expired_link_or_one_for_another_phone_shows_not_found(org, neighbour):
    c = file(org)
    theirs = file(org, by=neighbour, content="隔壁装修太吵。")
    token = links.token_for(c.number, c.complainant_phone)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 31 * 86400):
        old = links.token_for(c.number, c.complainant_phone)
    forged = links.token_for(theirs.number, org.resident.phone)  # my phone, their number
    swapped = token.replace(c.number, theirs.number)
    visitor = Client()
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), old, forged, swapped, "nonsense"):
        response = visitor.get(reverse("portal:link", args=[bad]))
        assert response.status_code == 404 and "找不到这条投诉" in response.content.decode()
        assert "隔壁装修" not in response.content.decode()


def test_the_list_costs_the_same_queries_for_many_complaints(
    client, org, resident, django_assert_max_num_queries
):
    for _ in range(3):
        file(org)
    client.get(reverse("portal:home"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("portal:home"))
    for _ in range(12):
        file(org)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("portal:home"))
