"""Tune how readily an adapter refuses, on flows it was not trained on.

Refusing is one of the outline call's answers, decided by its first token: `REF…` or
the `T` of a trigger line. A small model trained on few refusals puts too little weight
on that token, and greedy decoding then never refuses. For each case we read the
first-token log-probabilities once and keep the margin

    margin = log p(refusal's first token) − log p(best other first token)

so a logit bias b on the refusal token refuses exactly the cases with margin + b > 0.
b is chosen on legitimate requests the adapter never saw so that at most `max_false`
of them would be refused; the refusal cases of the same split (and of dev) then show
how many harmful or out-of-scope requests that bias catches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flowgen.engine.base import GenerationRequest
from flowgen.engine.decoding import ConstrainedDecoder
from flowgen.graph.flow_graph import outline_prompt
from flowgen.prompts.line_format import REFUSE
from flowgen.tools.catalog_tools import CatalogTools
from flowgen.training.cases import Case


@dataclass
class Margin:
    case_id: str
    split: str | None  # a case file need not give one
    refusal: bool  # the gold answer is a refusal
    margin: float


def refusal_margins(
    engine: ConstrainedDecoder,  # either in-process runtime: margins need the logits
    adapter: str | None,
    cases: Iterable[Case],
    tools_for: Callable[[str], CatalogTools],
    on_case: Callable[[Case], None] | None = None,
) -> list[Margin]:
    refuse_token = engine.tokenize(REFUSE)[0]
    margins = []
    for case in cases:
        messages, grammar, _ = outline_prompt(tools_for(case.installation), case.requirement)
        request = GenerationRequest(messages=messages, grammar=grammar, adapter=adapter)
        top = engine.first_token_logprobs(request, top=2, also=(refuse_token,))
        refuse = top.pop(refuse_token)
        best_other = max(top.values())
        margins.append(Margin(case.id, case.split, case.flow is None, refuse - best_other))
        if on_case:
            on_case(case)
    return margins


def choose_bias(margins: list[Margin], max_false: float) -> float:
    """The largest bias that refuses at most `max_false` of the legitimate requests."""
    flows = sorted((m.margin for m in margins if not m.refusal), reverse=True)
    if not flows:
        raise ValueError("no legitimate requests to tune the refusal bias on")
    allowed = math.floor(max_false * len(flows))
    # Refused: margin + b > 0. Keep the (allowed+1)-th highest flow margin at or below -b.
    threshold = flows[allowed] if allowed < len(flows) else -math.inf
    return max(0.0, -threshold - 1e-3)


def refused_share(margins: list[Margin], bias: float, refusal: bool) -> float:
    chosen = [m for m in margins if m.refusal == refusal]
    return sum(m.margin + bias > 0 for m in chosen) / len(chosen) if chosen else 0.0
