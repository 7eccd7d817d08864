"""The OpenAPI schema documents the contract; the docs render offline; schemathesis finds no 5xx and no
response that breaks the schema (a bounded number of examples per operation: KESU_FUZZ_EXAMPLES), also
along the schema's links (register → read → act → events: KESU_FUZZ_SCENARIOS)."""

from __future__ import annotations

import collections
import itertools
import json
import os
import re

import pytest
import schemathesis
from api_support import make_key, register_body
from django.contrib.staticfiles import finders
from django.db import transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kesu.api.models import WebhookSubscription
from kesu.complaints import services
from kesu.org.choices import DepartmentType

CONTRACT_PATHS = {
    "/api/v1/complaints/": {"get", "post"},
    "/api/v1/complaints/{number}/": {"get"},
    "/api/v1/complaints/{number}/events/": {"get"},
    **{
        f"/api/v1/complaints/{{number}}/{action}/": {"post"}
        for action in (
            "assess",
            "dispatch",
            "note",
            "escalate",
            "resolve",
            "callback",
            "reopen",
            "close",
            "decline",
            "withdraw",
            "link",
        )
    },
    "/api/v1/offices/": {"get"},
    "/api/v1/departments/": {"get"},
    "/api/v1/units/": {"get"},
    "/api/v1/residents/": {"get"},
    "/api/v1/categories/": {"get"},
    "/api/v1/webhooks/": {"get", "post"},
}


def _schema() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.django_db
def test_the_schema_documents_the_contract():
    schema = _schema()
    assert schema["openapi"].startswith("3.")
    for path, methods in CONTRACT_PATHS.items():
        assert path in schema["paths"], path
        assert methods <= set(schema["paths"][path]), path
    create = schema["paths"]["/api/v1/complaints/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = set(schema["components"]["schemas"][body]["properties"])
    assert {
        "office",
        "channel",
        "unit",
        "address",
        "complainant_name",
        "phone",
        "content",
        "received_at",
        "nature",
        "is_major",
        "severity",
        "category",
        "requested_by",
    } <= fields
    assert schema["components"]["schemas"]["Channel"]["enum"] == [
        "phone",
        "visit",
        "letter",
        "online",
        "wechat",
        "email",
        "media",
        "referral",
        "other",
    ]
    params = {p["name"] for p in schema["paths"]["/api/v1/complaints/"]["get"]["parameters"]}
    assert {
        "office",
        "status",
        "nature",
        "severity",
        "category",
        "department",
        "overdue",
        "q",
        "cursor",
    } <= params
    assert {"received_after", "received_before"} <= params
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "Integration key made with `kesu apikey create` (接口密钥).",
    }
    for path, item in schema["paths"].items():
        for method, op in item.items():
            assert "401" in op["responses"] and "429" in op["responses"], (path, method)
            problem = op["responses"]["400"]["content"]
            assert "application/problem+json" in problem
            if method == "post":
                assert any(p["name"] == "Idempotency-Key" for p in op["parameters"]), path
    callbacks = schema["paths"]["/api/v1/webhooks/"]["post"]["callbacks"]
    assert "complaintEvent" in callbacks


def test_the_schema_is_valid_openapi():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    validate_schema(SchemaGenerator().get_schema(request=None, public=True))


@pytest.mark.django_db
def test_the_docs_page_renders_from_vendored_assets_with_no_cdn():
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    external = [u for u in re.findall(r"""(?:src|href)=["']([^"']+)""", html) if "://" in u]
    assert external == [], external
    assert "cdn" not in html.lower()
    assets = re.findall(r"""/static/(drf_spectacular_sidecar/[^"'?]+)""", html)
    assert assets, html[:500]
    for asset in assets:
        assert finders.find(asset), asset
    # The start-up script is a file of this server (no inline script), and loads the schema from here.
    assert "<script>" not in html and '<script src="/api/docs/?script="></script>' in html
    script = Client().get("/api/docs/", {"script": ""})
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


# --- schemathesis against the live schema ---------------------------------------------------

EXAMPLES = int(os.environ.get("KESU_FUZZ_EXAMPLES", "20"))  # more: KESU_FUZZ_EXAMPLES=200 KESU_FUZZ_RANDOM=1


