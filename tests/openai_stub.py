"""A local OpenAI-compatible HTTP server for tests (127.0.0.1 only, standard library only).

Usage::

    with StubServer(always("a")) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0, timeout=2)
        client.chat.completions.create(model="stub-vision", messages=[...])
        assert len(server.requests) == 1

A *scenario* is ``scenario(request_json, call_index) -> Reply``; ``call_index`` counts chat-completions calls
from 0. Scenario builders: :func:`always`, :func:`cycle_labels`, :func:`wrong_class`, :func:`fail_then_succeed`,
:func:`hang`, :func:`garbage`, :func:`empty_choices`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_ID = "stub-vision"

_ERROR_TYPES = {
    400: ("invalid_request_error", "bad_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("not_found_error", "not_found"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


@dataclass
class Reply:
    """What the stub answers to one chat-completions request."""

    status: int = 200
    contents: list[str | None] | None = None  # one choice per entry; None -> n choices of {"label": "a"}
    body: bytes | None = None  # raw body (content-type application/json) instead of a built response
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"}
    delay: float = 0.0  # seconds to sleep before answering
    usage: tuple[int, int] = (85, 3)  # prompt_tokens, completion_tokens


Scenario = Callable[[dict, int], Reply]


def _n(request: dict) -> int:
    n = request.get("n")
    return n if isinstance(n, int) and n > 0 else 1


def _label_json(label: str) -> str:
    return json.dumps({"label": label})


# ---------------------------------------------------------------- scenario builders


def always(label: str) -> Scenario:
    """Every call answers ``{"label": label}`` (n choices when the request asks for n)."""

    def scenario(request: dict, call_index: int) -> Reply:
        return Reply(contents=[_label_json(label)] * _n(request))

    return scenario


def cycle_labels(labels: list[str]) -> Scenario:
    """Call i answers ``labels[i % len(labels)]``; with n > 1 the choices take consecutive labels from there."""
    labels = list(labels)
    if not labels:
        raise ValueError("cycle_labels needs at least one label")

    def scenario(request: dict, call_index: int) -> Reply:
        return Reply(contents=[_label_json(labels[(call_index + k) % len(labels)]) for k in range(_n(request))])

    return scenario


def wrong_class(text: str) -> Scenario:
    """Every call answers ``{"label": text}`` -- meant for a label that is not one of the task's classes."""
    return always(text)


def fail_then_succeed(status: int, failures: int, label: str, headers: dict[str, str] | None = None) -> Scenario:
    """The first ``failures`` calls answer ``status`` (an error body, with ``headers``); later ones answer ``label``."""
    ok = always(label)

    def scenario(request: dict, call_index: int) -> Reply:
        if call_index < failures:
            return Reply(status=status, headers=dict(headers or {}))
        return ok(request, call_index)

    return scenario


def hang(seconds: float) -> Scenario:
    """Every call sleeps ``seconds`` before answering normally (use more than the client timeout)."""

    def scenario(request: dict, call_index: int) -> Reply:
        return Reply(delay=seconds, contents=[_label_json("a")] * _n(request))

    return scenario


def garbage() -> Scenario:
    """Every call answers status 200 with a body that is not JSON (but claims to be)."""

    def scenario(request: dict, call_index: int) -> Reply:
        return Reply(body=b"this is {not json")

    return scenario


def empty_choices() -> Scenario:
    """Every call answers a valid completion with ``"choices": []``."""

    def scenario(request: dict, call_index: int) -> Reply:
        return Reply(contents=[])

    return scenario


# ---------------------------------------------------------------- request inspection


def _last_user_content(request: dict) -> Any:
    for message in reversed(request.get("messages") or []):
        if message.get("role") == "user":
            return message.get("content")
    return None


def content_text(request: dict) -> str:
    """The concatenated text parts of the last user message ("" if none)."""
    content = _last_user_content(request)
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text")


def image_urls(request: dict) -> list[str]:
    """The ``image_url`` urls of the last user message, in order."""
    content = _last_user_content(request)
    if not isinstance(content, list):
        return []
    urls = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if isinstance(url, str):
                urls.append(url)
    return urls


# ---------------------------------------------------------------- server


def _completion(request: dict, reply: Reply, call_index: int) -> dict:
    contents = reply.contents if reply.contents is not None else [_label_json("a")] * _n(request)
    prompt_tokens, completion_tokens = reply.usage
    return {
        "id": f"chatcmpl-stub-{call_index}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", MODEL_ID),
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": c},
                "logprobs": None,
                "finish_reason": "stop",
            }
            for i, c in enumerate(contents)
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _error_body(status: int) -> dict:
    if status >= 500:
        err_type, code = "server_error", "server_error"
    else:
        err_type, code = _ERROR_TYPES.get(status, ("invalid_request_error", "error"))
    return {"error": {"message": f"stub error {status}", "type": err_type, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request logging
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), headers)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(
                200,
                {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "tests"}]},
            )
        else:
            self._send_json(404, _error_body(404))

    def do_POST(self) -> None:  # noqa: N802
        raw = self._read_body()
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, _error_body(404))
            return
        try:
            request = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, _error_body(400))
            return
        stub = self.server.stub
        call_index = stub._record(request)
        reply = stub.scenario(request, call_index)
        if reply.delay > 0 and stub._stopping.wait(reply.delay):
            self.close_connection = True
            return
        if reply.body is not None:
            self._send(reply.status, reply.body, reply.headers)
        elif reply.status == 200:
            self._send_json(200, _completion(request, reply, call_index), reply.headers)
        else:
            self._send_json(reply.status, _error_body(reply.status), reply.headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    stub: StubServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # client disconnects etc.: stay quiet


class StubServer:
    """An OpenAI-compatible server on 127.0.0.1 (free port) for the duration of a ``with`` block."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.requests: list[dict] = []
        self.base_url = ""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def _record(self, request: dict) -> int:
        with self._lock:
            self.requests.append(request)
            return len(self.requests) - 1

    def __enter__(self) -> StubServer:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.stub = self
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="openai-stub", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
