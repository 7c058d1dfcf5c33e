"""An LLM annotator over any OpenAI-compatible endpoint, with a consistency check.

Each queried image is sent `samples` times (at the configured temperatures) as an upscaled PNG
data URL with the list of classes; the answer must be exactly one class. Unanimous answers are
accepted with source "llm"; anything else (disagreement, an unparseable answer, an error, the
deadline) flags the sample, and flagged samples go to the fallback annotator: a human in the
workbench, the ground truth (source "human_simulated") or nobody (deferred) in the CLI.
Optional few-shot demonstrations come from samples a person (or the ground truth) labeled, never
from the LLM's own answers. Raw responses are cached in the journal, so a resumed run makes no
duplicate paid calls.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .accounting import Accounting
from .base import Annotator, Answer, QueryItem

log = logging.getLogger("alstudio.llm")
IMAGE_PIXELS = 128  # synbols glyphs are 32x32: enlarge so a vision model sees strokes, not blur
SYSTEM_PROMPT = ("You label images of single printed characters. Answer with the character shown, chosen from "
                 "the allowed classes, as JSON: {\"label\": \"<class>\"}.")
UNTRUSTED_SOURCES = ("llm",)  # demonstrations must not teach the LLM its own mistakes

Shots = tuple[tuple[int, str], ...]  # demonstrations: (pool index, class name)


@dataclass
class _Votes:
    sample: int
    votes: list[str | None]
    fresh: dict[str, str] = field(default_factory=dict)  # cache key -> raw response, to journal
    usage: tuple[int, int] = (0, 0)
    requests: int = 0


def image_data_url(image: np.ndarray, pixels: int = IMAGE_PIXELS) -> str:
    png = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).resize((pixels, pixels), Image.NEAREST).save(png, "PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")


def parse_label(content: str | None, classes: list[str]) -> str | None:
    """Exactly one class, from JSON {"label": ...} or a bare answer; anything else is no answer."""
    if not content:
        return None
    text = content.strip()
    try:
        value = json.loads(text)
        text = value.get("label") if isinstance(value, dict) else value
    except ValueError:
        pass
    if not isinstance(text, str):
        return None
    text = text.strip().strip("\"'`.").strip()
    return text if text in classes else None


class LLMAnnotator(Annotator):
    source = "llm"

    def __init__(self, settings, class_names: list[str], fallback: Annotator | None, client=None):
        self.settings = settings  # an AnnotatorConfig
        self.classes = list(class_names)
        self.images: np.ndarray | None = None  # the pool's images, from attach()
        self.fallback = fallback
        self.flagged_votes: dict[int, list[str | None]] = {}
        self.client = client or self._make_client()
        self.accounting = Accounting()
        self.cache_get = lambda key: None
        self.cache_put = lambda key, value: None
        self._journal = None
        self._seed = 0
        self._labeled: dict[int, tuple[int, str]] = {}  # before this batch, from the loop: demonstrations
        self._features = None  # pool indices -> trunk features, from the loop, for similar demonstrations
        self._pool = ThreadPoolExecutor(max_workers=settings.max_concurrency, thread_name_prefix="llm")
        self._running: dict[Future, tuple[QueryItem, float]] = {}
        self._ready: list[Answer] = []
        self._logged_failures: set[str] = set()
        self._json_schema = True  # dropped once the endpoint refuses structured output
        self._use_n = True  # dropped once the endpoint ignores or refuses n

    def _make_client(self):
        import openai

        key = api_key(self.settings.base_url, self.settings.api_key_env) or "no-key"  # local servers need none
        return openai.OpenAI(base_url=self.settings.base_url or None, api_key=key,
                             timeout=self.settings.request_timeout, max_retries=3)

    def attach(self, journal, dataset) -> None:
        """Cache responses in the run's journal (called on the loop's thread, the journal's owner)."""
        self.cache_get, self.cache_put = journal.get_cached, journal.put_cached
        self.images = dataset.pool.images
        self._journal, self._seed = journal, journal.seed
        self.accounting = Accounting.restore(journal)  # a resumed run goes on counting
        if self.fallback is not None:
            self.fallback.attach(journal, dataset)

    # -- the annotator interface ----------------------------------------------------------------
    def use_context(self, labeled: dict[int, tuple[int, str]], features) -> None:
        self._labeled, self._features = labeled, features

    def request(self, items: list[QueryItem]) -> None:
        self.accounting.new_batch(item.sample for item in items)
        demonstrations = self._demonstrations([item.sample for item in items])
        for item in items:
            shots = demonstrations.get(item.sample, ())
            keys = self._cache_keys(item.sample, shots)
            cached = {key: self.cache_get(key) for key in keys}
            future = self._pool.submit(self._ask, item.sample, keys, cached, shots)
            self._running[future] = (item, time.monotonic())

    def poll(self) -> list[Answer]:
        now = time.monotonic()
        decided = False
        for future, (item, started) in list(self._running.items()):
            if future.done():
                del self._running[future]
                votes = future.result()
                for key, raw in votes.fresh.items():
                    self.cache_put(key, raw)
                self._count(votes)
                self._decide(item, votes.votes)
                decided = True
            elif now - started > self.settings.deadline:
                del self._running[future]  # its thread finishes on its own; the answer is no longer wanted
                self._failure("deadline", f"no answer within {self.settings.deadline:g} s")
                self._decide(item, [None])
                decided = True
        if decided and self._journal is not None:
            self.accounting.save(self._journal)
        if self.fallback is not None:
            self._ready.extend(self.fallback.poll())
        ready, self._ready = self._ready, []
        return ready

    @property
    def batch_closed(self) -> bool:
        return self.fallback is None or self.fallback.batch_closed

    @property
    def defers_to_later(self) -> bool:
        return self.fallback is not None and self.fallback.defers_to_later

    def awaiting_human(self) -> list[int]:
        return self.fallback.awaiting_human() if self.fallback is not None else []

    def votes(self, sample: int) -> list[str | None]:
        return self.flagged_votes.get(sample, [])

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict:
        return self.accounting.stats(self.settings.price_input, self.settings.price_output)

    # -- demonstrations (on the loop's thread) ----------------------------------------------------
    def _demonstrations(self, samples: list[int]) -> dict[int, Shots]:
        """For each sample, `few_shot` labeled examples: random (seeded per sample) or the most
        similar by cosine on the model's trunk features. Deterministic, so a resumed run builds
        the same prompts and finds them in the cache."""
        wanted = self.settings.few_shot
        if not wanted or not samples:
            return {}
        labels = self._labeled
        trusted = np.array(sorted(s for s, (_, source) in labels.items() if source not in UNTRUSTED_SOURCES),
                           dtype=np.int64)
        if not len(trusted):
            return {}
        wanted = min(wanted, len(trusted))
        if self.settings.few_shot_selection == "similar" and self._features is not None:
            features = np.asarray(self._features(np.concatenate([np.asarray(samples, dtype=np.int64), trusted])),
                                  dtype=np.float64)
            features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
            similarity = features[:len(samples)] @ features[len(samples):].T
            chosen = {s: trusted[np.argsort(-similarity[i], kind="stable")[:wanted]] for i, s in enumerate(samples)}
        else:
            chosen = {s: np.random.default_rng([self._seed, s]).choice(trusted, wanted, replace=False)
                      for s in samples}
        return {s: tuple((int(d), self.classes[labels[int(d)][0]]) for d in picked) for s, picked in chosen.items()}

    # -- deciding -------------------------------------------------------------------------------
    def _decide(self, item: QueryItem, votes: list[str | None]) -> None:
        if votes and all(v is not None for v in votes) and len(set(votes)) == 1:
            label = self.classes.index(votes[0])
            self.accounting.decide(item.sample, True, label == item.true_label)
            self._ready.append(Answer(item.sample, label, self.source))
            return
        self.accounting.decide(item.sample, False, False)
        self.flagged_votes[item.sample] = votes
        if self.fallback is not None:
            self.fallback.request([item])

    def _count(self, votes: _Votes) -> None:
        self.accounting.requests += votes.requests
        self.accounting.tokens_in += votes.usage[0]
        self.accounting.tokens_out += votes.usage[1]

    # -- asking (on the pool's threads) ---------------------------------------------------------
    def _image_hash(self, sample: int) -> str:
        return hashlib.sha256(np.ascontiguousarray(self.images[sample]).tobytes()).hexdigest()[:16]

    def _cache_keys(self, sample: int, shots: Shots = ()) -> list[str]:
        """One key per answer asked for: model, prompt, image, temperature and answer index."""
        prompt = SYSTEM_PROMPT + "|" + ",".join(self.classes)
        if shots:  # the demonstrations are part of the prompt
            prompt += "|" + ",".join(f"{self._image_hash(d)}={label}" for d, label in shots)
        prefix = f"{self.settings.model}|{hashlib.sha256(prompt.encode()).hexdigest()[:16]}|{self._image_hash(sample)}"
        return [f"{prefix}|t={self._temperature(index):g}|s={index}" for index in range(self.settings.samples)]

    def _temperature(self, index: int) -> float:
        temperatures = self.settings.temperatures
        return temperatures[index % len(temperatures)]

    def _messages(self, sample: int, shots: Shots) -> list[dict]:
        """System prompt, then each demonstration as a question the assistant answered, then the question."""
        def question(index: int) -> dict:
            return {"role": "user", "content": [
                {"type": "text", "text": f"Allowed classes: {', '.join(self.classes)}. Which one is shown?"},
                {"type": "image_url", "image_url": {"url": image_data_url(self.images[index]), "detail": "low"}},
            ]}

        messages = [{"role": "system", "content": SYSTEM_PROMPT}]
        for demo, label in shots:
            messages += [question(demo), {"role": "assistant", "content": json.dumps({"label": label})}]
        return messages + [question(sample)]

    def _ask(self, sample: int, keys: list[str], cached: dict[str, str | None], shots: Shots = ()) -> _Votes:
        result = _Votes(sample, [None] * len(keys))
        messages = self._messages(sample, shots)
        missing: dict[float, list[int]] = {}  # temperature -> sample indices still to ask
        for index, key in enumerate(keys):
            if cached.get(key) is not None:
                result.votes[index] = parse_label(cached[key], self.classes)
            else:
                missing.setdefault(self._temperature(index), []).append(index)
        for temperature, indices in missing.items():
            # One request with n answers where the endpoint honours n; separate requests for the rest.
            answers = self._call(messages, temperature, result, n=len(indices) if self._use_n else 1)
            if 1 < len(indices) and 0 < len(answers) < len(indices):
                self._use_n = False
            while answers and len(answers) < len(indices):
                more = self._call(messages, temperature, result, n=1)
                if not more:
                    break
                answers += more
            for index, raw in zip(indices, answers):
                result.fresh[keys[index]] = raw
                result.votes[index] = parse_label(raw, self.classes)
        return result

    def _call(self, messages: list[dict], temperature: float, result: _Votes, n: int = 1) -> list[str]:
        """The answers' texts; an empty list when the request failed."""
        import openai

        options = dict(model=self.settings.model, messages=messages, temperature=temperature, max_tokens=20)
        if n > 1:
            options["n"] = n
        if self._json_schema:
            options["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "label", "strict": True, "schema": {
                    "type": "object", "properties": {"label": {"type": "string", "enum": self.classes}},
                    "required": ["label"], "additionalProperties": False}}}
        try:
            result.requests += 1
            response = self.client.chat.completions.create(**options)
        except openai.BadRequestError as err:
            if "response_format" in options and "response_format" in str(err):
                self._json_schema = False  # tolerant parsing from now on (other threads may have seen it too)
                return self._call(messages, temperature, result, n)
            if "n" in options and "'n'" in str(err):
                self._use_n = False  # an endpoint that rejects n outright
                return self._call(messages, temperature, result, 1)
            return self._failure("bad request", err)
        except openai.APITimeoutError as err:
            return self._failure("timeout", err)
        except openai.RateLimitError as err:
            return self._failure("rate limited (429) after retries", err)
        except openai.APIConnectionError as err:
            return self._failure("connection failed", err)
        except openai.APIStatusError as err:
            return self._failure(f"HTTP {err.status_code}", err)
        except (openai.APIError, ValueError) as err:  # malformed JSON bodies among them
            return self._failure("malformed response", err)
        if response.usage is not None:
            result.usage = (result.usage[0] + (response.usage.prompt_tokens or 0),
                            result.usage[1] + (response.usage.completion_tokens or 0))
        if not response.choices:
            return self._failure("empty choices", "the response had no choices")
        return [choice.message.content or "" for choice in response.choices[:n]]

    def _failure(self, kind: str, detail) -> list[str]:
        """One log line per kind of failure, however often it happens; no answers."""
        if kind not in self._logged_failures:
            self._logged_failures.add(kind)
            log.warning("LLM annotator: %s (%s); the sample goes to a human", kind, str(detail).splitlines()[0][:200])
        return []


