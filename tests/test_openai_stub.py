"""The local OpenAI-compatible stub server, exercised through the real ``openai`` SDK."""

import json
import time

import openai
import pytest
from openai_stub import (
    Reply,
    StubServer,
    always,
    content_text,
    cycle_labels,
    empty_choices,
    fail_then_succeed,
    garbage,
    hang,
    image_urls,
    wrong_class,
)

MESSAGES = [
    {"role": "system", "content": "You label images."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "Classes: a, b. "},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}},
            {"type": "text", "text": "Answer in JSON."},
        ],
    },
]


def _client(server: StubServer, **kwargs) -> openai.OpenAI:
    options = {"api_key": "test-key", "max_retries": 0, "timeout": 2} | kwargs
    return openai.OpenAI(base_url=server.base_url, **options)


def _create(client: openai.OpenAI, **kwargs):
    return client.chat.completions.create(model="stub-vision", messages=MESSAGES, **kwargs)


def test_always_label_and_usage():
    with StubServer(always("d")) as server:
        response = _create(_client(server))
    assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
    assert response.model == "stub-vision"
    assert [c.message.content for c in response.choices] == ['{"label": "d"}']
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens, response.usage.total_tokens) == (85, 3, 88)
    assert len(server.requests) == 1
    assert server.requests[0]["model"] == "stub-vision"


def test_n_choices():
    with StubServer(always("b")) as server:
        response = _create(_client(server), n=3)
    assert [c.index for c in response.choices] == [0, 1, 2]
    assert all(json.loads(c.message.content) == {"label": "b"} for c in response.choices)
    assert server.requests[0]["n"] == 3


def test_cycle_labels_and_custom_reply():
    with StubServer(cycle_labels(["a", "b", "c"])) as server:
        client = _client(server)
        first = [json.loads(c.message.content)["label"] for c in _create(client).choices]
        second = [json.loads(c.message.content)["label"] for c in _create(client, n=3).choices]
    assert first == ["a"]
    assert second == ["b", "c", "a"]

    def scenario(request, call_index):
        return Reply(contents=["plain text", None], usage=(10, 1))

    with StubServer(scenario) as server:
        response = _create(_client(server))
    assert [c.message.content for c in response.choices] == ["plain text", None]
    assert response.usage.total_tokens == 11


def test_wrong_class():
    with StubServer(wrong_class("zebra")) as server:
        response = _create(_client(server))
    assert json.loads(response.choices[0].message.content) == {"label": "zebra"}


def test_models_list():
    with StubServer(always("a")) as server:
        models = list(_client(server).models.list())
    assert [m.id for m in models] == ["stub-vision"]
    assert server.requests == []  # only chat-completions bodies are recorded


def test_request_helpers():
    with StubServer(always("a")) as server:
        _create(_client(server))
    request = server.requests[0]
    assert content_text(request) == "Classes: a, b. Answer in JSON."
    assert image_urls(request) == ["data:image/png;base64,AAAA"]
    assert content_text({"messages": [{"role": "user", "content": "plain"}]}) == "plain"
    assert image_urls({"messages": [{"role": "user", "content": "plain"}]}) == []
    assert content_text({"messages": []}) == ""


def test_server_error_raises_internal_server_error():
    with StubServer(fail_then_succeed(500, 1, "a")) as server:
        with pytest.raises(openai.InternalServerError) as info:
            _create(_client(server))
    assert info.value.status_code == 500
    assert len(server.requests) == 1


def test_fail_then_succeed_with_retries():
    # retry-after-ms keeps the SDK's backoff short (it otherwise waits ~0.5 s, ~1 s).
    with StubServer(fail_then_succeed(500, 2, "a", headers={"retry-after-ms": "10"})) as server:
        response = _create(_client(server, max_retries=2))
    assert json.loads(response.choices[0].message.content) == {"label": "a"}
    assert len(server.requests) == 3


def test_rate_limit_raises_rate_limit_error():
    with StubServer(fail_then_succeed(429, 5, "a", headers={"Retry-After": "1"})) as server:
        with pytest.raises(openai.RateLimitError) as info:
            _create(_client(server))
    assert info.value.response.headers["retry-after"] == "1"
    assert len(server.requests) == 1


def test_hang_raises_timeout():
    with StubServer(hang(5)) as server:
        start = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            _create(_client(server, timeout=0.5))
        assert time.monotonic() - start < 2
    assert len(server.requests) == 1


def test_garbage_raises_json_error():
    # The SDK does not wrap an unparsable 200 body: json.JSONDecodeError (a ValueError) escapes as is.
    with StubServer(garbage()) as server:
        with pytest.raises((json.JSONDecodeError, openai.APIError)) as info:
            _create(_client(server))
    assert isinstance(info.value, json.JSONDecodeError)


def test_empty_choices():
    with StubServer(empty_choices()) as server:
        response = _create(_client(server))
    assert response.choices == []
    assert response.usage.total_tokens == 88
