"""Print views (A4): 客户投诉记录表, 投诉处理记录表 and 回访记录, laid out like the paper forms the
procedures name, filled from the complaint and its timeline."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kesu.complaints.choices import CallbackMethod, Channel, Nature, Satisfaction, Severity
from kesu.complaints.models import Category
from kesu.complaints.scope import can_see_complainant
from kesu.complaints.validation import mask_phone

from .. import timeline
from ..access import staff_view
from .complaint import load

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
    see = can_see_complainant(request.user, c)
    context = {
        "c": c,
        "see": see,
        "phone": mask_phone(c.complainant_phone) if see else "",
        "channels": boxes(Channel.choices, c.channel),
        "natures": boxes(Nature.choices, c.nature),
        "severities": boxes(Severity.choices, c.severity),
        "categories": boxes(
            [(cat.pk, cat.name) for cat in Category.objects.filter(is_active=True)], c.category_id
        ),
        "entries": timeline.for_complaint(c) if form == "handling" else [],
        "callbacks": list(c.callbacks.select_related("by").order_by("at", "id")),
        "methods": CallbackMethod.choices,
        "satisfactions": Satisfaction.choices,
        "attachments": list(c.attachments.order_by("uploaded_at")),
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
    }
    return render(request, template, context)
