"""The schema's query parameters are the API's behaviour (issue 13 §16): every documented parameter of
every list answers as its schema says. Empty is no filter (`allowEmptyValue`), a value the schema
admits is answered, one it does not is a 400 problem+json naming the parameter. The walk reads the
parameters from the live schema, so a new parameter, or a changed rule, cannot drift from it."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from api_support import api_for, assert_problem
from conftest import local
from django.test import Client, override_settings

from kesu.complaints import services
from kesu.org.choices import DepartmentType

pytestmark = pytest.mark.django_db

V1 = "/api/v1"


def _schema() -> dict:
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.fixture
def world(org, make_complaint):
    """Two complaints (one a major repeat of the other), so every filter has something to keep or drop."""
    first = make_complaint(received_at=local(2026, 2, 3, 9, 0), at=local(2026, 2, 3, 9, 5))
    first = services.assess(first, org.supervisor, nature="valid", severity="general", category="facilities")
    second = make_complaint(
        content="楼上装修噪音太大", received_at=local(2026, 2, 9, 9, 0), at=local(2026, 2, 9, 9, 5)
    )
    second = services.assess(
        second, org.supervisor, nature="assist", severity="major", category="environment"
    )
    second = services.link_repeat(second, org.supervisor, target=first.number)
    return {"api": api_for(org.director), "org": org, "first": first, "second": second}


# --- the decisions, one by one --------------------------------------------------------------------


def _numbers(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {c["number"] for c in response.json()["results"]}


def test_an_empty_office_or_category_is_no_filter(world):
    api = world["api"]
    everything = _numbers(api.get("/complaints/"))
    assert len(everything) == 2
    for name in ("office", "category", "status", "nature", "severity", "channel", "department", "is_major"):
        assert _numbers(api.get("/complaints/", {name: ""})) == everything, name
    assert _numbers(api.get("/complaints/?office=&office=Y01&category=")) == everything
    assert _numbers(api.get("/complaints/", {"category": ["", "environment"]})) == {world["second"].number}


def test_page_size_is_a_whole_number_from_1_to_the_maximum(world):
    api = world["api"]
    assert len(api.get("/complaints/", {"page_size": "1"}).json()["results"]) == 1
    assert len(api.get("/complaints/", {"page_size": "200"}).json()["results"]) == 2
    assert len(api.get("/complaints/", {"page_size": ""}).json()["results"]) == 2
    for bad in ("abc", "1.5", "0", "-1", "201", "+1", " 1", "99999999999999999999"):
        body = assert_problem(api.get("/complaints/", {"page_size": bad}), 400, "validation_error")
        assert "page_size" in body["errors"], bad
    assert_problem(api.get("/units/", {"page_size": "201"}), 400)
    assert_problem(api.get("/residents/", {"page_size": "x"}), 400)


def test_booleans_are_true_or_false_and_false_means_the_others(world):
    api, first, second = world["api"], world["first"], world["second"]
    assert _numbers(api.get("/complaints/", {"repeat": "true"})) == {first.number, second.number}
    other = services.register(
        world["org"].reception,
        office=world["org"].a.office,
        channel="phone",
        content="垃圾没人收",
        complainant_name="李四",
        phone="13900000000",
    )
    assert _numbers(api.get("/complaints/", {"repeat": "false"})) == {other.number}
    assert _numbers(api.get("/complaints/", {"is_major": "false"})) == {
        first.number,
        second.number,
        other.number,
    }
    assert _numbers(api.get("/complaints/", {"is_major": "True"})) == set()  # requests sends True
    for bad in ("yes", "1", "0", "on", "none"):
        for name in ("is_major", "repeat"):
            assert name in assert_problem(api.get("/complaints/", {name: bad}), 400)["errors"], (name, bad)


def test_department_is_a_positive_id_of_a_department(world):
    api, org = world["api"], world["org"]
    eng = org.a.dept[DepartmentType.ENGINEERING]
    assert _numbers(api.get("/complaints/", {"department": str(eng.pk)})) == set()
    for bad in ("0", "-1", "abc", "1.0", str(2**63), str(eng.pk + 1000)):
        assert "department" in assert_problem(api.get("/complaints/", {"department": bad}), 400)["errors"], (
            bad
        )


def test_dates_are_iso_days_between_1970_and_2999(world):
    api = world["api"]
    assert _numbers(api.get("/complaints/", {"received_after": "2026-02-05"})) == {world["second"].number}
    for bad in (
        "03/02/2026",
        "2026/02/05",
        "20260205",
        "2026-02-30",
        "1969-12-31",
        "3000-01-01",
        " 2026-02-05",
    ):
        body = assert_problem(api.get("/complaints/", {"received_before": bad}), 400)
        assert "received_before" in body["errors"], bad


@pytest.mark.parametrize("path", ["/departments/", "/units/", "/residents/"])
def test_lookups_take_office_codes_like_the_complaint_list(world, path):
    api = world["api"]
    assert api.get(path, {"office": "Y01"}).status_code == 200
    assert "office" in assert_problem(api.get(path, {"office": "Y99"}), 400)["errors"]


def test_a_cursor_is_only_one_the_api_issued(world):
    api = world["api"]
    first = api.get("/complaints/", {"page_size": "1"}).json()
    assert _numbers(api.get(first["next"])) == {world["first"].number}
    token = re.search(r"cursor=([^&]+)", first["next"]).group(1)
    for bad in (" ", "!!!", token + "!", token[:-2]):
        assert "cursor" in assert_problem(api.get("/complaints/", {"cursor": bad}), 400)["errors"], bad


def test_the_report_month_is_exactly_yyyy_mm(world):
    api = world["api"]
    assert api.get("/reports/monthly/", {"month": "2026-02", "to": ""}).status_code == 200
    for bad in (" 2026-02", "2026-02 ", "２０２６-０２", "2026-2", "1999-12", "3000-01"):
        assert "month" in assert_problem(api.get("/reports/monthly/", {"month": bad}), 400)["errors"], bad
    assert "month" in assert_problem(api.get("/reports/monthly/", {"month": ""}), 400)["errors"]


def test_the_new_messages_speak_english_when_asked(world):
    api = api_for(world["org"].director, lang="en")

    def errors(**params) -> dict:
        return assert_problem(api.get("/complaints/", params), 400)["errors"]

    assert errors(page_size="0") == {"page_size": "page_size must be a whole number from 1 to 200."}
    assert errors(is_major="yes", department="x") == {
        "is_major": "Must be true or false.",
        "department": f"Must be a whole number from 1 to {2**63 - 1}.",
    }
    assert errors(received_after="2026/02/05") == {
        "received_after": "Dates are YYYY-MM-DD (years 1970 to 2999)."
    }


# --- the walk: every documented parameter against the live behaviour ------------------------------

# Every query parameter the schema documents on a list (a GET without path parameters), with what
# no schema can say: values that name something that exists (`known`), and the answer to an admitted
# value that names nothing or breaks a rule its description states (`otherwise`: 400 naming the
# parameter, or the report's 404). A parameter documented but missing here fails the walk: add it,
# and the walk checks it like the others.
PARAMETERS: dict[tuple[str, str], dict] = {
    ("/complaints/", "category"): {"known": ["facilities", "environment"], "otherwise": 400},
    ("/complaints/", "channel"): {},
    ("/complaints/", "cursor"): {"known": [], "otherwise": 400},
    ("/complaints/", "department"): {"known": ["<department>"], "otherwise": 400},
    ("/complaints/", "is_major"): {},
    ("/complaints/", "nature"): {},
    ("/complaints/", "office"): {"known": ["Y01", "Y02"], "otherwise": 400},
    ("/complaints/", "on_spot_enquiry"): {},
    ("/complaints/", "overdue"): {},
    ("/complaints/", "page_size"): {},
    ("/complaints/", "q"): {},
    ("/complaints/", "received_after"): {},
    ("/complaints/", "received_before"): {},
    ("/complaints/", "repeat"): {},
    ("/complaints/", "severity"): {},
    ("/complaints/", "status"): {},
    ("/departments/", "office"): {"known": ["Y01", "Y02"], "otherwise": 400},
    ("/departments/", "type"): {},
    ("/units/", "cursor"): {"known": [], "otherwise": 400},
    ("/units/", "office"): {"known": ["Y01", "Y02"], "otherwise": 400},
    ("/units/", "page_size"): {},
    ("/units/", "q"): {},
    ("/residents/", "cursor"): {"known": [], "otherwise": 400},
    ("/residents/", "office"): {"known": ["Y01", "Y02"], "otherwise": 400},
    ("/residents/", "page_size"): {},
    ("/residents/", "q"): {},
    ("/residents/", "unit"): {},
    ("/reports/monthly/", "month"): {},
    ("/reports/monthly/", "to"): {"known": ["2026-02", "2026-03"], "otherwise": 400},  # month … +23
    ("/reports/monthly/", "office"): {"known": ["Y01"], "otherwise": 404},
}
BASE_QUERY = {"/reports/monthly/": {"month": "2026-02"}}  # required parameters, when another is probed

# Raw query values tried on every parameter, whatever its type: the schema decides which it admits.
PROBES = [
    *("", " ", "abc", "NOPE", "a\x00b", "Y99", "facilities"),
    *("true", "false", "True", "FALSE", "yes", "on"),
    *("0", "1", "01", "-1", "+1", "1.5", "1.0", "1e3", "٣", " 1", "200", "201", "9" * 25, str(2**63)),
    *("2026-02-05", "2026-02-30", "2026-13-01", "03/02/2026", "20260205", "1969-12-31", "1970-01-01"),
    *("2999-12-31", "3000-01-01", " 2026-02-05", "2026-02-05\n"),
    *(
        "2026-02",
        "2026-2",
        "1999-12",
        "2000-01",
        "2999-12",
        "3000-01",
        "2026-13",
        " 2026-02",
        "２０２６-０２",
    ),
]


def _ecma_pattern(validator, pattern, instance, schema):
    # OpenAPI patterns are ECMA-262: `$` is the end of the string (Python's also matches before "\n").
    if isinstance(instance, str):
        python = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith(r"\$") else pattern
        if not re.search(python, instance):
            yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"pattern": _ecma_pattern})


def admits(param: dict, raw: str) -> bool:
    """Whether the parameter's schema admits this raw query value (one value of an exploded array)."""
    if raw == "":
        return bool(param.get("allowEmptyValue")) and not param.get("required")
    schema = param["schema"]
    if schema.get("type") == "array":
        schema = schema["items"]
    kind = schema.get("type")
    value: object = raw
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]+", raw):
            return False
        value = int(raw)
    elif kind == "boolean":
        if raw.lower() not in ("true", "false"):
            return False
        value = raw.lower() == "true"
    else:
        assert kind == "string", param
    return _Validator(schema, format_checker=jsonschema.FormatChecker()).is_valid(value)


