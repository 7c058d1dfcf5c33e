"""What an LLM annotator did: requests, tokens, accepted and flagged answers, agreement with the truth.

Kept in the run's journal after every change, so a resumed run goes on counting where the
interrupted one stopped instead of starting again from zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

STATE_NAME = "llm_accounting"


@dataclass
class Accounting:
    requests: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    accepted: int = 0
    flagged: int = 0
    agreed_with_truth: int = 0  # of the accepted answers, when the truth is known
    decided: set[int] = field(default_factory=set)  # of the batch being asked, the samples already counted

    def new_batch(self, samples) -> None:
        """Only the batch being asked can be decided again (by a resumed run): forget the rest, so the
        journalled state stays the size of a batch however long the run."""
        self.decided &= {int(s) for s in samples}

    def decide(self, sample: int, accepted: bool, agrees_with_truth: bool) -> None:
        if sample in self.decided:
            return
        self.decided.add(sample)
        if accepted:
            self.accepted += 1
            self.agreed_with_truth += int(agrees_with_truth)
        else:
            self.flagged += 1

    def cost(self, price_input: float, price_output: float) -> float:
        """USD, from prices per million tokens."""
        return (self.tokens_in * price_input + self.tokens_out * price_output) / 1e6

    def stats(self, price_input: float = 0.0, price_output: float = 0.0) -> dict:
        return {"llm_requests": self.requests, "llm_tokens_in": self.tokens_in, "llm_tokens_out": self.tokens_out,
                "llm_cost_usd": self.cost(price_input, price_output),
                "llm_accepted": self.accepted, "flagged": self.flagged,
                "llm_accuracy": self.agreed_with_truth / self.accepted if self.accepted else float("nan")}

    @classmethod
    def restore(cls, journal) -> Accounting:
        saved = journal.get_state(STATE_NAME) or {}
        counters = {f.name for f in fields(cls)} - {"decided"}
        restored = cls(**{key: int(value) for key, value in saved.items() if key in counters})
        restored.decided = {int(s) for s in saved.get("decided", [])}
        return restored

    def save(self, journal) -> None:
        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["decided"] = sorted(self.decided)
        journal.set_state(STATE_NAME, state)
