"""Search keeps a confidential complainant from the staff complained about (issue 13, finding 5),
while the desk finds complaints by the caller (issue 14, item 4).

Search matches the complaint's text for everyone who sees the complaint, and the complainant's
name, phone, home and address only for a viewer who may know who complained
(kesu.complaints.scope.complainant_visible_q, the query twin of complainant_view): a word of the
address confirms nothing to the person complained about.
"""

from __future__ import annotations

import pytest
from api_support import Api, make_key
from identity_support import ADDRESS, NAME, PHONE, confidential_fixture, leaks  # noqa: F401
from web_support import client_for, url

from kesu.complaints.filters import ComplaintFilter
from kesu.complaints.models import Complaint
from kesu.complaints.validation import mask_phone


def _web_numbers(user, q: str) -> set[str]:
    html = client_for(user).get(url("list"), {"q": q}).content.decode()
    return {n for n in Complaint.objects.values_list("number", flat=True) if n in html}


def _api_numbers(user, q: str) -> set[str]:
    r = Api(make_key(user)).get("/complaints/", {"q": q})
    assert r.status_code == 200, r.content
    return {row["number"] for row in r.json()["results"]}


def _export_numbers(user, q: str) -> set[str]:
    import io

    import openpyxl

    r = client_for(user).get(url("export"), {"q": q})
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    return {row[0] for ws in book for row in ws.iter_rows(min_row=2, values_only=True)}


SEARCHES = (_web_numbers, _api_numbers, _export_numbers)


@pytest.mark.parametrize("who", ["handler", "eng_manager"])
def test_a_word_of_the_withheld_address_finds_nothing_for_those_complained_about(org, confidential, who):
    user = getattr(org, who)
    c = confidential.c
    for search in SEARCHES:
        assert c.number in search(user, "电梯"), search  # the text is theirs to search…
        for q in ("梧桐", ADDRESS, NAME, PHONE, PHONE[-4:], mask_phone(PHONE), org.a.other_unit.label):
            assert search(user, q) == set(), (search.__name__, q)  # …the complainant is not


@pytest.mark.parametrize("who", ["reception", "supervisor", "director", "quality"])
def test_the_desk_finds_complaints_by_the_callers_name_phone_home_or_address(org, confidential, who):
    user = getattr(org, who)
    both = {confidential.c.number, confidential.done.number}
    for search in SEARCHES:
        for q in (NAME, PHONE, PHONE[-4:], mask_phone(PHONE), org.a.other_unit.label, "梧桐", ADDRESS):
            assert search(user, q) == both, (search.__name__, q)
        assert search(user, f"{NAME} 楼道灯") == {confidential.done.number}  # with words of the text


def test_the_desk_sees_the_matching_callers_masked(org, confidential):
    html = client_for(org.reception).get(url("list"), {"q": PHONE}).content.decode()
    results = html[html.index('<table class="list-table"') :]  # the page says back what was typed, above
    assert mask_phone(PHONE) in results and PHONE not in results
    assert NAME not in results and NAME[0] + "***" in results


def test_a_filter_without_a_viewer_matches_the_text_only(org, confidential):
    qs = Complaint.objects.all()
    assert not ComplaintFilter({"q": NAME}, queryset=qs).qs.exists()
    assert ComplaintFilter({"q": "楼道灯"}, queryset=qs).qs.count() == 1


def test_the_stored_search_text_holds_no_complainant_field(org, confidential):
    for c in (confidential.c, confidential.done):
        c.refresh_from_db()
        assert "梧桐" not in c.search_text and NAME not in c.search_text and PHONE not in c.search_text