def _list_parameters(schema: dict) -> dict[tuple[str, str], dict]:
    found = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            # Only the lists take query parameters; another one would need walking too.
            assert not query or (method == "get" and "{" not in path), (method, path)
            found.update({(path.removeprefix(V1), p["name"]): p for p in query})
    return found


def _rows(body):
    """What a filter decides: a page's rows, a list, or a report without the moment it was made."""
    if isinstance(body, dict) and "results" in body:
        return body["results"]
    return {k: v for k, v in body.items() if k != "as_of"} if isinstance(body, dict) else body


def _answers(response, name: str, status: int) -> bool:
    """The response is `status`; an error is problem+json, and a 400 names the parameter."""
    if response.status_code != status:
        return False
    if status == 200:
        return True
    problem = response["Content-Type"].startswith("application/problem+json")
    return problem and (status != 400 or name in response.json().get("errors", {}))


@override_settings(KESU_API_RATE_PER_KEY="", KESU_API_RATE_PER_IP="", KESU_LOOKUPS_PER_MINUTE=0)
def test_every_documented_query_parameter_answers_as_its_schema_says(world):
    api, org = world["api"], world["org"]
    documented = _list_parameters(_schema())
    assert set(documented) == set(PARAMETERS), "document each new list parameter in PARAMETERS"
    department = str(org.a.dept[DepartmentType.ENGINEERING].pk)
    mismatches = []

    def check(path: str, name: str, values: list[str], allowed: set[int]) -> None:
        base = BASE_QUERY.get(path, {})
        response = api.get(
            path, {**base, name: values} if values else {k: v for k, v in base.items() if k != name}
        )
        if not any(_answers(response, name, status) for status in allowed):
            mismatches.append((path, name, values, allowed, response.status_code, response.content[-120:]))

    for (path, name), param in documented.items():
        spec = PARAMETERS[(path, name)]
        known = [department if v == "<department>" else v for v in spec.get("known", [])]
        otherwise = spec.get("otherwise")
        schema = param["schema"]
        items = schema.get("items", schema)
        candidates = [*PROBES, *known, *[str(v) for v in items.get("enum", [])]]
        for bound in ("minimum", "maximum"):
            if bound in items:
                candidates += [str(items[bound] - 1), str(items[bound]), str(items[bound] + 1)]
        for raw in dict.fromkeys(candidates):
            if not admits(param, raw):
                allowed = {400}
            elif otherwise is None or raw in known or raw == "":
                allowed = {200}
            else:  # admitted, but may name nothing
                allowed = {200, otherwise}
            check(path, name, [raw], allowed)
        if schema.get("type") == "array":  # several values: all admitted → answered; one not → 400
            good = (known or [str(v) for v in items.get("enum", [])])[:2]
            check(path, name, good, {200})
            check(path, name, [*good[:1], "NOPE\x00"], {400})
        if param.get("required"):  # left out → 400 naming it
            check(path, name, [], {400})
        if param.get("allowEmptyValue"):  # empty is no filter: the same answer as without it
            base = BASE_QUERY.get(path, {})
            if _rows(api.get(path, base).json()) != _rows(api.get(path, {**base, name: ""}).json()):
                mismatches.append((path, name, [""], "the same as absent"))
    assert not mismatches, "\n".join(map(repr, mismatches))


def test_the_walk_reads_the_schema_as_openapi_does():
    """The walk's reading of a schema, on cases whose answer is plain."""
    integer = {"schema": {"type": "integer", "minimum": 1, "maximum": 200}, "allowEmptyValue": True}
    assert admits(integer, "1") and admits(integer, "200") and admits(integer, "")
    assert not any(admits(integer, v) for v in ("0", "201", "1.5", "abc", "٣"))
    date = {"schema": {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}}
    assert admits(date, "2026-02-05") and not admits(date, "")
    assert not any(admits(date, v) for v in ("2026-02-30", "2026-02-05\n", "03/02/2026"))
    assert admits({"schema": {"type": "boolean"}}, "false") and not admits(
        {"schema": {"type": "boolean"}}, "1"
    )
    assert admits({"schema": {"type": "array", "items": {"type": "string"}}}, "Y01")
