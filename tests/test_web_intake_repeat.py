"""The repeat question at the intake desk (issue 14 §9): asked only when a new complaint may be the
same matter as an earlier one of the same home (same category, or similar text), and asked once:
after "不是重复投诉" the same earlier complaint is not asked about again for the same matter."""

from __future__ import annotations

from test_web_intake import form_data
from web_support import HTMX, client_for, url

from kesu.complaints.choices import EventType
from kesu.complaints.models import Complaint, ComplaintEvent

WARNING = "疑似重复投诉"
ASK = "请确认这是否是重复投诉"


def offered(html: str, number: str) -> bool:
    """The form offers "是 <number> 的重复投诉" as an answer."""
    return f'name="repeat_choice" value="{number}"' in html


def registered_last() -> Complaint:
    return Complaint.objects.order_by("-id").first()


def test_an_unrelated_complaint_of_the_same_home_registers_without_a_tick(org, make_complaint):
    lift = make_complaint()  # open, not judged yet: the case
    client = client_for(org.reception)
    html = client.get(url("history"), {"unit": "3栋-1201", "content": "楼道灯不亮"}).content.decode()
    assert lift.number in html and WARNING not in html  # listed, not asked about
    r = client.post(url("intake"), form_data(org, content="楼道灯不亮"), **HTMX)
    assert r.status_code == 200 and r["HX-Redirect"]
    # judged, in other categories: the same
    judged = make_complaint(category="facilities")
    r = client.post(url("intake"), form_data(org, content="物业费太贵，比隔壁小区高", category="fees"))
    assert r.status_code == 302
    assert Complaint.objects.count() == 4 and judged.repeats.count() == 0


def test_a_similar_complaint_is_asked_about_once(org, make_complaint):
    lift = make_complaint()
    client = client_for(org.reception)
    html = client.get(url("history"), {"unit": "3栋-1201", "content": "电梯又坏了"}).content.decode()
    assert WARNING in html and offered(html, lift.number)
    r = client.post(url("intake"), form_data(org, content="电梯又坏了"), **HTMX)
    assert r.status_code == 422 and ASK in r.content.decode() and Complaint.objects.count() == 1
    # answered, but the phone is mistyped: the answer stays, only the phone is asked for
    answer = {"repeat_choice": "new", "repeat_shown": lift.number}
    r = client.post(url("intake"), form_data(org, content="电梯又坏了", phone="12345", **answer), **HTMX)
    html = r.content.decode()
    assert r.status_code == 422 and ASK not in html and 'value="new" checked' in html
    r = client.post(url("intake"), form_data(org, content="电梯又坏了", **answer))
    assert r.status_code == 302
    new = registered_last()
    assert new.repeat_of is None
    assert ComplaintEvent.objects.get(complaint=new, type=EventType.REGISTERED).data["not_repeat_of"] == [
        lift.number
    ]


def test_not_a_repeat_answers_only_for_the_complaints_the_clerk_was_shown(org, make_complaint):
    lift = make_complaint()
    client = client_for(org.reception)
    answer = {"repeat_choice": "new", "repeat_shown": lift.number}
    # another lift complaint of the home was registered after the clerk saw the warning
    lift2 = make_complaint(content="2号电梯按钮失灵", category="facilities")
    r = client.post(url("intake"), form_data(org, content="电梯又坏了", **answer), **HTMX)
    html = r.content.decode()
    assert r.status_code == 422 and ASK in html and offered(html, lift2.number)
    r = client.post(
        url("intake"),
        form_data(org, content="电梯又坏了", **{**answer, "repeat_shown": [lift.number, lift2.number]}),
    )
    assert r.status_code == 302
    data = ComplaintEvent.objects.get(complaint=registered_last(), type=EventType.REGISTERED).data
    assert data["not_repeat_of"] == sorted([lift.number, lift2.number])


def test_after_not_a_repeat_a_second_call_about_it_is_not_asked_about_the_same_earlier_one(
    org, make_complaint
):
    lift = make_complaint(category="facilities")
    client = client_for(org.reception)
    # the corridor light, judged "facilities" like the lift: asked once, answered "not a repeat"
    first = form_data(org, content="楼道灯不亮，晚上看不见路。", category="facilities")
    r = client.post(url("intake"), first, **HTMX)
    assert r.status_code == 422 and offered(r.content.decode(), lift.number)
    r = client.post(url("intake"), {**first, "repeat_choice": "new", "repeat_shown": lift.number})
    assert r.status_code == 302
    light = registered_last()
    # the second call about the light: the lift complaint is listed with the answer, not asked about;
    # whether it repeats the first call about the light is a new question
    second = form_data(org, content="楼道灯还是不亮", category="facilities")
    r = client.post(url("intake"), second, **HTMX)
    html = r.content.decode()
    assert r.status_code == 422 and offered(html, light.number) and not offered(html, lift.number)
    assert f"{light.number} 登记时已确认不是此投诉的重复投诉" in html
    r = client.post(url("intake"), {**second, "repeat_choice": light.number})
    assert r.status_code == 302
    assert light.number in ComplaintEvent.objects.get(complaint=registered_last(), type=EventType.NOTE).note


def test_a_call_about_the_earlier_matter_itself_is_still_asked(org, make_complaint):
    lift = make_complaint(category="facilities")
    client = client_for(org.reception)
    first = form_data(org, content="楼道灯不亮", category="facilities", repeat_choice="new")
    assert client.post(url("intake"), {**first, "repeat_shown": lift.number}).status_code == 302
    r = client.post(url("intake"), form_data(org, content="电梯又停了，还是没修好"), **HTMX)
    html = r.content.decode()
    assert r.status_code == 422 and offered(html, lift.number)
    assert not offered(html, registered_last().number)  # the light is another matter
