"""Helpers shared by the API tests: a key for a persona, and a small JSON client that sends it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.test import Client

from kesu.api.keys import create_key

BASE = "/api/v1"


def make_key(user, offices: Iterable[str] = (), scope: str = "write") -> str:
    _key, raw = create_key(user, offices=list(offices), scope=scope)
    return raw


class Api:
    """`api.get("/complaints/")`, `api.post("/complaints/Y01-…/note/", {...})`: JSON in, JSON out."""

    def __init__(self, key: str | None = None, *, lang: str | None = None, client: Client | None = None):
        self.client = client or Client()
        self.headers: dict[str, str] = {}
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        if lang:
            self.headers["Accept-Language"] = lang

    def _url(self, path: str) -> str:
        if path.startswith("http://testserver"):  # a `next` link
            path = path[len("http://testserver") :]
        return path if path.startswith("/api/") else BASE + path

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str):
        return self.client.get(self._url(path), params or {}, headers={**self.headers, **headers})

    def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None, **headers: str):
        extra = {**self.headers, **headers}
        if idempotency_key is not None:
            extra["Idempotency-Key"] = idempotency_key
        data = json.dumps({} if body is None else body, ensure_ascii=False)
        return self.client.post(self._url(path), data, content_type="application/json", headers=extra)

    def patch(self, path: str, body: Any, **headers: str):
        data = json.dumps(body, ensure_ascii=False)
        return self.client.patch(
            self._url(path), data, content_type="application/json", headers={**self.headers, **headers}
        )

    def delete(self, path: str, **headers: str):
        return self.client.delete(self._url(path), headers={**self.headers, **headers})


def api_for(user, offices: Iterable[str] = (), scope: str = "write", lang: str | None = None) -> Api:
    return Api(make_key(user, offices, scope), lang=lang)


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json"), response["Content-Type"]
    body = response.json()
    assert {"type", "title", "status", "detail", "code"} <= set(body)
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def register_body(org, **overrides: Any) -> dict[str, Any]:
    body = {
        "office": "Y01",
        "channel": "phone",
        "unit": org.a.unit.code,
        "complainant_name": "王建国",
        "phone": org.a.resident.phone,
        "content": "3栋2号电梯经常停运，昨晚困了一位老人十多分钟。",
    }
    body.update(overrides)
    return body


def json_of(response) -> Any:
    return json.loads(response.content)


class Receiver:
    """A real HTTP server on 127.0.0.1 that records webhook deliveries.

    `statuses` are answered in turn (then 200), so a test can make it fail first and recover."""

    def __init__(self, statuses: Iterable[int] = (), port: int = 0):
        import http.server
        import threading

        self.received: list[tuple[dict[str, str], bytes]] = []  # answered 2xx
        self.attempts: list[str] = []  # delivery id of every request, whatever the answer
        self.statuses = list(statuses)
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.attempts.append(self.headers.get("X-Kesu-Delivery", ""))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if 200 <= status < 300:
                        receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/kesu"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.received]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def free_port() -> int:
    """A port nobody listens on (a receiver that is down)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
