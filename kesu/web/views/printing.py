"""Print views (A4): 客户投诉记录表, 投诉处理记录表 and 回访记录, laid out like the paper forms the
procedures name, filled from the complaint and its timeline."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kesu.complaints.choices import CallbackMethod, Channel, Nature, Satisfaction, Severity
from kesu.complaints.models import Category
from kesu.complaints.scope import complainant_view

from .. import timeline
from ..access import staff_view
from .complaint import load, record_people

FORMS = {
    "record": "web/print/record.html",
    "handling": "web/print/handling.html",
    "callback": "web/print/callback.html",
}


def boxes(choices, value) -> list[tuple[str, bool]]:
    """☑/☐ options as on the paper form."""
    return [(str(label), code == value) for code, label in choices]


@require_GET
@staff_view
def print_form(request: HttpRequest, key: str, form: str) -> HttpResponse:
    template = FORMS.get(form)
    if template is None:
        raise Http404
    c = load(request.user, key)
    who = complainant_view(request.user, c)
    context = {
        "c": c,
        **record_people(c, who),
        "see": who.visible,
        "channels": boxes(Channel.choices, c.channel),
        "natures": boxes(Nature.choices, c.nature),
        "severities": boxes(Severity.choices, c.severity),
        "categories": boxes(
            [(cat.pk, cat.name) for cat in Category.objects.filter(is_active=True)], c.category_id
        ),
        "entries": timeline.for_complaint(c, request.user) if form == "handling" else [],
        "methods": CallbackMethod.choices,
        "satisfactions": Satisfaction.choices,
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
    }
    return render(request, template, context)
