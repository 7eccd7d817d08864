"""Staff pages of the portal: print the QR code sheets for the offices they work in."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from kesu.complaints.scope import offices_for
from kesu.org.choices import COMPANY_ROLES, OFFICE_ROLES

from . import qr
from .security import portal_page


def _staff_required(view):
    """Office roles and company roles (those who put notices up in an estate)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return HttpResponseRedirect(
                f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}"
            )
        if not (user.is_superuser or user.role in OFFICE_ROLES or user.role in COMPANY_ROLES):
            return render(request, "portal/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@portal_page
@_staff_required
def qr_index(request: HttpRequest) -> HttpResponse:
    offices = list(offices_for(request.user).order_by("code").prefetch_related("buildings"))
    rows = [{"office": o, "buildings": len(o.buildings.all()), "url": qr.building_url(o)} for o in offices]
    return render(request, "portal/qr_index.html", {"rows": rows})


@portal_page
@_staff_required
def qr_sheet(request: HttpRequest, code: str) -> HttpResponse:
    office = offices_for(request.user).filter(code=code).first()
    if office is None:
        return render(request, "portal/not_found.html", status=404)
    response = HttpResponse(qr.sheet(office), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="portal-qr-{office.code}.pdf"'
    return response
