"""The API's view of scope: the user's scope (kesu.complaints.scope, the one place that decides it),
narrowed by the key's offices. Every API queryset starts here."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from kesu.complaints.models import Complaint
from kesu.complaints.scope import offices_for
from kesu.org.models import Office

from .auth import key_of


def key_office_ids(request) -> frozenset[int] | None:
    """The offices the request's key is limited to, or None when it is not limited."""
    key = key_of(request)
    if key is None or not key.office_ids:
        return None
    return key.office_ids


def complaints_for(request) -> QuerySet[Complaint]:
    qs = Complaint.objects.visible_to(request.user)
    limit = key_office_ids(request)
    return qs if limit is None else qs.filter(office_id__in=limit)


def complaint_for(request, number: str, qs: QuerySet[Complaint] | None = None) -> Complaint:
    """One complaint by number through the scope: 404 whether missing, out of scope or off the key."""
    if not number or "\x00" in number or len(number) > 30:
        raise Http404("complaint not found")
    qs = complaints_for(request) if qs is None else qs
    try:
        return qs.select_related("office", "category").get(number=number)
    except Complaint.DoesNotExist:
        raise Http404("complaint not found") from None


def offices_for_request(request) -> QuerySet[Office]:
    """Offices the caller works in (registers for, looks up), narrowed by the key."""
    qs = offices_for(request.user)
    limit = key_office_ids(request)
    return qs if limit is None else qs.filter(pk__in=limit)
