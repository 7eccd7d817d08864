"""REST API v1. Thin: check shapes, fetch through the scope, call the lifecycle, serialize."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiCallback, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from kesu.complaints import services
from kesu.complaints.choices import (
    CallbackMethod,
    Channel,
    CloseOutcome,
    DeclineReason,
    EventType,
    Nature,
    NatureSubtype,
    Satisfaction,
    Severity,
    Status,
    Tier,
)
from kesu.complaints.models import Category, Complaint
from kesu.notify.models import Outbox
from kesu.org import homes
from kesu.org.choices import DepartmentType
from kesu.org.models import Department, Office, Resident, Unit, User
from kesu.reports.monthly import ReportAccessError, compute
from kesu.reports.period import Period, PeriodError

from . import idempotency, webhooks
from . import serializers as s
from .auth import key_of
from .filters import ApiComplaintFilter, DepartmentFilter, ResidentFilter, UnitFilter
from .models import WebhookSubscription
from .pagination import CodeCursor, ComplaintCursor, IdCursor
from .permissions import ApiAccess, LooksUp, LookupThrottle, ManagesWebhooks
from .scope import complaint_for, complaints_for, key_office_ids, offices_for_request
from .throttles import IpRateThrottle


class ApiMixin:
    """What every API view shares: input hygiene, context, and Idempotency-Key on POST."""

    def initial(self, request, *args, **kwargs):
        # The per-address limit comes before authentication, so key guessing and anonymous traffic
        # count too; the per-key limit (DEFAULT_THROTTLE_CLASSES) runs after it, as DRF does.
        ip = IpRateThrottle()
        if not ip.allow_request(request, self):
            self.throttled(request, ip.wait())
        super().initial(request, *args, **kwargs)
        for name, values in request.query_params.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                raise exceptions.ValidationError({name.replace("\x00", ""): [_("不能包含空字符。")]})

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context.update(user=self.request.user, key=key_of(self.request))
        return context

    def context(self) -> dict[str, Any]:
        return {"request": self.request, "user": self.request.user, "key": key_of(self.request)}

    def dispatch(self, request, *args, **kwargs):
        # DRF's APIView.dispatch, with the handler run through the idempotency store for POSTs that
        # carry a key. The stored response is the finalized, rendered one, so a replay is byte-equal.
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            self.initial(request, *args, **kwargs)
            if request.method.lower() in self.http_method_names:
                handler = getattr(self, request.method.lower(), self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            key = idempotency.header_value(request) if request.method == "POST" else None
            if key is not None:
                self.response = idempotency.run(request, key, lambda: self._execute(handler, args, kwargs))
                return self.response
            response = handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    def _execute(self, handler: Callable, args, kwargs):
        try:
            with transaction.atomic():
                response = handler(self.request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        response = self.finalize_response(self.request, response, *args, **kwargs)
        response.render()
        return response


# ------------------------------------------------------------------------------------------------
# complaints


def _action_schema(request_serializer, summary: str, response=s.ComplaintDetailSerializer):
    return extend_schema(request=request_serializer, responses={200: response}, summary=summary)


@extend_schema_view(
    list=extend_schema(
        summary="List complaints (same filters as the web list)",
        description="Cursor-paginated, newest first. `q` is Chinese word search or a complaint number.",
    ),
    retrieve=extend_schema(summary="One complaint", responses={200: s.ComplaintDetailSerializer}),
    create=extend_schema(
        summary="Register a complaint (登记受理)",
        request=s.RegisterSerializer,
        responses={201: s.ComplaintDetailSerializer},
    ),
)
class ComplaintViewSet(ApiMixin, viewsets.GenericViewSet):
    permission_classes = [ApiAccess]
    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    serializer_class = s.ComplaintSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApiComplaintFilter
    pagination_class = ComplaintCursor
    queryset = Complaint.objects.none()  # for the schema; get_queryset scopes every request

    def get_queryset(self):
        return s.for_listing(complaints_for(self.request))

    def _complaint(self, number: str) -> Complaint:
        return complaint_for(self.request, number, self.get_queryset())

    def _detail(self, c: Complaint, code: int = 200, **kwargs) -> Response:
        return Response(s.ComplaintDetailSerializer(c, context=self.context()).data, status=code, **kwargs)

    def list(self, request):
        qs = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(
            s.ComplaintSerializer(page, many=True, context=self.context()).data
        )

    def retrieve(self, request, number: str):
        return self._detail(self._complaint(number))

    def create(self, request):
        ser = s.RegisterSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        limit = key_office_ids(request)
        code = str(data["office"]).strip()
        if limit is not None and not Office.objects.filter(code=code, pk__in=limit).exists():
            raise exceptions.ValidationError(
                {"office": [_("此接口密钥不能为管理处“%(code)s”登记投诉。") % {"code": code[:20]}]}
            )
        c = services.register(request.user, **data)
        location = request.build_absolute_uri(f"/api/v1/complaints/{c.number}/")
        return self._detail(c, status.HTTP_201_CREATED, headers={"Location": location})

    @extend_schema(summary="The timeline (处理记录)", responses={200: s.EventSerializer(many=True)})
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def events(self, request, number: str):
        c = self._complaint(number)
        events = c.events.select_related("actor").order_by("at", "id")
        return Response(s.EventSerializer(events, many=True, context={**self.context(), "complaint": c}).data)

    # --- actions: each fetches through the scope, checks the body's shape, calls the lifecycle ---

    def _act(self, number: str, serializer_class, call: Callable[[Complaint, dict], Complaint]) -> Response:
        c = self._complaint(number)
        ser = serializer_class(data=self.request.data)
        ser.is_valid(raise_exception=True)
        return self._detail(call(c, dict(ser.validated_data)))

    def _target(self, number: str) -> str:
        """A complaint named in a body must be in the caller's API scope (key offices included)."""
        number = number.strip()
        if not complaints_for(self.request).filter(number=number).exists():
            raise exceptions.ValidationError(
                {"target": [_("找不到投诉“%(number)s”。") % {"number": number[:30]}]}
            )
        return number

    @_action_schema(s.AssessSerializer, "Judge nature, major flag, severity, category (判定)")
    @action(detail=True, methods=["post"])
    def assess(self, request, number: str):
        return self._act(number, s.AssessSerializer, lambda c, d: services.assess(c, request.user, **d))

    # Not named `dispatch`: that is the view's own request entry point.
    @extend_schema(
        request=s.DispatchSerializer,
        responses={200: s.ComplaintDetailSerializer},
        summary="Forward to the responsible department (转呈/派单)",
        operation_id="complaints_dispatch",
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def dispatch_to(self, request, number: str):
        def call(c: Complaint, d: dict) -> Complaint:
            errors: dict[str, list[str]] = {}
            department = Department.objects.filter(pk=d.pop("department")).first()
            if department is None:
                errors["department"] = [_("未知的部门。")]
            handler = None
            username = d.pop("handler", "").strip()
            if username:
                handler = User.objects.filter(username=username).first()
                if handler is None:
                    errors["handler"] = [_("未知的用户“%(name)s”。") % {"name": username[:30]}]
            if errors:
                raise exceptions.ValidationError(errors)
            return services.dispatch(c, request.user, department=department, handler=handler, **d)

        return self._act(number, s.DispatchSerializer, call)

    @_action_schema(s.AcceptSerializer, "The department takes the job (接单)")
    @action(detail=True, methods=["post"])
    def accept(self, request, number: str):
        return self._act(number, s.AcceptSerializer, lambda c, d: services.accept(c, request.user, **d))

    @_action_schema(s.NoteSerializer, "Record progress, optionally told to the complainant (进展)")
    @action(detail=True, methods=["post"])
    def note(self, request, number: str):
        return self._act(number, s.NoteSerializer, lambda c, d: services.note(c, request.user, **d))

    @_action_schema(s.EscalateSerializer, "Escalate up the ladder (升级)")
    @action(detail=True, methods=["post"])
    def escalate(self, request, number: str):
        return self._act(number, s.EscalateSerializer, lambda c, d: services.escalate(c, request.user, **d))

    @_action_schema(s.ReportSerializer, "Report a major complaint to the company (上报公司)")
    @action(detail=True, methods=["post"])
    def report(self, request, number: str):
        return self._act(number, s.ReportSerializer, lambda c, d: services.report(c, request.user, **d))

    @_action_schema(s.ResolveSerializer, "Record what was done (处理完毕)")
    @action(detail=True, methods=["post"])
    def resolve(self, request, number: str):
        return self._act(number, s.ResolveSerializer, lambda c, d: services.resolve(c, request.user, **d))

    @_action_schema(s.CallbackSerializer, "Call back the complainant (回访)")
    @action(detail=True, methods=["post"])
    def callback(self, request, number: str):
        return self._act(number, s.CallbackSerializer, lambda c, d: services.call_back(c, request.user, **d))

    @_action_schema(s.ReopenSerializer, "Not satisfied: rectify by a deadline (整改)")
    @action(detail=True, methods=["post"])
    def reopen(self, request, number: str):
        return self._act(number, s.ReopenSerializer, lambda c, d: services.reopen(c, request.user, **d))

    @_action_schema(s.CloseSerializer, "Close and file, with the lesson (结案)")
    @action(detail=True, methods=["post"])
    def close(self, request, number: str):
        return self._act(number, s.CloseSerializer, lambda c, d: services.close(c, request.user, **d))

    @_action_schema(s.DeclineSerializer, "Decline with a reason (不予受理)")
    @action(detail=True, methods=["post"])
    def decline(self, request, number: str):
        return self._act(number, s.DeclineSerializer, lambda c, d: services.decline(c, request.user, **d))

    @_action_schema(s.WithdrawSerializer, "The complainant withdraws it (撤回)")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, number: str):
        return self._act(number, s.WithdrawSerializer, lambda c, d: services.withdraw(c, request.user, **d))

    @_action_schema(s.LinkSerializer, "Mark as a repeat of an earlier complaint (重复投诉)")
    @action(detail=True, methods=["post"])
    def link(self, request, number: str):
        def call(c: Complaint, d: dict) -> Complaint:
            d["target"] = self._target(d["target"])
            return services.link_repeat(c, request.user, **d)

        return self._act(number, s.LinkSerializer, call)

    @_action_schema(s.MergeSerializer, "Merge into another complaint of the same office (合并)")
    @action(detail=True, methods=["post"])
    def merge(self, request, number: str):
        def call(c: Complaint, d: dict) -> Complaint:
            d["target"] = self._target(d["target"])
            return services.merge(c, request.user, **d)

        return self._act(number, s.MergeSerializer, call)

    @extend_schema(
        summary="Show the complainant's full phone number (recorded in the timeline)",
        request=s.EmptySerializer,
        responses={200: s.ContactSerializer},
    )
    @action(detail=True, methods=["post"])
    def reveal_contact(self, request, number: str):
        c = self._complaint(number)
        return Response({"complainant_phone": services.reveal_contact(c, request.user)})


