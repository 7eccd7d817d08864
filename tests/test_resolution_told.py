"""The resolution has two parts: the handler's internal record, and the words told to the complainant
(prefilled with the record, editable). SMS, portal and API's complainant view get only the told words."""

from __future__ import annotations

from conftest import local
from django.test import Client
from web_support import act, client_for, dispatched, fresh

from kesu.complaints import services
from kesu.complaints.choices import EventType
from kesu.notify.models import Outbox

INTERNAL = "经查为当班保安态度问题，已对当班人员批评教育并扣绩效。"
TOLD = "经核实，当班人员服务态度确有不当，我们已加强培训，向您致歉。"


def _resolved(org, make_complaint, **kwargs):
    c = dispatched(org, make_complaint)
    return services.resolve(c, org.supervisor, resolution=INTERNAL, **kwargs)


def test_the_complainant_hears_the_words_told_and_never_the_internal_record(org, make_complaint):
    Outbox.objects.all().delete()
    c = _resolved(org, make_complaint, told_words=TOLD)
    assert (c.resolution, c.resolution_told) == (INTERNAL, TOLD)
    sms = Outbox.objects.get(complaint=c, kind="result", channel="sms")
    assert TOLD in sms.body and "批评教育" not in sms.body
    event = c.events.get(type=EventType.RESOLVED)
    assert (event.note, event.data) == (INTERNAL, {"told": TOLD})

    resident = Client()
    resident.force_login(org.resident)
    page = resident.get(f"/portal/c/{c.number}/").content.decode()
    assert TOLD in page and "批评教育" not in page


def test_without_words_of_its_own_the_complainant_is_told_the_resolution_and_not_told_nothing(
    org, make_complaint
):
    c = _resolved(org, make_complaint)
    assert c.resolution_told == INTERNAL
    quiet = services.resolve(
        dispatched(org, make_complaint), org.supervisor, resolution=INTERNAL, tell_complainant=False
    )
    assert quiet.resolution_told == "" and not Outbox.objects.filter(complaint=quiet, kind="result").exists()


def test_the_resolve_panel_has_both_parts_and_saves_them(org, make_complaint):
    c = dispatched(org, make_complaint)
    client = client_for(org.handler)
    c = services.accept(c, org.handler)
    page = client.get(f"/complaints/{c.number}/").content.decode()
    assert "处理结果（内部记录）" in page and "告知投诉人的话" in page and "data-told-words" in page
    r = act(client, c, "resolve", {"resolution": INTERNAL, "tell_complainant": "on", "told_words": TOLD})
    assert r.status_code == 200, r.content.decode()[:300]
    assert (fresh(c).resolution, fresh(c).resolution_told) == (INTERNAL, TOLD)


def test_the_api_takes_and_shows_the_words_told(org, make_complaint):
    from api_support import api_for

    c = services.accept(dispatched(org, make_complaint), org.handler)
    api = api_for(org.handler)
    body = api.post(
        f"/api/v1/complaints/{c.number}/resolve/", {"resolution": INTERNAL, "told_words": TOLD}
    ).json()
    assert (body["resolution"], body["resolution_told"]) == (INTERNAL, TOLD)
    assert local(2026, 1, 1) < fresh(c).resolved_at
