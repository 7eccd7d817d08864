"""OpenAPI post-processing: the problem+json error responses, Idempotency-Key and the webhook body,
documented once for every operation instead of on each view."""

from __future__ import annotations

import copy

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
