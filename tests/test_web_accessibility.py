"""Every input has a label, ids are unique, and the pages say what language they are in."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from web_support import client_for, dispatched, resolved, url

from kesu.complaints import services


class Controls(HTMLParser):
    """Collects form controls, labels and ids of a page."""

    def __init__(self):
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: Counter = Counter()
        self.label_depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea"):
            if tag == "input" and a.get("type") in ("hidden", "submit", "button"):
                return
            self.controls.append({**a, "_tag": tag, "_wrapped": self.label_depth > 0})

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1


def unlabelled(html: str) -> list[str]:
    p = Controls()
    p.feed(html)
    dupes = [i for i, n in p.ids.items() if n > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    return [
        f"{c['_tag']} name={c.get('name')}"
        for c in p.controls
        if not (
            c["_wrapped"] or c.get("id") in p.label_for or c.get("aria-label") or c.get("aria-labelledby")
        )
    ]


@pytest.mark.parametrize("who", ["reception", "supervisor", "handler", "cs_manager", "quality"])
def test_every_control_on_every_page_has_a_label(org, make_complaint, who):
    user = getattr(org, who)
    open_ = make_complaint()
    working = dispatched(org, make_complaint)
    done = resolved(org, make_complaint)
    services.call_back(done, org.supervisor, method="phone", satisfaction="dissatisfied", words="不满意")
    client = client_for(user)
    pages = [url("home"), url("list") + "?status=received", url("password_change"), url("intake")]
    pages += [
        url("complaint", c.number) for c in (open_, working, done) if who != "handler" or c.department_id
    ]
    for page in pages:
        r = client.get(page)
        assert r.status_code == 200, page
        html = r.content.decode()
        assert 'lang="zh-hans"' in html
        assert unlabelled(html) == [], page


def test_sign_in_page_controls_are_labelled(db):
    from django.test import Client

    assert unlabelled(Client().get(url("login")).content.decode()) == []
