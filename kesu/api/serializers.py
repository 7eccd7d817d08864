"""Serializers: shapes and types only. Every rule about complaints lives in the lifecycle
(kesu/complaints/services.py), which the views call with what these serializers let through."""

from __future__ import annotations

from django.db.models import F, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kesu.complaints import services
from kesu.complaints.choices import (
    CallbackMethod,
    Channel,
    CloseOutcome,
    DeclineReason,
    EventType,
    Nature,
    NatureSubtype,
    ReportTarget,
    Satisfaction,
    Severity,
    Status,
    Tier,
)
from kesu.complaints.models import Category, Complaint, ComplaintEvent
from kesu.complaints.scope import ComplainantView, complainant_view
from kesu.complaints.validation import mask_phone
from kesu.notify import outbound
from kesu.org import homes
from kesu.org.choices import DepartmentType, ResidentKind, Role
from kesu.org.models import Department, Office, Resident, Unit

from .fields import CodeField, SlugOrNull, TimestampField
from .models import WEBHOOK_EVENTS, ApiKey, WebhookSubscription

# Lifecycle action → the API's action path (the contract's names).
API_ACTIONS = {
    "assess": "assess",
    "dispatch": "dispatch",
    "accept": "accept",
    "note": "note",
    "escalate": "escalate",
    "report": "report",
    "resolve": "resolve",
    "call_back": "callback",
    "reopen": "reopen",
    "close": "close",
    "decline": "decline",
    "withdraw": "withdraw",
    "link": "link",
    "merge": "merge",
    "reveal_contact": "reveal_contact",
}

MAX_INT = 2**31 - 1
MAX_ID = 2**63 - 1


# ------------------------------------------------------------------------------------------------
# complaints (output)


class ComplaintSerializer(serializers.Serializer):
    """A complaint as the caller may see it. The complainant's identity (name, phone, unit, address)
    is withheld from the staff complained about and their department (对投诉人身份保密), as on the web
    pages; for everyone else the phone is masked — the full number is only given by the
    `reveal_contact` action, which the timeline records."""

    number = serializers.CharField(read_only=True)
    office = SlugOrNull("office.code", "office_code", help_text="office code (管理处编码)")
    status = CodeField(Status.choices, read_only=True)
    channel = CodeField(Channel.choices, read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    nature = CodeField(Nature.choices, read_only=True)
    nature_subtype = CodeField(NatureSubtype.choices, read_only=True)
    is_major = serializers.BooleanField(read_only=True)
    severity = CodeField(Severity.choices, read_only=True)
    category = SlugOrNull(
        "category.code", "category_code", help_text="category code, as /categories/ lists them"
    )
    department = serializers.IntegerField(source="department_id", read_only=True, allow_null=True)
    handler = SlugOrNull("handler.username", "handler_username", help_text="username of the handler")
    tier = serializers.IntegerField(read_only=True, help_text="handling tier: " + str(dict(Tier.choices)))
    complainant_name = serializers.SerializerMethodField()
    complainant_phone = serializers.SerializerMethodField()
    complainant_hidden = serializers.SerializerMethodField(
        help_text="true when the caller may not know who complained (name, phone, unit, address withheld)"
    )
    unit = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    content = serializers.CharField(read_only=True)
    complained_party = serializers.CharField(read_only=True)
    requested_by = serializers.DateTimeField(read_only=True, allow_null=True)
    committed_answer_at = serializers.DateTimeField(read_only=True, allow_null=True)
    answered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    forward_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    report_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolve_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    callback_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    rectify_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)
    resolution = serializers.CharField(read_only=True)
    resolution_told = serializers.CharField(
        read_only=True, help_text="the words the complainant was told of the result (empty if not told)"
    )
    called_back_at = serializers.DateTimeField(read_only=True, allow_null=True)
    satisfaction = CodeField(Satisfaction.choices, read_only=True)
    closed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    close_outcome = CodeField(CloseOutcome.choices, read_only=True)
    decline_reason = CodeField(DeclineReason.choices, read_only=True)
    repeat_of = SlugOrNull(
        "repeat_of.number", "repeat_of_number", help_text="number of the earlier complaint this repeats"
    )
    merged_into = SlugOrNull("merged_into.number", "merged_into_number")
    version = serializers.IntegerField(
        read_only=True, help_text="send it back as `version` with an action to refuse stale edits"
    )
    updated_at = serializers.DateTimeField(read_only=True)

    def _view(self, c: Complaint) -> ComplainantView:
        """What of the complainant the caller may see (kesu.complaints.scope.complainant_view)."""
        cache = self.context.setdefault("_complainant_views", {})
        if c.pk not in cache:
            cache[c.pk] = complainant_view(self.context.get("user"), c)
        return cache[c.pk]

    @extend_schema_field(OpenApiTypes.STR)
    def get_complainant_name(self, c: Complaint) -> str:
        return self._view(c).name

    @extend_schema_field(OpenApiTypes.STR)
    def get_complainant_phone(self, c: Complaint) -> str:
        return self._view(c).phone

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_complainant_hidden(self, c: Complaint) -> bool:
        return self._view(c).hidden

    @extend_schema_field({"type": "string", "nullable": True, "description": "unit code, e.g. Y01-3栋-1201"})
    def get_unit(self, c: Complaint) -> str | None:
        return self._view(c).unit_code or None

    @extend_schema_field(OpenApiTypes.STR)
    def get_address(self, c: Complaint) -> str:
        return self._view(c).address