KEYRING_SERVICE = "alstudio"


def _keyring_account(base_url: str) -> str:
    return base_url or "openai"


def api_key(base_url: str, api_key_env: str) -> str | None:
    """The key from the environment variable, else from the OS keyring (stored per endpoint)."""
    key = os.environ.get(api_key_env)
    if key:
        return key
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, _keyring_account(base_url))
    except Exception:  # no keyring backend on this machine: the environment is the only source
        return None


def store_api_key(base_url: str, key: str) -> None:
    """Into the OS keyring, never into a file of ours; one clear sentence when there is no keyring."""
    from ..errors import UserInputError

    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, _keyring_account(base_url), key)
    except Exception as err:
        raise UserInputError(f"the key could not be stored: this machine has no usable OS keyring "
                             f"({err.__class__.__name__}); set the key variable in the environment instead") from None


def check_connection(base_url: str, api_key_env: str, timeout: float = 10.0) -> tuple[float, list[str]]:
    """Round-trip time in seconds and the model names an endpoint lists; one clear sentence otherwise."""
    import openai

    from ..errors import UserInputError

    where = base_url or "the default OpenAI endpoint"
    client = openai.OpenAI(base_url=base_url or None, api_key=api_key(base_url, api_key_env) or "no-key",
                           timeout=timeout, max_retries=0)
    started = time.perf_counter()
    try:
        models = sorted(model.id for model in client.models.list())
    except openai.AuthenticationError:
        raise UserInputError(f"{where} refused the key in ${api_key_env}") from None
    except openai.APITimeoutError:
        raise UserInputError(f"{where} did not answer within {timeout:g} s") from None
    except openai.APIConnectionError:
        raise UserInputError(f"cannot connect to {where}; is the server running and the URL right?") from None
    except openai.APIStatusError as err:
        raise UserInputError(f"{where} answered HTTP {err.status_code} to the model list") from None
    except (openai.APIError, ValueError):
        raise UserInputError(f"{where} did not answer like an OpenAI-compatible server") from None
    return time.perf_counter() - started, models
