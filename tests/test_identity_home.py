"""The home page keeps a confidential complainant's home from the staff complained about (issue 13,
finding 4: `3栋-1201 · 未分类 · 工程部` in 我的待办): each queue row shows the home as
kesu.complaints.scope.complainant_view gives it to the reader."""

from __future__ import annotations

import pytest
from identity_support import confidential_fixture, leaks  # noqa: F401
from web_support import client_for, url


@pytest.mark.parametrize("who", ["handler", "eng_manager"])
def test_the_home_queue_does_not_show_the_home_of_a_confidential_complaint(org, confidential, who):
    html = client_for(getattr(org, who)).get(url("home")).content.decode()
    assert confidential.c.number in html  # it waits for them (我的待办)…
    assert leaks(html, confidential.secrets) == []  # …without the complainant's home
    assert "未分类 · 工程部" in html


def test_the_home_queue_shows_the_home_to_those_who_may_see_it(org, make_complaint):
    from kesu.complaints import services

    c = make_complaint()
    services.dispatch(c, org.supervisor, department=org.a.dept["engineering"], handler=org.handler)
    html = client_for(org.handler).get(url("home")).content.decode()
    assert c.number in html and "3栋-1201 · 未分类" in html
