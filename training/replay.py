"""An engine that answers each graph call with a case's gold answer (teacher forcing).

It tells whether the gold flow is reachable at all: each answer is checked against the
grammar the graph built for that call from retrieval, so a gold step that retrieval did
not offer, or a gold value the grammar does not admit, shows up as a rejection instead
of a silent miss. Training uses it to check its targets; tests use it to drive the graph
along a known path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowgen.engine.base import GenerationRequest, GenerationResult, Timings, Usage
from flowgen.flow.model import Flow
from flowgen.prompts.line_format import inputs_lines, outline_lines
from flowgen.prompts.populate_inputs import ITEM_HEAD


@dataclass
class Rejection:
    item: str  # "outline", "trigger" or "step N"
    answer: str


@dataclass
class ReplayEngine:
    """Replies with `flow` (or a refusal when `flow` is None) in the line format."""

    flow: Flow | None
    refusal: str = "this is not a workflow request"
    check_grammar: bool = True
    rejections: list[Rejection] = field(default_factory=list)
    requests: list[GenerationRequest] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    model_name: str = "replay"
    # Adapter names to report as served (answers do not depend on them).
    served_adapters: list[str] = field(default_factory=list)

    def adapters(self) -> list[str]:
        return list(self.served_adapters)

    def tokenize(self, text: str) -> list[int]:
        return []  # no vocabulary: logit biases do not apply to replayed answers

    def answer(self, request: GenerationRequest) -> tuple[str, str]:
        # The item is named in the last user turn (earlier turns are other items').
        users = [m.content for m in request.messages or [] if m.role == "user"]
        match = ITEM_HEAD.search(users[-1] if users else request.prompt or "")
        if match is None:
            return "outline", outline_lines(self.flow, self.refusal)
        assert self.flow is not None
        if match.group(1) is None:
            return "trigger", inputs_lines(self.flow.trigger.inputs if self.flow.trigger else [])
        comp = self.flow.component(int(match.group(1)))
        return f"step {match.group(1)}", inputs_lines(comp.inputs if comp else [])

    def generate(self, request: GenerationRequest) -> GenerationResult:
        self.requests.append(request)
        item, text = self.answer(request)
        self.answers.append(text)
        if self.check_grammar and request.grammar and not _accepts(request.grammar, text):
            self.rejections.append(Rejection(item, text))
        return GenerationResult(
            text=text,
            finish_reason="stop",
            usage=Usage(prompt_tokens=0, completion_tokens=0),
            timings=Timings(first_token_s=0.0, total_s=0.0),
            model=self.model_name,
        )


def _accepts(grammar: str, text: str) -> bool:
    import xgrammar as xgr

    compiled = xgr.Grammar.from_ebnf(grammar)
    from xgrammar.testing import _is_grammar_accept_string

    return bool(_is_grammar_accept_string(compiled, text))
