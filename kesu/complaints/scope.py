"""Who sees what: the one place that scopes complaints to a user, and the one place that decides what
of a complainant a viewer may learn.

Every list, page, API endpoint, export and report goes through `visible_complaints` (exposed as
`Complaint.objects.visible_to(user)`) or `get_complaint_for_user`. Every renderer of a complainant's
traces (pages, partials, prints, exports, serializers, webhook bodies, search, look-ups) asks
`complainant_view(viewer, complaint)`; queries ask its twin `complainant_visible_q(viewer)`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from kesu.org.choices import DEPARTMENT_ROLES, OFFICE_ROLES, Role

if TYPE_CHECKING:
    from kesu.org.models import Office, Unit, User

    from .models import Attachment, Complaint


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


# ---------------------------------------------------------------------------------------------
# the complainant's identity (对投诉人身份保密, docs/decisions/0004)

# The intake look-ups (a home's residents, a caller's or a home's complaints) are the customer-
# service desk's tools: department staff, who may be the ones complained about, do not get them.
LOOKUP_ROLES = frozenset(
    {Role.RECEPTIONIST, Role.SUPERVISOR, Role.CS_MANAGER, Role.DIRECTOR, Role.QUALITY, Role.ADMIN}
)


# Look-ups per user and minute (web and API together): a clerk with a caller on the line makes a
# few; someone probing home after home makes hundreds. KESU_LOOKUPS_PER_MINUTE changes it.
LOOKUPS_PER_MINUTE = 120
_LOOKUP_WINDOW = 60


def may_look_up(user: User) -> bool:
    """Whether the user may look up homes, residents and callers' complaints (intake, API)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in LOOKUP_ROLES


def count_lookup(user: User) -> int:
    """Count one look-up by `user`: 0 when allowed, else the seconds until they may look up again.

    Counted in the Django cache (a fixed window per user), so the limit is as shared as the cache
    is: across every process with a shared cache (Redis), per process with the local one."""
    from django.conf import settings
    from django.core.cache import cache

    limit = int(getattr(settings, "KESU_LOOKUPS_PER_MINUTE", LOOKUPS_PER_MINUTE))
    if limit <= 0:
        return 0
    now = time.time()
    key = f"kesu:lookups:{user.pk}:{int(now // _LOOKUP_WINDOW)}"
    if cache.add(key, 1, timeout=_LOOKUP_WINDOW + 5):
        return 0
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=_LOOKUP_WINDOW + 5)
        count = 1
    return 0 if count <= limit else int(_LOOKUP_WINDOW - now % _LOOKUP_WINDOW) + 1


def _may_identify(user: User | None, complaint: Complaint) -> bool:
    """The rule, on one row. `complainant_visible_q` is the same rule as a query; tests hold them equal."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if complaint.complained_staff_id is not None and complaint.complained_staff_id == user.pk:
        return False  # the staff member complained about
    if user.role in DEPARTMENT_ROLES and not user.is_superuser:
        if complaint.anonymous_to_staff:
            return False  # asked to stay anonymous: only the customer-service side knows who complained
        if complaint.complained_department_id is not None and complaint.complained_department_id == (
            user.department_id
        ):
            return False  # staff of the department complained about
    return True


def complainant_visible_q(user: User | None) -> Q:
    """The complaints whose complainant `user` may identify, as a filter (search, look-ups)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    q = ~Q(complained_staff_id=user.pk)
    if user.role in DEPARTMENT_ROLES and not user.is_superuser:
        q &= Q(anonymous_to_staff=False)
        if user.department_id is not None:
            q &= ~Q(complained_department_id=user.department_id)
    return q


@dataclass(frozen=True)
class ComplainantView:
    """What of a complaint's complainant exists in an output for one viewer.

    When `visible` is false no field of the person exists: no name (not even masked), no phone, no
    home, no address, no account name; people of the record who are residents (the complainant's
    portal account) are named by their role, and file names are replaced by neutral ones (a name
    given to a photo often names the person). When it is true the phone is still masked: the full
    number only comes from `services.reveal_contact`, which the timeline records."""

    complaint: Complaint
    visible: bool

    @property
    def hidden(self) -> bool:
        return not self.visible

    @property
    def name(self) -> str:
        return self.complaint.complainant_name if self.visible else ""

    @property
    def masked_name(self) -> str:
        from .validation import mask_name

        return mask_name(self.complaint.complainant_name) if self.visible else ""

    @property
    def phone(self) -> str:
        """The masked phone (138****5678); "" when hidden."""
        from .validation import mask_phone

        return mask_phone(self.complaint.complainant_phone) if self.visible else ""

    @property
    def has_phone(self) -> bool:
        return self.visible and bool(self.complaint.complainant_phone)

    @property
    def unit(self) -> Unit | None:
        return self.complaint.unit if self.visible and self.complaint.unit_id else None

    @property
    def unit_label(self) -> str:
        unit = self.unit
        return unit.label if unit is not None else ""

    @property
    def unit_code(self) -> str:
        if not self.visible or not self.complaint.unit_id:
            return ""
        code = self.complaint.__dict__.get("unit_code")  # annotated by list queries; else load the unit
        return code if code is not None else self.complaint.unit.code  # type: ignore[union-attr]

    @property
    def address(self) -> str:
        return self.complaint.address if self.visible else ""

    @property
    def resident_kind(self) -> str:
        """业主/家庭成员/租户 when the complainant is a registered resident; "" when hidden."""
        resident = self.complaint.resident if self.visible and self.complaint.resident_id else None
        return str(resident.get_kind_display()) if resident is not None else ""

    @property
    def home(self) -> str:
        """栋/房号, or the address when there is no unit (the paper forms' one box)."""
        return self.unit_label or self.address

    def _is_resident(self, person: User | None) -> bool:
        from kesu.org.choices import Role

        return person is not None and person.role == Role.RESIDENT and not person.is_superuser

    def identifies(self, person: User | None) -> bool:
        """Whether this viewer may know who `person` (an actor, a receiver, a caller-back) is. A
        resident acting on a complaint is its complainant (scope: their own phone's complaints)."""
        return person is None or self.visible or not self._is_resident(person)

    def person(self, person: User | None) -> str:
        """How a person of the record is shown ("" for nobody): by role when not identifiable."""
        if person is None:
            return ""
        if not self.identifies(person):
            return str(person.get_role_display())
        return str(person)

    def username(self, person: User | None) -> str | None:
        """The account name of a person of the record, or None when not identifiable (or nobody)."""
        if person is None or not self.identifies(person):
            return None
        return person.username

    def file_name(self, name: str, number: int | str) -> str:
        """An attachment's name as this viewer sees it: a neutral one when hidden (keeps the extension)."""
        if self.visible:
            return name
        ext = os.path.splitext(name or "")[1].lower()[:10]
        return _("附件%(n)s") % {"n": number} + ext

    def attachment_name(self, att: Attachment) -> str:
        return self.file_name(att.original_name, att.pk)


def complainant_view(viewer: User | None, complaint: Complaint) -> ComplainantView:
    """The one decision of what a viewer may learn of who complained (对投诉人身份保密): hidden from
    the staff member complained about, from staff of the department complained about, and, when the
    complainant asked for anonymity (`anonymous_to_staff`), from every department's staff. A webhook
    body is seen by its subscription's owner; a notification carries no identity for anyone."""
    return ComplainantView(complaint, _may_identify(viewer, complaint))


def can_see_complainant(user: User, complaint: Complaint) -> bool:
    """Identity is kept from the staff complained about (对投诉人身份保密), and from their department."""
    return complainant_view(user, complaint).visible
