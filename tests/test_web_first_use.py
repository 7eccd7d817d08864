"""Smaller things a new user meets on the complaint page (issue 14, item 14): the close form is offered
only where closing would be accepted, a missing lesson is said once per field, and 被投诉部门/人员
shows only what was given."""

from __future__ import annotations

import re

from web_support import act, client_for, fresh, resolved, url

from kesu.complaints import services
from kesu.complaints.choices import CloseOutcome, Status
from kesu.org.choices import DepartmentType


def page(client, c) -> str:
    r = client.get(url("complaint", c.number))
    assert r.status_code == 200
    return r.content.decode()


def close_form(html: str) -> str:
    start = html.index('id="action-close"')
    return html[start : html.index("</details>", start)]


def test_before_the_callback_the_close_form_offers_only_what_would_be_accepted(org, make_complaint):
    c = resolved(org, make_complaint)  # resolved, not yet called back
    client = client_for(org.supervisor)
    form = close_form(page(client, c))
    assert 'value="resolved"' not in form  # "处理完毕，投诉人满意" would be refused on save
    assert "尚未回访" in form  # and the form says why it is not there
    assert services.close_outcomes(c, org.supervisor) == [
        o for o in CloseOutcome.values if o != CloseOutcome.RESOLVED
    ]
    # what is offered is accepted
    r = act(
        client,
        c,
        "close",
        {
            "outcome": "facts_untrue",
            "note": "经调取监控核实，情况与反映不符，已向业主说明。",
        },
    )
    assert r.status_code == 200, r.content.decode()
    assert fresh(c).status == Status.CLOSED


def test_after_a_satisfied_callback_the_close_form_offers_resolved_first(org, make_complaint):
    c = resolved(org, make_complaint)
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="satisfied", words="满意")
    form = close_form(page(client_for(org.supervisor), c))
    assert re.search(r'<option value="resolved" selected>', form)
    assert "尚未回访" not in form


def test_a_complaint_that_cannot_close_yet_offers_no_close_form(org, make_complaint):
    # not judged: every way of closing would be refused ("结案前须完成判定")
    c = make_complaint()
    c = services.resolve(c, org.supervisor, resolution="已当面解释。")
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="satisfied", words="好的")
    assert services.close_outcomes(c, org.supervisor) == []
    assert 'id="action-close"' not in page(client_for(org.supervisor), c)
    # a major complaint not yet reported to the company
    m = resolved(org, make_complaint, is_major=True)
    m = services.call_back(m, org.cs_manager, method="onsite", satisfaction="satisfied", words="满意")
    assert services.report_pending(m)
    assert 'id="action-close"' not in page(client_for(org.cs_manager), m)


def test_the_missing_lesson_is_said_once_per_field(org, make_complaint):
    c = resolved(org, make_complaint)
    c = services.call_back(c, org.supervisor, method="phone", satisfaction="satisfied", words="满意")
    r = act(client_for(org.supervisor), c, "close", {"outcome": "resolved"})
    assert r.status_code == 422
    errors = re.findall(r'<p class="error" id="id_close_(\w+)_error">([^<]*)</p>', r.content.decode())
    assert [name for name, _text in errors] == ["lesson_cause", "lesson_learned", "lesson_prevention"]
    texts = [text for _name, text in errors]
    assert len(set(texts)) == 3, texts  # no sentence printed three times
    assert texts == [
        "有效投诉结案须填写原因分析。",
        "有效投诉结案须填写经验教训。",
        "有效投诉结案须填写纠正预防措施。",
    ]


def _complained(html: str) -> str:
    m = re.search(r"<dt>被投诉部门/人员</dt><dd>([^<]*)</dd>", html)
    assert m, "no 被投诉部门/人员 row"
    return m.group(1)


def test_the_complained_about_shows_only_what_was_given(org, make_complaint):
    eng = org.a.dept[DepartmentType.ENGINEERING]
    client = client_for(org.supervisor)
    assert _complained(page(client, make_complaint(complained_department=eng))) == "工程部"
    assert _complained(
        page(client, make_complaint(complained_party="工程部", complained_department=eng))
    ) == ("工程部")
    assert _complained(
        page(client, make_complaint(complained_party="夜班电工", complained_department=eng))
    ) == ("夜班电工 · 工程部")
    assert _complained(page(client, make_complaint())) == "—"
    c = make_complaint(complained_department=eng)
    printed = client.get(url("print", c.number, "record")).content.decode()
    assert "工程部" in printed and "— · 工程部" not in printed