# ------------------------------------------------------------------------------------------------
# look-ups


class _Lookup(ApiMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [ApiAccess]
    filter_backends = [DjangoFilterBackend]
    pagination_class = None


@extend_schema_view(list=extend_schema(summary="Offices the caller works in (管理处)"))
class OfficeViewSet(_Lookup):
    serializer_class = s.OfficeSerializer
    queryset = Office.objects.none()

    def get_queryset(self):
        return homes.with_units_on_file(offices_for_request(self.request)).order_by("code")


@extend_schema_view(list=extend_schema(summary="Departments of the caller's offices (部门)"))
class DepartmentViewSet(_Lookup):
    serializer_class = s.DepartmentSerializer
    filterset_class = DepartmentFilter
    queryset = Department.objects.none()

    def get_queryset(self):
        return (
            Department.objects.filter(office__in=offices_for_request(self.request))
            .select_related("office")
            .order_by("office__code", "type", "name")
        )


@extend_schema_view(list=extend_schema(summary="Units (栋/房号), by code search `q`"))
class UnitViewSet(_Lookup):
    serializer_class = s.UnitSerializer
    filterset_class = UnitFilter
    pagination_class = CodeCursor
    queryset = Unit.objects.none()

    def get_queryset(self):
        return Unit.objects.filter(building__office__in=offices_for_request(self.request)).select_related(
            "building__office"
        )


@extend_schema_view(list=extend_schema(summary="Residents (业主/住户) by name, phone or unit; phones masked"))
class ResidentViewSet(_Lookup):
    permission_classes = [ApiAccess, LooksUp]
    serializer_class = s.ResidentSerializer
    filterset_class = ResidentFilter
    pagination_class = IdCursor
    queryset = Resident.objects.none()

    def get_throttles(self):
        return [*super().get_throttles(), LookupThrottle()]

    def get_queryset(self):
        return Resident.objects.filter(
            unit__building__office__in=offices_for_request(self.request)
        ).select_related("unit")


@extend_schema_view(list=extend_schema(summary="Content categories (投诉内容分类)"))
class CategoryViewSet(_Lookup):
    serializer_class = s.CategorySerializer
    queryset = Category.objects.all()

    def get_queryset(self):
        return Category.objects.filter(is_active=True).order_by("order", "code")


class ChoicesView(ApiMixin, APIView):
    permission_classes = [ApiAccess]

    @extend_schema(
        summary="Display labels of every code, in the language asked for", responses=s.ChoicesSerializer
    )
    def get(self, request):
        def pairs(choices) -> list[dict[str, str]]:
            return [{"code": str(code), "label": str(label)} for code, label in choices]

        return Response(
            {
                "status": pairs(Status.choices),
                "channel": pairs(Channel.choices),
                "nature": pairs(Nature.choices),
                "nature_subtype": pairs(NatureSubtype.choices),
                "severity": pairs(Severity.choices),
                "satisfaction": pairs(Satisfaction.choices),
                "callback_method": pairs(CallbackMethod.choices),
                "close_outcome": pairs(CloseOutcome.choices),
                "decline_reason": pairs(DeclineReason.choices),
                "tier": pairs(Tier.choices),
                "event_type": pairs(EventType.choices),
                "department_type": pairs(DepartmentType.choices),
            }
        )


# ------------------------------------------------------------------------------------------------
# reports

MONTHLY_REPORT_SCHEMA = {
    "type": "object",
    "description": (
        "客户投诉工作月报: every figure of the monthly report (definitions in kesu/reports/README.md). "
        "Shares are percentages whose column adds up to exactly 100 at the shown precision."
    ),
    "properties": {
        "period": {"type": "object"},
        "scope": {"type": "object"},
        "total": {"type": "integer"},
        "by_nature": {"type": "object"},
        "major": {"type": "integer"},
        "valid_by_category": {"type": "array", "items": {"type": "object"}},
        "valid_by_office": {"type": "array", "items": {"type": "object"}},
        "annex1": {"type": "object"},
        "annex2": {"type": "object"},
        "kpis": {"type": "object"},
        "previous": {"type": "object"},
        "summary": {"type": "array", "items": {"type": "object"}},
    },
}
MONTHLY_REPORT_SCHEMA["required"] = list(MONTHLY_REPORT_SCHEMA["properties"])  # the contract's keys


class MonthlyReportView(ApiMixin, APIView):
    """The monthly report as JSON: the same computation as the report page and the files."""

    permission_classes = [ApiAccess]

    @extend_schema(
        summary="The monthly complaint report (客户投诉工作月报) for a month or several",
        parameters=[
            OpenApiParameter("month", str, required=True, description="first month, YYYY-MM"),
            OpenApiParameter("to", str, description="last month, YYYY-MM (default: `month`)"),
            OpenApiParameter(
                "office",
                str,
                description="an office code; default: everything the caller (and the key) may see",
            ),
        ],
        responses={200: MONTHLY_REPORT_SCHEMA},
    )
    def get(self, request):
        params = request.query_params
        try:
            month = params.get("month") or ""
            if not month:
                raise PeriodError("month", _("请指定月份，例如 month=2026-02。"))
            period = Period.parse(month, params.get("to") or None)
            report = compute(
                request.user, period, params.get("office") or None, limit=key_office_ids(request)
            )
        except PeriodError as e:
            raise exceptions.ValidationError({e.field: [e.message]}) from None
        except ReportAccessError as e:
            if e.status == 401:
                raise exceptions.NotAuthenticated(e.message) from None
            if e.status == 404:
                raise exceptions.NotFound(e.message) from None
            raise exceptions.PermissionDenied(e.message) from None
        return Response(report)


# ------------------------------------------------------------------------------------------------
# webhooks


@extend_schema_view(
    list=extend_schema(summary="Your webhook subscriptions"),
    retrieve=extend_schema(summary="One webhook subscription"),
    create=extend_schema(
        summary="Subscribe a URL to complaint events",
        description=(
            "Each delivery is a POST of a `WebhookPayload` JSON body with the headers "
            "`X-Kesu-Signature: <hex HMAC-SHA256 of the raw body, keyed with the secret>`, "
            "`X-Kesu-Delivery: <delivery id>` and `X-Kesu-Event: <event>`. Deliveries are retried with "
            "back-off until the receiver answers 2xx, in order per complaint; a delivery id is never "
            "reused, so receivers drop an id they have already processed. The secret is returned once."
        ),
        responses={201: s.WebhookCreatedSerializer},
        callbacks=[
            OpenApiCallback(
                "complaintEvent",
                "{$request.body#/url}",
                extend_schema(
                    summary="A complaint event, POSTed to the subscription's url",
                    request=s.WebhookPayloadSerializer,
                    parameters=[
                        OpenApiParameter(
                            "X-Kesu-Signature",
                            str,
                            OpenApiParameter.HEADER,
                            required=True,
                            description="lowercase hex HMAC-SHA256 of the raw body, keyed with the secret",
                        ),
                        OpenApiParameter(
                            "X-Kesu-Delivery",
                            str,
                            OpenApiParameter.HEADER,
                            required=True,
                            description="delivery id",
                        ),
                        OpenApiParameter("X-Kesu-Event", str, OpenApiParameter.HEADER, required=True),
                    ],
                    responses={200: None},
                ),
            )
        ],
    ),
    partial_update=extend_schema(summary="Change a subscription (url, events, offices, is_active, secret)"),
    destroy=extend_schema(summary="Delete a subscription"),
)
class WebhookViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [ApiAccess, ManagesWebhooks]
    serializer_class = s.WebhookSubscriptionSerializer
    queryset = WebhookSubscription.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = r"[0-9]{1,18}"
    pagination_class = None

    def get_queryset(self):
        qs = WebhookSubscription.objects.select_related("owner").prefetch_related("offices")
        return qs if self.request.user.is_superuser else qs.filter(owner=self.request.user)

    def _offices(self, codes: list[str] | None) -> list[Office] | None:
        if codes is None:
            return None
        allowed = {o.code: o for o in offices_for_request(self.request)}
        unknown = [c for c in codes if c not in allowed]
        if unknown:
            raise exceptions.ValidationError(
                {"offices": [_("您不能订阅管理处“%(code)s”。") % {"code": unknown[0][:20]}]}
            )
        return [allowed[c] for c in dict.fromkeys(codes)]

    def perform_create(self, serializer):
        offices = self._offices(serializer.validated_data.pop("offices", None))
        if not offices and key_office_ids(self.request) is not None:
            offices = list(offices_for_request(self.request))
        secret = serializer.validated_data.pop("secret", None) or "whsec_" + secrets.token_urlsafe(32)
        sub = serializer.save(owner=self.request.user, secret=secret)
        sub.offices.set(offices or [])

    def create(self, request, *args, **kwargs):
        ser = self.get_serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        self.perform_create(ser)
        sub = WebhookSubscription.objects.prefetch_related("offices").get(pk=ser.instance.pk)
        data = s.WebhookCreatedSerializer(sub, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        offices = self._offices(serializer.validated_data.pop("offices", None))
        sub = serializer.save()
        if offices is not None:
            sub.offices.set(offices)

    @extend_schema(
        summary="Recent deliveries of a subscription", responses={200: s.WebhookDeliverySerializer(many=True)}
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk: str):
        sub = self.get_object()
        rows = (
            Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK, payload__subscription=sub.pk)
            .select_related("complaint")
            .order_by("-id")[:100]
        )
        data = [
            {
                "delivery": r.payload.get("delivery", ""),
                "event": r.payload.get("event", ""),
                "complaint": r.complaint.number if r.complaint_id else None,
                "state": r.state,
                "attempts": r.attempts,
                "created_at": r.created_at,
                "next_attempt_at": r.next_attempt_at,
                "sent_at": r.sent_at,
                "last_error": webhooks.shown_error(r.last_error),
            }
            for r in rows
        ]
        return Response(s.WebhookDeliverySerializer(data, many=True).data)


__all__ = [
    "CategoryViewSet",
    "ChoicesView",
    "ComplaintViewSet",
    "DepartmentViewSet",
    "OfficeViewSet",
    "ResidentViewSet",
    "UnitViewSet",
    "WebhookViewSet",
]