class ComplaintDetailSerializer(ComplaintSerializer):
    allowed_actions = serializers.SerializerMethodField(
        help_text="the actions the caller may take now (action paths under the complaint)"
    )

    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": list(API_ACTIONS.values())}})
    def get_allowed_actions(self, c: Complaint) -> list[str]:
        key = self.context.get("key")
        if key is not None and key.scope != ApiKey.Scope.WRITE:
            return []
        return [API_ACTIONS[a] for a in services.allowed_actions(c, self.context["user"]) if a in API_ACTIONS]


def for_listing(qs: QuerySet[Complaint]) -> QuerySet[Complaint]:
    """The related codes as columns of one query, not whole related rows (two of them complaints
    themselves): the list of 50 stays one small query."""
    return qs.annotate(
        office_code=F("office__code"),
        category_code=F("category__code"),
        handler_username=F("handler__username"),
        unit_code=F("unit__code"),
        repeat_of_number=F("repeat_of__number"),
        merged_into_number=F("merged_into__number"),
    ).defer(
        "search_text", "lesson_cause", "lesson_learned", "lesson_prevention", "end_note", "on_spot_answer"
    )


class EventSerializer(serializers.ModelSerializer):
    """One timeline entry (处理记录): codes and raw old → new values, never labels. Who acted is given
    as the caller may know it (kesu.complaints.scope.complainant_view): a resident — the
    complainant's portal account — is only `actor_role` "resident" to a caller who may not know who
    complained, and an attachment's name is a neutral one."""

    type = CodeField(EventType.choices, read_only=True)
    actor = serializers.SerializerMethodField(
        help_text="username of who acted; null for the system, or for a resident the caller may not identify"
    )
    actor_role = serializers.SerializerMethodField(help_text="role code of who acted; null for the system")
    from_status = CodeField(Status.choices, read_only=True)
    to_status = CodeField(Status.choices, read_only=True)
    changes = serializers.JSONField(
        read_only=True, help_text="field → [old, new] (raw values, ids and codes)"
    )
    data = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintEvent
        fields = [
            "id",
            "type",
            "at",
            "actor",
            "actor_role",
            "from_status",
            "to_status",
            "changes",
            "data",
            "note",
            "visibility",
        ]

    def _view(self, e: ComplaintEvent) -> ComplainantView:
        # The caller's complaint (the events endpoint passes it) or the event's own.
        cache = self.context.setdefault("_complainant_views", {})
        if e.complaint_id not in cache:
            c = self.context.get("complaint")
            c = c if c is not None and c.pk == e.complaint_id else e.complaint
            cache[e.complaint_id] = complainant_view(self.context.get("user"), c)
        return cache[e.complaint_id]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_actor(self, e: ComplaintEvent) -> str | None:
        return self._view(e).username(e.actor) if e.actor_id else None

    @extend_schema_field({"type": "string", "nullable": True, "enum": [*Role.values, None]})
    def get_actor_role(self, e: ComplaintEvent) -> str | None:
        if not e.actor_id:
            return None
        return Role.ADMIN if e.actor.is_superuser else e.actor.role

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, e: ComplaintEvent) -> dict:
        data = dict(e.data or {})
        if "name" in data and e.type == EventType.ATTACHMENT_ADDED:
            data["name"] = self._view(e).file_name(str(data["name"]), data.get("attachment", ""))
        return data


# ------------------------------------------------------------------------------------------------
# complaints (input)


def _text(required: bool = False, **kwargs) -> serializers.CharField:
    # Lengths and emptiness are checked by the lifecycle, which reports every field at once.
    return serializers.CharField(
        required=required, allow_blank=True, trim_whitespace=False, max_length=20000, **kwargs
    )


