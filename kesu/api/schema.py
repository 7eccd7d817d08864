"""OpenAPI: the problem+json error responses, Idempotency-Key and the webhook body, documented once for
every operation instead of on each view; the query parameters as the classes that check them accept
them (filters from their form fields, the API-wide rules on empty values and NUL characters)."""

from __future__ import annotations

import copy

from django.core.validators import RegexValidator
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details. `errors` maps a field to its message ('__all__': not one field).",
    "properties": {
        "type": {"type": "string", "example": "urn:kesu:problem:validation_error"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable machine-readable code"},
        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["type", "title", "status", "detail", "code"],
}

_DESCRIPTIONS = {
    "400": "Invalid input (`errors`: field → message)",
    "401": "No key or session, or the key is invalid or revoked",
    "403": "The key is read-only, or the caller's role may not do this",
    "404": "Not found, or not visible to the caller (another office)",
    "409": "Refused by the complaint's state, or `version` is stale",
    "415": "The body is not application/json",
    "422": "Idempotency-Key already used with a different request",
    "429": "Rate limit reached; retry after `Retry-After` seconds",
}

IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": (
        "Any unique string (1–255 visible ASCII characters). Repeating a POST with the same key and "
        "body returns the first response (header `Idempotent-Replayed: true`) and changes nothing; "
        "the same key with another body is refused with 422. Keys are kept for 24 hours."
    ),
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$", "maxLength": 255, "minLength": 1},
}


def _problem(code: str) -> dict:
    response = {
        "description": _DESCRIPTIONS[code],
        "content": {"application/problem+json": {"schema": copy.deepcopy(PROBLEM_REF)}},
    }
    if code == "429":
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "required": True, "description": "seconds"}
        }
    if code == "401":
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def add_problems(result: dict, generator, request, public) -> dict:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            codes = ["400", "401", "403", "404", "429"]
            if method in {"post", "patch", "put"}:
                codes += ["415"]
            if method == "post":
                codes += ["409", "422"]
                params = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in params):
                    params.append(copy.deepcopy(IDEMPOTENCY_PARAMETER))
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, _problem(code))
    return result


# --- query parameters: what the schema says is what views.ApiMixin and the filters accept ---

NO_NUL_PATTERN = "^[^\\u0000]*$"  # views.ApiMixin refuses a NUL character in any query parameter


def field_bounds(field) -> dict:
    """The JSON Schema keywords a form field enforces: its bounds and its pattern."""
    bounds: dict = {}
    for attr, keyword in (
        ("min_value", "minimum"),
        ("max_value", "maximum"),
        ("min_length", "minLength"),
        ("max_length", "maxLength"),
    ):
        value = getattr(field, attr, None)
        if value is not None:
            bounds[keyword] = value
    patterns = [v.regex.pattern for v in field.validators if isinstance(v, RegexValidator)]
    if getattr(field, "pattern", None):
        patterns.append(field.pattern)
    if patterns:
        bounds["pattern"] = patterns[0]
    return bounds


class ApiFilterExtension(DjangoFilterExtension):
    """django-filter's parameters, with each form field's bounds and the filter's label and help text."""

    target_class = "kesu.api.filters.ApiFilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        params = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        bounds = field_bounds(filter_field.field)
        head = " — ".join(str(t) for t in (filter_field.label, filter_field.extra.get("help_text")) if t)
        for param in params:
            schema = param["schema"]
            (schema["items"] if schema.get("type") == "array" else schema).update(bounds)
            _, sep, choices = (param.get("description") or "").partition("\n\n*")
            param["description"] = head + (f"\n\n*{choices}" if sep else "")
        return params


def _string_schemas(schema: dict):
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        yield from _string_schemas(schema["items"])
    elif schema.get("type") == "string":
        yield schema


def exact_query_parameters(result: dict, generator, request, public) -> dict:
    """Rules every API query parameter shares (views.ApiMixin): an empty value is the same as an absent
    one, so an optional parameter allows it and a required one does not; a NUL character is refused."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            for param in operation.get("parameters", []):
                if param.get("in") != "query":
                    continue
                if param.get("required"):
                    param.pop("allowEmptyValue", None)
                else:
                    param["allowEmptyValue"] = True
                for schema in _string_schemas(param.get("schema", {})):
                    if "pattern" not in schema and "enum" not in schema:
                        schema["pattern"] = NO_NUL_PATTERN  # a declared pattern excludes NUL itself
    return result


# --- links: a response that carries a complaint leads to what can be done with it ---

COMPLAINT_SCHEMA_REF = "#/components/schemas/ComplaintDetail"


def complaint_links(result: dict, generator, request, public) -> dict:
    """OpenAPI links: every answer carrying a complaint (`ComplaintDetail`: the registration, the
    detail, each action) links to every operation on `/complaints/{number}/…` by its `number`, so a
    client (and schemathesis' stateful phase) can follow register → read → act → events."""
    paths = result.get("paths", {})
    targets = {
        operation["operationId"]: operation
        for path, item in paths.items()
        if path.startswith("/api/v1/complaints/{number}/")
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"} and "operationId" in operation
    }
    for item in paths.values():
        for method, operation in item.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            for code, response in operation.get("responses", {}).items():
                content = response.get("content", {}).get("application/json", {})
                if code.startswith("2") and content.get("schema", {}).get("$ref") == COMPLAINT_SCHEMA_REF:
                    response["links"] = {
                        op_id: {
                            "operationId": op_id,
                            "parameters": {"path.number": "$response.body#/number"},
                            "description": target.get("summary", ""),
                        }
                        for op_id, target in sorted(targets.items())
                    }
    return result