def _live_schema():
    """The schema as the running app serves it (no database needed to build it)."""
    from kesu.wsgi import application

    # The coverage phase (every boundary case the schema defines) is thorough but slow; it runs when
    # KESU_FUZZ_COVERAGE=1. The examples and fuzzing phases always run, EXAMPLES per operation.
    coverage = os.environ.get("KESU_FUZZ_COVERAGE", "") == "1"
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": coverage}}})
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)


schema = _live_schema()
_turn = itertools.count()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzz_world(org, make_complaint):
    """A small company to fuzz against: a complaint and a subscription that generated ids can hit."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    c = make_complaint()
    services.assess(c, org.supervisor, nature="valid", severity="general", category="facilities")
    sub = WebhookSubscription.objects.create(
        owner=org.director, url="http://127.0.0.1:9/none", events=["closed"], secret="x" * 20
    )
    # Requests go through the real WSGI handler, whose request signals would close the test's
    # connection (and its transaction); Django's own test client detaches them the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield {
            "key": make_key(org.director),
            "number": c.number,
            "webhook": str(sub.pk),
            "register": register_body(org, category="facilities"),
            "department": org.a.dept[DepartmentType.ENGINEERING].pk,
        }
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("KESU_FUZZ_RANDOM", "") != "1",  # the same cases every run, unless asked
    database=None,
    suppress_health_check=list(HealthCheck),
)
@override_settings(KESU_API_RATE_PER_KEY="", KESU_API_RATE_PER_IP="")
def test_no_operation_answers_5xx_or_breaks_its_schema(case, fuzz_world):
    # Every other example targets the real complaint / subscription, so actions reach the lifecycle.
    params = case.path_parameters or {}
    if next(_turn) % 2 == 0:
        if "number" in params:
            params["number"] = fuzz_world["number"]
        if "id" in params:
            params["id"] = fuzz_world["webhook"]
    case.call_and_validate(headers={"Authorization": f"Bearer {fuzz_world['key']}"}, checks=CHECKS)


SCENARIOS = int(os.environ.get("KESU_FUZZ_SCENARIOS", "30"))  # more: with KESU_FUZZ_RANDOM=1
STEPS = int(os.environ.get("KESU_FUZZ_STEPS", "10"))  # calls per scenario at most


def test_the_schema_links_a_registered_complaint_to_what_can_be_done_with_it():
    paths = schema.raw_schema["paths"]
    links = paths["/api/v1/complaints/"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in links.values()}
    assert {
        "complaints_retrieve",
        "complaints_events_list",
        "complaints_assess_create",
        "complaints_dispatch",
    } <= targets
    assert all(link["parameters"] == {"path.number": "$response.body#/number"} for link in links.values())
    note = paths["/api/v1/complaints/{number}/note/"]["post"]["responses"]["200"]["links"]
    assert {link["operationId"] for link in note.values()} == targets  # every action leads on


@override_settings(KESU_API_RATE_PER_KEY="", KESU_API_RATE_PER_IP="", KESU_LOOKUPS_PER_MINUTE=0)
def test_no_sequence_along_the_links_answers_5xx_or_breaks_its_schema(fuzz_world):
    """The stateful phase: scenarios that follow the links with the real numbers and ids answered."""
    headers = {"Authorization": f"Bearer {fuzz_world['key']}"}

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        # Each scenario starts from the same data (a savepoint rolled back after it), so Hypothesis
        # can replay and shrink a failing one.
        def setup(self):
            self.savepoint = transaction.savepoint()
            self.turns: dict[str, itertools.count] = collections.defaultdict(itertools.count)

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def before_call(self, case):
            # Every other registration names real data (office, unit, phone, category) and no times,
            # keeping the generated codes and texts, and every other dispatch a real department, so
            # scenarios go on to act on the new complaint.
            if case.method != "POST" or next(self.turns[case.path]) % 2:
                return
            body = case.body if isinstance(case.body, dict) else {}
            if case.path == "/api/v1/complaints/":
                times = ("received_at", "requested_by", "committed_answer_at")
                case.body = {**{k: v for k, v in body.items() if k not in times}, **fuzz_world["register"]}
            elif case.path == "/api/v1/complaints/{number}/dispatch/":
                kept = {k: v for k, v in body.items() if k != "handler"}
                case.body = {**kept, "department": fuzz_world["department"]}

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=os.environ.get("KESU_FUZZ_RANDOM", "") != "1",
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