class VersionMixin(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_INT,
        help_text="the complaint's `version` as the caller last saw it; a stale one is refused with 409",
    )


class RegisterSerializer(serializers.Serializer):
    office = serializers.CharField(
        max_length=100, help_text="office code (管理处编码), as /offices/ lists them"
    )
    channel = serializers.ChoiceField(Channel.choices)
    unit = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="unit code as /units/ returns it"
    )
    address = _text(help_text="free address when there is no unit")
    complainant_name = _text(required=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    content = _text(required=True, help_text="the complaint as the complainant said it (如实记录)")
    received_at = TimestampField(
        required=False, help_text="when it was received (default now); never in the future"
    )
    nature = serializers.ChoiceField(Nature.choices, required=False, allow_blank=True)
    nature_subtype = serializers.ChoiceField(NatureSubtype.choices, required=False, allow_blank=True)
    is_major = serializers.BooleanField(required=False, default=False)
    severity = serializers.ChoiceField(Severity.choices, required=False, allow_blank=True)
    category = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="category code from /categories/"
    )
    requested_by = TimestampField(
        required=False, allow_null=True, help_text="the time the complainant asked for"
    )
    committed_answer_at = TimestampField(
        required=False, allow_null=True, help_text="the answer time promised (default: by the time limits)"
    )
    complained_party = _text(help_text="department or person complained about")
    on_spot_answer = _text(help_text="answer given on the spot; the complaint is then resolved at once")


class AssessSerializer(VersionMixin):
    nature = serializers.ChoiceField(Nature.choices, required=False)
    nature_subtype = serializers.ChoiceField(NatureSubtype.choices, required=False, allow_blank=True)
    is_major = serializers.BooleanField(required=False)
    severity = serializers.ChoiceField(Severity.choices, required=False)
    category = serializers.CharField(required=False, max_length=100, help_text="category code")
    reason = _text(help_text="required when changing a judgement already made")


class DispatchSerializer(VersionMixin):
    department = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="department id, as /departments/ lists them"
    )
    handler = serializers.CharField(
        required=False, allow_blank=True, max_length=150, help_text="username of a handler in that department"
    )
    note = _text()


class AcceptSerializer(VersionMixin):
    note = _text()


class NoteSerializer(VersionMixin):
    text = _text(required=True)
    tell_complainant = serializers.BooleanField(
        required=False, default=False, help_text="also tell the complainant (SMS)"
    )


class EscalateSerializer(VersionMixin):
    reason = _text(required=True)
    tier = serializers.ChoiceField(Tier.choices, required=False, help_text="default: the next tier up")


class ReportSerializer(VersionMixin):
    summary = _text(required=True)
    to = serializers.ListField(
        child=serializers.ChoiceField(ReportTarget.choices),
        required=False,
        allow_empty=False,
        max_length=len(ReportTarget.values),
        help_text="whom the office reports to (default: both the quality department and the executive)",
    )


class ResolveSerializer(VersionMixin):
    resolution = _text(required=True)
    told_words = _text(
        required=False, help_text="what the complainant is told (SMS, portal); default: the resolution itself"
    )
    tell_complainant = serializers.BooleanField(required=False, default=True)


class CallbackSerializer(VersionMixin):
    method = serializers.ChoiceField(CallbackMethod.choices)
    satisfaction = serializers.ChoiceField(Satisfaction.choices)
    words = _text(required=True, help_text="the complainant's own words")
    confirmed = serializers.BooleanField(
        required=False, default=False, help_text="the complainant confirmed (signed)"
    )
    rectify_due_at = TimestampField(
        required=False,
        help_text="when 不满意: the rectification deadline (整改期限); default: the policy's resolution time "
        "limit from now. A dissatisfied callback always starts rectification.",
    )


class ReopenSerializer(VersionMixin):
    reason = _text(required=True)
    rectify_due_at = TimestampField(help_text="deadline for the rectification (整改期限)")


class CloseSerializer(VersionMixin):
    outcome = serializers.ChoiceField(CloseOutcome.choices, required=False, default=CloseOutcome.RESOLVED)
    lesson_cause = _text()
    lesson_learned = _text()
    lesson_prevention = _text()
    note = _text()


class DeclineSerializer(VersionMixin):
    reason = serializers.ChoiceField(DeclineReason.choices)
    explanation = _text(required=True, help_text="told to the complainant")


class WithdrawSerializer(VersionMixin):
    reason = _text(required=True)


class LinkSerializer(VersionMixin):
    target = serializers.CharField(max_length=100, help_text="number of the earlier complaint")
    reason = _text()


class MergeSerializer(LinkSerializer):
    target = serializers.CharField(max_length=100, help_text="number of the complaint to merge into")


