"""Who sees what: the one place that scopes complaints to a user.

Every list, page, API endpoint, export and report goes through `visible_complaints` (exposed as
`Complaint.objects.visible_to(user)`) or `get_complaint_for_user`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from django.db.models import Q, QuerySet
from django.http import Http404

from kesu.org.choices import DEPARTMENT_ROLES, OFFICE_ROLES, Role

if TYPE_CHECKING:
    from kesu.org.models import Office, User

    from .models import Complaint


QS = TypeVar("QS", bound=QuerySet)


def visible_complaints(qs: QS, user: User) -> QS:
    if user is None or not user.is_authenticated or not user.is_active:
        return qs.none()
    if user.is_company_wide:
        return qs
    if user.role in OFFICE_ROLES:
        return qs.filter(office__in=user.offices.values("pk"))
    if user.role in DEPARTMENT_ROLES:
        # First-contact ownership (首问负责制): whoever registered it keeps following it.
        q = Q(handler=user) | Q(owner=user)
        if user.department_id:
            q |= Q(department_id=user.department_id)
        return qs.filter(q)
    if user.role == Role.RESIDENT and user.phone:
        return qs.filter(Q(complainant_phone=user.phone) | Q(resident__phone=user.phone))
    return qs.none()


def get_complaint_for_user(user: User, key: str | int, *, related: Iterable[str] = ()) -> Complaint:
    """Fetch by number (or id) through the scope, with the related objects the caller shows
    (`related`, as for select_related), in one query: 404 whether it does not exist or is not visible."""
    from .models import Complaint

    qs = Complaint.objects.visible_to(user).select_related("office", *related)
    key_str = str(key)
    lookup: dict[str, int | str] = (
        {"pk": int(key_str)} if key_str.isascii() and key_str.isdigit() else {"number": key_str}
    )
    try:
        return qs.get(**lookup)
    except Complaint.DoesNotExist:
        raise Http404("complaint not found") from None


def covered_offices(user: User) -> QuerySet[Office]:
    """Every office whose complaints this member of staff covers, closed offices included (their
    history still counts in reports): the whole company, the user's offices, or their department's."""
    from kesu.org.models import Office

    if user.is_company_wide:
        return Office.objects.all()
    if user.role in OFFICE_ROLES:
        return user.offices.all()
    if user.role in DEPARTMENT_ROLES and user.department is not None:
        return Office.objects.filter(pk=user.department.office_id)
    return Office.objects.none()


def offices_for(user: User) -> QuerySet[Office]:
    """Offices the user works in now (may register complaints for): the active offices they cover,
    or for a resident the offices of their homes."""
    from kesu.org.models import Office

    if user.role == Role.RESIDENT and not user.is_company_wide:
        if not user.phone:
            return Office.objects.none()
        return Office.objects.filter(buildings__units__residents__phone=user.phone, is_active=True).distinct()
    return covered_offices(user).filter(is_active=True)


def units_for_resident(user: User) -> QuerySet:
    """The homes registered to a resident's phone (several when one person owns several)."""
    from kesu.org.models import Unit

    if user.role != Role.RESIDENT or not user.phone:
        return Unit.objects.none()
    return Unit.objects.filter(residents__phone=user.phone).distinct()


def can_see_complainant(user: User, complaint: Complaint) -> bool:
    """Identity is kept from the staff complained about (对投诉人身份保密), and from their department."""
    if complaint.complained_staff_id is not None and complaint.complained_staff_id == user.pk:
        return False
    if complaint.anonymous_to_staff and user.role in DEPARTMENT_ROLES:
        # Asked to stay anonymous: only the customer-service side knows who complained.
        return False
    return not (
        user.role in DEPARTMENT_ROLES
        and complaint.complained_department_id is not None
        and complaint.complained_department_id == user.department_id
    )
