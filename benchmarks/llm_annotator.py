"""How fast the LLM annotator labels a queried batch against an endpoint with a given latency.

    .venv/bin/python benchmarks/llm_annotator.py [--images 48] [--latency 0.25]

A local OpenAI-compatible server (the tests' stub, on 127.0.0.1) answers every request after
`--latency` seconds, with `n` choices where the request asks for them (like vLLM or OpenAI) or one
choice whatever it asks (like Ollama or llama.cpp). The annotator asks 3 answers per image, at 3
temperatures (the default: one request each) or all at 0.7 (one request with n = 3 where the
endpoint honours n). Timed: from `request` until every image is decided; then the same batch
again, as a resumed run would ask it: answered from the journal's cache. Prints a markdown table
for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from openai_stub import Reply, StubServer  # noqa: E402


def endpoint(latency: float, honours_n: bool):
    def scenario(request: dict, index: int) -> Reply:
        n = request.get("n") or 1
        return Reply(delay=latency, contents=['{"label": "a"}'] * (n if honours_n else 1))
    return scenario


def label_batch(config, dataset, journal, items) -> tuple[float, int]:
    from alstudio.engine.annotators import SimulatedHumanAnnotator, build_annotator

    annotator = build_annotator(config, journal.seed, flagged_to=SimulatedHumanAnnotator())
    annotator.attach(journal, dataset)
    started = time.perf_counter()
    annotator.request(items)
    answered = 0
    while answered < len(items):
        answered += len(annotator.poll())
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    annotator.close()
    return seconds, annotator.stats()["llm_requests"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--latency", type=float, default=0.25, help="seconds per request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()

    from alstudio.engine import config as configs
    from alstudio.engine.annotators import QueryItem
    from alstudio.engine.data import generate_dataset
    from alstudio.engine.journal import Journal
    from alstudio.engine.loop import new_run_fingerprint

    base = {"dataset": {"pool_size": max(200, args.images), "test_size": 20},
            "active": {"initial_labels": 10, "query_size": 10, "cycles": 1}}
    dataset = generate_dataset(configs.validate(base).dataset, workers=1)
    items = [QueryItem(s, int(dataset.pool.classes[s]), int(dataset.pool.groups[s]), 0.0) for s in range(args.images)]
    print(f"{args.images} images x 3 answers, {1000 * args.latency:.0f} ms per request; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| temperatures | endpoint | max_concurrency | requests | seconds | images/s | resumed: seconds | "
          "resumed: requests |")
    print("|---|---|---|---|---|---|---|---|")
    conditions = [([0.0, 0.7, 1.0], True), ([0.7], True), ([0.7], False)]
    with tempfile.TemporaryDirectory() as tmp:
        for temperatures, honours_n in conditions:
            for concurrency in args.concurrency:
                with StubServer(endpoint(args.latency, honours_n)) as server:
                    data = dict(base, annotator={"kind": "llm", "base_url": server.base_url, "model": "bench",
                                                 "max_concurrency": concurrency, "temperatures": temperatures})
                    config = configs.validate(data)
                    path = Path(tmp) / f"{len(temperatures)}-{honours_n}-{concurrency}.sqlite"
                    with Journal.create(path, config, "random", 1, new_run_fingerprint(config, 1)) as journal:
                        seconds, requests = label_batch(config, dataset, journal, items)
                        again, again_requests = label_batch(config, dataset, journal, items)
                kind = "honours n" if honours_n else "ignores n"
                shown = ", ".join(f"{t:g}" for t in temperatures)
                print(f"| {shown} | {kind} | {concurrency} | {requests} | {seconds:.2f} | "
                      f"{args.images / seconds:.1f} | {again:.3f} | {again_requests - requests} |", flush=True)


if __name__ == "__main__":
    main()