class EmptySerializer(serializers.Serializer):
    pass


class ContactSerializer(serializers.Serializer):
    complainant_phone = serializers.CharField()


# ------------------------------------------------------------------------------------------------
# look-ups


class OfficeSerializer(serializers.ModelSerializer):
    households = serializers.SerializerMethodField(
        help_text="households the reports divide by: the homes on file, or the configured number "
        "for an office with no homes loaded (kesu.org.homes)"
    )
    households_source = serializers.SerializerMethodField(
        help_text="`units` (homes on file) or `configured` (the office's configured households)"
    )

    class Meta:
        model = Office
        fields = ["code", "name", "households", "households_source"]

    def get_households(self, obj: Office) -> int:
        return homes.households(obj).count

    def get_households_source(self, obj: Office) -> str:
        return homes.households(obj).source


class DepartmentSerializer(serializers.ModelSerializer):
    office = SlugOrNull("office.code")
    type = CodeField(DepartmentType.choices, read_only=True)

    class Meta:
        model = Department
        fields = ["id", "office", "type", "name"]


class UnitSerializer(serializers.ModelSerializer):
    office = SlugOrNull("building.office.code")
    building = SlugOrNull("building.name")

    class Meta:
        model = Unit
        fields = ["code", "office", "building", "number"]


class ResidentSerializer(serializers.ModelSerializer):
    unit = SlugOrNull("unit.code")
    phone = serializers.SerializerMethodField()
    kind = CodeField(ResidentKind.choices, read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "name", "phone", "unit", "kind"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_phone(self, r: Resident) -> str:
        return mask_phone(r.phone)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["code", "name", "description", "is_active"]


class ChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class ChoicesSerializer(serializers.Serializer):
    """Display labels for every code, in the language asked for (Accept-Language)."""

    status = ChoiceSerializer(many=True)
    channel = ChoiceSerializer(many=True)
    nature = ChoiceSerializer(many=True)
    nature_subtype = ChoiceSerializer(many=True)
    severity = ChoiceSerializer(many=True)
    satisfaction = ChoiceSerializer(many=True)
    callback_method = ChoiceSerializer(many=True)
    close_outcome = ChoiceSerializer(many=True)
    decline_reason = ChoiceSerializer(many=True)
    tier = ChoiceSerializer(many=True)
    event_type = ChoiceSerializer(many=True)
    department_type = ChoiceSerializer(many=True)


# ------------------------------------------------------------------------------------------------
# webhooks


class OfficeCodes(serializers.ListField):
    """Office codes in, office codes out (from the many-to-many)."""

    def to_representation(self, data):
        return sorted(o.code for o in data.all())


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField([(e, e) for e in WEBHOOK_EVENTS]),
        min_length=1,
        max_length=len(WEBHOOK_EVENTS),
        help_text="event types to deliver",
    )
    offices = OfficeCodes(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=200,
        help_text="office codes; empty: every office the owner (and key) may see",
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        min_length=16,
        max_length=100,
        help_text="HMAC-SHA256 signing secret; generated when omitted",
    )
    # http(s) to a public address, or one KESU_WEBHOOK_ALLOWED_HOSTS allows (kesu.notify.outbound)
    url = serializers.URLField(max_length=500, validators=[outbound.validator])
    owner = SlugOrNull("owner.username")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "offices", "is_active", "secret", "owner", "created_at"]
        read_only_fields = ["id", "owner", "created_at"]
        extra_kwargs = {"name": {"max_length": 100}}

    def validate_events(self, value: list[str]) -> list[str]:
        return [e for e in WEBHOOK_EVENTS if e in set(value)]


class WebhookCreatedSerializer(WebhookSubscriptionSerializer):
    """The subscription as created: the only time the secret is shown."""

    secret = serializers.CharField(read_only=True)


class WebhookDeliverySerializer(serializers.Serializer):
    delivery = serializers.CharField(help_text="the X-Kesu-Delivery id")
    event = serializers.CharField()
    complaint = serializers.CharField(allow_null=True)
    state = serializers.ChoiceField(["pending", "sent", "failed"])
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()


class WebhookPayloadSerializer(serializers.Serializer):
    """The JSON body POSTed to a subscription (documented for receivers; signed as sent)."""

    id = serializers.CharField(help_text="delivery id, also in X-Kesu-Delivery; the same on every retry")
    event = serializers.ChoiceField([(e, e) for e in WEBHOOK_EVENTS])
    occurred_at = serializers.DateTimeField()
    office = serializers.CharField()
    complaint = ComplaintSerializer()
    timeline_event = EventSerializer()
