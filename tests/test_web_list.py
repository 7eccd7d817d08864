"""The complaint list: ComplaintFilter over the user's scope, Chinese word search, sorting, paging,
saved filters per user, export of exactly the filtered rows, and a query-count guard."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone
from openpyxl import load_workbook
from web_support import client_for, dispatched, url

from kesu.complaints import services
from kesu.org.choices import DepartmentType
from kesu.web.models import SavedFilter


def listed(client, **params) -> str:
    r = client.get(url("list"), params)
    assert r.status_code == 200
    return r.content.decode()


def test_list_shows_only_the_users_scope(org, make_complaint):
    a = make_complaint()
    b = services.register(
        org.reception2,
        office=org.b.office,
        channel="phone",
        content="楼道灯坏了",
        complainant_name="李四",
        phone="13900001111",
    )
    html = listed(client_for(org.supervisor))
    assert a.number in html and b.number not in html
    html = listed(client_for(org.quality))
    assert a.number in html and b.number in html


def test_filters_by_status_category_and_overdue(org, make_complaint):
    fac = make_complaint(category="facilities")
    fee = make_complaint(category="fees", content="物业费账单重复扣款")
    sent = dispatched(org, make_complaint)
    client = client_for(org.supervisor)
    html = listed(client, category="fees")
    assert fee.number in html and fac.number not in html
    html = listed(client, status="dispatched")
    assert sent.number in html and fee.number not in html
    late = make_complaint(received_at=timezone.now() - dt.timedelta(days=3), severity="general")
    html = listed(client, overdue="any")
    assert late.number in html and fee.number not in html


def test_search_finds_words_not_just_substrings(org, make_complaint):
    lift = make_complaint(content="电梯困人，老人被关了二十分钟")
    fee = make_complaint(content="物业费账单重复扣款")
    html = listed(client_for(org.supervisor), q="电梯")
    assert lift.number in html and fee.number not in html
    html = listed(client_for(org.supervisor), q=fee.number)
    assert fee.number in html and lift.number not in html


def test_sorting_and_paging(org, make_complaint):
    now = timezone.now()
    made = [make_complaint(received_at=now - dt.timedelta(hours=i)) for i in range(55)]
    client = client_for(org.supervisor)
    first = listed(client)
    assert made[0].number in first and made[54].number not in first  # newest first, 50 a page
    assert "第 1 / 2 页" in first
    second = listed(client, page=2)
    assert made[54].number in second
    oldest_first = listed(client, sort="received_at")
    assert oldest_first.index(made[54].number) < oldest_first.index(made[49].number)


def test_htmx_filter_returns_only_the_results(org, make_complaint):
    make_complaint()
    r = client_for(org.supervisor).get(
        url("list"), {"q": "电梯"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results"
    )
    html = r.content.decode()
    assert html.lstrip().startswith('<section id="results"') and "<html" not in html


def test_complained_staff_sees_no_complainant_in_the_list(org, make_complaint):
    c = make_complaint(complained_staff=org.handler)
    services.dispatch(c, org.supervisor, department=org.a.dept[DepartmentType.ENGINEERING])
    html = listed(client_for(org.handler))
    assert c.number in html and "保密" in html
    assert "王" not in html.split(c.number, 1)[1].split("</tr>", 1)[0]


def test_list_masks_phones_and_names(org, make_complaint):
    make_complaint()
    html = listed(client_for(org.supervisor))
    phone = org.a.resident.phone
    assert phone not in html and phone[:3] + "****" + phone[-4:] in html
    assert "王建国" not in html and "王**" in html


def test_saved_filters_belong_to_their_user(org, make_complaint):
    client = client_for(org.supervisor)
    r = client.post(url("save_filter"), {"name": "本周超时", "query": "overdue=any&category=facilities"})
    assert r.status_code == 302 and r["Location"].endswith("?overdue=any&category=facilities")
    saved = SavedFilter.objects.get(user=org.supervisor)
    assert "本周超时" in listed(client)
    assert "本周超时" not in listed(client_for(org.cs_manager))
    assert client_for(org.cs_manager).post(url("delete_filter", saved.pk)).status_code == 404
    assert client.post(url("delete_filter", saved.pk)).status_code == 302
    assert not SavedFilter.objects.exists()


def test_saving_a_filter_needs_a_name(org):
    r = client_for(org.supervisor).post(url("save_filter"), {"name": " ", "query": "q=x"}, follow=True)
    assert "请为筛选条件起一个名字" in r.content.decode()


def test_export_has_exactly_the_filtered_rows_with_phones_masked(org, make_complaint):
    fac = [make_complaint(category="facilities") for _ in range(3)]
    make_complaint(category="fees", content="物业费账单重复扣款")
    r = client_for(org.supervisor).get(url("export"), {"category": "facilities"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "编号"
    assert sorted(row[0] for row in rows[1:]) == sorted(c.number for c in fac)
    phone = org.a.resident.phone
    assert all(phone not in " ".join(str(v) for v in row) for row in rows)
    assert rows[1][5] == phone[:3] + "****" + phone[-4:]


def test_export_is_scoped_like_the_list(org, make_complaint):
    make_complaint()
    r = client_for(org.director2).get(url("export"))
    assert len(list(load_workbook(io.BytesIO(r.content)).active.iter_rows())) == 1  # the header only


def test_list_query_count_does_not_grow_with_rows(org, make_complaint, django_assert_max_num_queries):
    """N+1 guard: the page costs the same number of queries for 5 rows or 40."""
    for _ in range(5):
        dispatched(org, make_complaint)
    client = client_for(org.quality)
    client.get(url("list"))
    with django_assert_max_num_queries(14) as few:
        client.get(url("list"))
    for _ in range(35):
        dispatched(org, make_complaint)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url("list"))


def test_export_query_count_does_not_grow_with_rows(org, make_complaint, django_assert_max_num_queries):
    for _ in range(30):
        dispatched(org, make_complaint)
    client = client_for(org.supervisor)
    with django_assert_max_num_queries(8):
        client.get(url("export"))


def test_repeat_only_checkbox_filters(org, make_complaint):
    first = make_complaint()
    again = make_complaint()
    other = make_complaint(content="物业费账单重复扣款")
    services.link_repeat(again, org.supervisor, target=first.number)
    client = client_for(org.supervisor)
    html = listed(client, repeat="true")
    assert first.number in html and again.number in html and other.number not in html
    assert 'name="repeat" value="true"' in html and "checked" in html.split('name="repeat"', 1)[1][:80]
