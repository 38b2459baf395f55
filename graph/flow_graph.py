"""The generator as a LangGraph state machine.

    START → guard → outline ─┬─ refused ──────────────────────────────→ finish → END
                             └→ inputs ⟲ (one item a pass) → validate ─┬─ ok / out of rounds
                                  ↑                                     ├─ outline problems
                                  └──────────── input problems ─────────┘   → outline

guard scores the requirement with the refusal guard (graph/guard.py); when it refuses,
the outline call may only write the refusal line, so the model words the reason.

outline (createFlow) retrieves trigger and step suggestions and asks the model for the
outline, or a refusal (the guard: refusing is one of the outline's possible answers).
inputs (populateInputs) fills one item per pass, the trigger first, then each step that
takes inputs, in order, so each can use the data pills of those before it. validate runs
the foundation validator against the installation and sends each problem back to the node
that owns it, with its message in the prompt, at most `max_rounds` times.

Where a node goes next is decided by the routing function after it (`after_outline`,
`after_inputs`, `after_validate`), from what the node wrote to the state.

Everything a node decides is in the state, which holds only JSON values so that Postgres
checkpoints store it and a resumed run builds the same prompts. The run context holds
what is not checkpointed: the tools, engine and tracer, and the run's settings; it is
frozen, so no node leaves anything there for a later one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer

from flowgen.db.store import StoredCatalog
from flowgen.engine.base import ChatMessage, Engine, GenerationRequest, GenerationResult
from flowgen.engine.grammar import outline_grammar
from flowgen.flow.catalog import CatalogView, Column, Param
from flowgen.flow.errors import FlowError
from flowgen.flow.flowlogic import FLOW_LOGIC
from flowgen.flow.model import Flow, FlowInput, flow_json
from flowgen.flow.validator import PillRoot, pill_roots, validate_flow
from flowgen.graph.absent_fields import absent_pill_condition, add_absent_fields
from flowgen.graph.approval_outcome import approval_outcome
from flowgen.graph.asked_logic import asked_names
from flowgen.graph.catalog_item import add_catalog_item
from flowgen.graph.check_outcome import check_outcome
from flowgen.graph.choice_grounding import (
    ColumnsOf,
    QueryRule,
    add_step_settings,
    ground_choices,
    ground_step_fields,
    ground_step_query,
    ground_trigger_condition,
    with_input,
)
from flowgen.graph.close_verb import add_closed_state
from flowgen.graph.coverage import (
    DEFAULT_COVERAGE,
    Coverage,
    CoverageRule,
    MissingSteps,
    long_requirement,
)
from flowgen.graph.either_choice import add_either_choice
from flowgen.graph.guard import RefusalGuard
from flowgen.graph.if_polarity import CONDITION_LOGIC, boolean_emptiness, settle_if_polarity
from flowgen.graph.if_threshold import threshold_condition
from flowgen.graph.input_examples import closest_item_inputs
from flowgen.graph.journal_note import lacks_note, note_grammar, with_note
from flowgen.graph.labeled_choice import set_labeled_choices
from flowgen.graph.named_address import send_to_named_address
from flowgen.graph.named_assignee import ASSIGNING_STEPS, assign_named
from flowgen.graph.named_group import look_up_named_group
from flowgen.graph.named_recipient import RECIPIENTS, send_to_named_recipient
from flowgen.graph.open_records import add_open_active
from flowgen.graph.outline_repair import (
    LIST_TYPES,
    ends_in_a_loop,
    has_list_to_loop,
    repair_outline,
    without_repeated_block,
)
from flowgen.graph.ranked_choice import set_ranked_choices
from flowgen.graph.re_reads import by_number, re_read_table, re_read_test
from flowgen.graph.reference_pills import settle_reference_pills
from flowgen.graph.referenced_settings import add_referenced_settings
from flowgen.graph.relative_dates import add_relative_date
from flowgen.graph.repeated_terms import drop_repeated_terms
from flowgen.graph.retrieval import (
    LOOK_UPS,
    InputsOffer,
    InputsRetriever,
    OutlineOffer,
    RetrievalCache,
    declared_inputs,
    outline_offer,
)
from flowgen.graph.schedule_inputs import schedule_inputs
from flowgen.graph.scope_refusal import a_question, one_question, overrules_refusal
from flowgen.graph.scoped_record import add_scoped_record
from flowgen.graph.tracing import RunTracer, TracedTools
from flowgen.graph.trigger_condition import settle_change_operators
from flowgen.graph.trigger_event import add_change_event
from flowgen.graph.trigger_resample import TRIGGER_SAMPLES, chosen_sample, names_nothing
from flowgen.graph.trigger_threshold import threshold_trigger
from flowgen.graph.unnamed_step_terms import drop_unnamed_conditions, drop_unnamed_values
from flowgen.graph.unnamed_terms import drop_unnamed_trigger_terms, unnamed_change_values
from flowgen.prompts.create_flow import create_flow_messages
from flowgen.prompts.line_format import LineFormatError, parse_inputs, parse_outline
from flowgen.prompts.populate_inputs import ItemTurn, inputs_conversation, item_turn
from flowgen.settings import get_settings
from flowgen.tools.catalog_tools import CatalogTools, Tools
from flowgen.tools.example_index import SolvedCase

OUTLINE_MAX_TOKENS = 320
# Consensus decoding: how far sampled outlines stray from the greedy one. Low enough that
# most samples stay plausible, high enough that they differ where the model is unsure.
CONSENSUS_TEMPERATURE = 0.7
INPUTS_MAX_TOKENS = 256
# The longest conversation an inputs call sends: 2,048 KV cells less the answer and the
# chat template's tokens, though the embedded engine's context holds 4,096. llama.cpp
# stores values transposed (without flash attention), one 8 KB row of 4,096 cells per
# layer and dimension, so a conversation that reaches cell 2,048 makes the second page of
# all 5,760 rows resident at once: 22.5 MB more for the rest of the process (measured:
# 711 → 734 MB between 2,001 and 2,041 tokens; docs/engine.md, "Memory"). No dev 100
# conversation comes near; a long flow's later items start a new conversation instead.
# The cap holds for every engine (a remote one has no such pages), so a flow is asked
# the same way whichever engine serves it.
KV_CELLS_KEPT = 2048
CONVERSATION_TOKENS = KV_CELLS_KEPT - INPUTS_MAX_TOKENS - 32
# Steps whose query gets the settings its annotation names (`add_named_settings`): a
# look-up's conditions and the values a new record gets. Replayed over dev's stored flows
# both came closer to gold (dev 100 3 closer / 2 further, long dev 5 / 1) and change 1
# of the gold flows' queries; update_record's values changed 10 gold flows ("put it in
# the Billing queue" names a team, not the category) and update_multiple_records' span
# names its filter and its values at once: neither is grounded so.
NAMED_STEP_INPUTS = {
    "look_up_records": "conditions",
    "look_up_record": "conditions",
    "create_record": "values",
}
# The step input whose terms on unnamed columns move to the column the words name
# (`ground_step_fields`).
GROUNDED_STEP_FIELDS = {"update_record": "values"}
# A value's numbered choice takes the place of a term the words never name.
_RANKED_VALUES: QueryRule = partial(set_ranked_choices, replace_unnamed=True)
# The rules a step's values go through after the model, with their trace keys: the
# choice a number names ("raise it to priority 1") or a label after "to" ("set the stage
# to equipment"), the state closing sets, and none the words never name.
VALUE_RULES: dict[str, list[tuple[str, QueryRule]]] = {
    "update_record": [
        ("ranked_choice", _RANKED_VALUES),
        ("labeled_choice", set_labeled_choices),
        ("close_verb", add_closed_state),
        ("unnamed_values", drop_unnamed_values),
    ],
    "create_record": [("ranked_choice", _RANKED_VALUES), ("labeled_choice", set_labeled_choices)],
    "update_multiple_records": [("close_verb", add_closed_state)],
}
# Steps that update or delete every record their conditions match: "close every
# security incident not updated in 14 days" dates its records as a look-up does.
BULK_STEPS = frozenset({"update_multiple_records", "delete_multiple_records"})
BULK_RULES: list[tuple[str, QueryRule]] = [("relative_dates", add_relative_date)]
# Errors whose fix is a different outline rather than different inputs.
OUTLINE_CODES = {"unknown_trigger", "unknown_step", "wrong_category", "wrong_scope"}

Status = Literal["running", "ok", "invalid", "refused"]


class FlowState(TypedDict, total=False):
    run_id: str
    installation: str
    requirement: str
    outline_text: str | None
    refusal: str | None
    flagged: bool  # the guard flagged the requirement: the outline call may refuse it
    certain: bool  # the guard is sure: the outline call must refuse it
    flow: dict[str, Any] | None
    pending: list[int]  # items still to fill: 0 is the trigger, then step orders
    feedback: dict[str, list[str]]  # "outline" or an item's order → validator messages
    errors: list[dict[str, Any]]
    rounds: int
    status: Status  # set when the run ends (`finish` is next)
    # The solved flows shown as examples ({name, requirement, flow}), retrieved once by
    # the first outline call so that retries and resumed runs show the same ones.
    examples: list[dict[str, Any]]
    # The inputs of the items of the nearest solved flows (`search_solved_flows`), from
    # which each inputs turn shows one: retrieved with `examples`, kept with them.
    input_examples: list[dict[str, Any]]
    # Steps offered to the outline besides those retrieved (the perfect-RAG ablation
    # offers the gold steps): part of the run's input, so a resumed run offers them too.
    extra_steps: list[str]
    # The inputs calls are one conversation (prompts/populate_inputs.py): each filled
    # item's turn by order, so a retried or resumed call rebuilds the same conversation.
    turns: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class ExampleRetrieval:
    """Which solved flows each prompt shows: the `k` nearest to the requirement, from the
    installation's own and the shared library (k = 0: none). Training leaves a case and
    its near-copies out of its own prompt (`exclude`, `exclude_above`) and sometimes
    shows unhelpful ones, found for another requirement (`query`)."""

    k: int = 3
    exclude: tuple[str, ...] = ()
    exclude_above: float | None = None
    query: str | None = None
    # For a long requirement (graph/coverage.py, `long_requirement`): more solved flows,
    # since one flow rarely shows every part of many (None: k).
    k_long: int | None = None

    def k_for(self, requirement: str) -> int:
        if self.k_long is None or self.k_long == self.k:
            return self.k
        return self.k_long if long_requirement(requirement) else self.k


@dataclass(frozen=True)
class RunContext:
    """The services a run's nodes use, which checkpoints do not store: the catalog tools,
    the engine, the tracer and the run's settings. Frozen: what a node decides goes into
    `FlowState`, so a resumed run knows it too."""

    tools: CatalogTools
    engine: Engine
    tracer: RunTracer
    # The installation's catalog view, taken when the run starts: its nodes share its
    # cached lookups (tables, columns, definitions) without checking the revision again,
    # and what the run has read stays as it read it if a sync lands meanwhile.
    catalog: StoredCatalog
    adapter: str | None = None
    max_rounds: int = 2
    # Outlines sampled besides the greedy one; the one closest to all the others (mean
    # FlowSim, minimum Bayes risk) is kept. 0: greedy only.
    consensus: int = 0
    # The first outline call's logit bias on the refusal's first token (tuned per adapter
    # on held-out flows, training/refusal_bias.py); empty for an untuned model.
    refusal_logit_bias: dict[int, float] = field(default_factory=dict)
    guard: RefusalGuard | None = None
    on_model_call: Callable[[GenerationResult], None] | None = None
    examples: ExampleRetrieval = field(default_factory=lambda: ExampleRetrieval())
    # Guidelines in the prompts, for a model not fine-tuned on them (prompted baselines).
    instructions: bool = False
    # The coverage rule (graph/coverage.py): an outline may not end while an action
    # clause of the requirement has no step ("long": on requirements with many).
    # In-process engines only.
    coverage: Coverage = DEFAULT_COVERAGE
    # Choice values the item's annotation contradicts replaced by the one it names
    # (graph/choice_grounding.py).
    ground_choices: bool = True
    # Answers sampled for a record trigger whose greedy condition names nothing its words
    # say (graph/trigger_resample.py); 0: greedy only.
    trigger_samples: int = TRIGGER_SAMPLES
    # A core step whose span names an offered step better becomes that step
    # (graph/named_steps.py).
    name_steps: bool = True
    # The outline may name core steps and only the spoke or custom steps its prompt shows
    # (offered or in an example).
    shown_steps_only: bool = True
    # Step lines an outline may write again on the same words before one ends it
    # (`FLOWGEN_OUTLINE_REPEATS`).
    outline_repeats: int = field(default_factory=lambda: get_settings().outline_repeats)
    # Times an outline's repeated step line is written again from its least certain
    # token before one ends the outline (`FLOWGEN_OUTLINE_REDOS`). In-process engines only.
    outline_redos: int = field(default_factory=lambda: get_settings().outline_redos)
    # Annotations already embedded, remembered across the inputs nodes: a cache, whose
    # contents change no prompt.
    retrieval_cache: RetrievalCache = field(default_factory=RetrievalCache)

    def tools_at(self, node: str) -> TracedTools:
        """The tools as `node` calls them: each call is traced under it."""
        return TracedTools(self.tools, self.tracer, node, self.catalog)

    def generate(
        self,
        node: str,
        messages: list[ChatMessage],
        grammar: str,
        max_tokens: int,
        logit_bias: dict[int, float] | None = None,
        seed: int | None = None,
        may_end: Callable[[str], bool] | None = None,
        ends_after_line: Callable[[str], bool] | None = None,
        redo_lines: int = 0,
        may_redo: Callable[[str], bool] | None = None,
    ) -> GenerationResult:
        """One model call, traced. With `seed`, a sample instead of the greedy answer."""
        request = GenerationRequest(
            messages=messages,
            grammar=grammar,
            adapter=self.adapter,
            max_tokens=max_tokens,
            logit_bias=logit_bias or {},
            temperature=CONSENSUS_TEMPERATURE if seed is not None else 0.0,
            seed=seed,
            may_end=may_end,
            ends_after_line=ends_after_line,
            redo_lines=redo_lines,
            may_redo=may_redo,
        )
        with self.tracer.span(
            "model",
            self.engine.model_name,
            node=node,
            adapter=self.adapter,
            prompt=[m.model_dump() for m in messages],
            logit_bias=request.logit_bias,
            grammar_chars=len(grammar),
        ) as out:
            result = self.engine.generate(request)
            out.update(
                text=result.text,
                finish_reason=result.finish_reason,
                usage=result.usage.model_dump(),
                timings=result.timings.model_dump(),
            )
        if self.on_model_call:
            self.on_model_call(result)
        return result


def flow_title(requirement: str) -> str:
    first = re.split(r"[.;\n]", requirement.strip(), maxsplit=1)[0]
    words = first.split()
    title = " ".join(words[:10])
    return title[:1].upper() + title[1:] if title else "Generated flow"


def _emit(event: dict[str, Any]) -> None:
    get_stream_writer()(event)  # a no-op unless the caller streams "custom" events


def outline_prompt(
    tools: Tools,
    requirement: str,
    extra_steps: list[str] | None = None,
    feedback: list[str] | None = None,
    examples: list[SolvedCase] | None = None,
    instructions: bool = False,
    may_refuse: bool = True,
    must_refuse: bool = False,
    shown_steps_only: bool = True,
    offered: OutlineOffer | None = None,
) -> tuple[list[ChatMessage], str, list[dict[str, Any]]]:
    """The createFlow messages, the grammar of their answer and the steps offered.
    `may_refuse`: the model may choose to refuse; `must_refuse`: it may only refuse (and
    word the reason). `shown_steps_only`: of the installation's spoke and custom steps,
    the grammar admits only those the prompt shows (offered, or in an example's outline);
    the platform's core steps (scope global) always; otherwise any step. `offered`: what
    retrieval found for this requirement already (searched here when None)."""
    offered = offered or outline_offer(tools, requirement, extra_steps)
    examples = examples or []
    steps = offered.all_steps
    if shown_steps_only:
        # A spoke or custom step neither offered nor in an example is a name the model
        # remembers from other installations' training flows (`assign_okta_application`
        # for "assign them to their manager"); core steps stay, since retrieval may rank
        # `send_email` low for a requirement that plainly asks for an email (docs/graph.md).
        admitted = {s["name"] for s in offered.steps} | set(offered.core_steps)
        admitted |= {c.definition for e in examples if e.flow for c in e.flow.components}
        steps = [name for name in offered.all_steps if name in admitted]
    # Whether to refuse is decided once: a second outline, written to fix the
    # validator's complaints, must be a flow (v1 read the complaint as a reason).
    grammar = outline_grammar(
        [offered.named_trigger] if offered.named_trigger else offered.all_triggers,
        steps,
        # PARALLEL and TRY only where the words ask for them (graph/asked_logic.py)
        asked_names(requirement, offered.flow_logic),
        requirement=requirement,
        allow_refusal=feedback is None and (may_refuse or must_refuse),
        allow_flow=not (feedback is None and must_refuse),
        tables=offered.all_tables,
        # A requirement that asks for a subflow gets one: adapter v4 wrote a trigger for
        # 9 of test's 10 (every train and dev requirement the cue matches is a subflow).
        subflow_only="ASSIGNSUBFLOWOUTPUTS" in offered.flow_logic,
    )
    triggers = offered.triggers
    if offered.named_trigger:
        # A trigger named in so many words is the only one the grammar admits: the
        # prompt offers it alone (with its label where retrieval found it).
        named = [t for t in triggers if t["name"] == offered.named_trigger]
        triggers = named or [{"name": offered.named_trigger}]
    messages = create_flow_messages(
        requirement,
        triggers,
        offered.steps,
        offered.flow_logic,
        feedback,
        [(e.requirement, e.outline) for e in examples],
        instructions,
    )
    return messages, grammar, offered.steps


# -- nodes and the routing after each --------------------------------------------------------
def guard_node(state: FlowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    requirement = state["requirement"]
    # the installation's trigger names are looked up only for a question's wording
    if one_question(requirement) and a_question(
        requirement, ctx.tools_at("guard").list_names(kind="triggers")
    ):
        # a question asked of the data is refused as the guard's certain refusals are
        # (graph/scope_refusal.py)
        with ctx.tracer.span("node", "guard", node="guard") as out:
            out.update(question=True, refuse=True, certain=True)
        return {"flagged": True, "certain": True}
    guard = ctx.guard
    if guard is None:
        return {"flagged": False}
    with ctx.tracer.span("node", "guard", node="guard") as out:
        score = guard.score(requirement)
        refuse = score > guard.threshold
        certain = guard.is_certain(score)
        out.update(score=round(score, 4), threshold=guard.threshold, refuse=refuse, certain=certain)
    return {"flagged": refuse, "certain": certain}  # the score is in the trace


def outline_node(state: FlowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    tools = ctx.tools_at("outline")
    requirement = state["requirement"]
    feedback = state.get("feedback", {}).get("outline")
    with ctx.tracer.span("node", "outline", node="outline", round=state.get("rounds", 0)) as out:
        shown, pool = state.get("examples"), state.get("input_examples")
        if shown is None:
            shown, pool = retrieve_examples(tools, ctx.examples, requirement)
        offer = outline_offer(tools, requirement, state.get("extra_steps"))
        messages, grammar, offered_steps = outline_prompt(
            tools,
            requirement,
            state.get("extra_steps"),
            feedback,
            _solved(shown),
            instructions=ctx.instructions,
            # With a guard, only what it flags may be refused, and the model decides:
            # the adapters refuse legitimate requests the guard passes far more often
            # than they catch what it misses (adapter v2: test 8 of 162 flows refused for
            # 1 more of 11 refusals), while of what the guard flags they write a flow for
            # the legitimate half and refuse the harmful (docs/graph.md).
            may_refuse=ctx.guard is None or bool(state.get("flagged")),
            must_refuse=bool(state.get("certain")),
            shown_steps_only=ctx.shown_steps_only,
            offered=offer,
        )
        bias = ctx.refusal_logit_bias if feedback is None else None
        rule = CoverageRule.when(ctx.coverage, requirement)
        # A step written again on the same words ends the outline (the repeat itself is
        # dropped below): a loop cost v3 up to 70 s a flow. It also cut 4 of test's 24
        # long outlines that v4 went on to finish after a repeat (docs/results.md).
        # While a clause of the requirement has no step, the line is first written
        # again from its least certain token (`outline_redos`, docs/graph.md).
        repeat = partial(ends_in_a_loop, tolerated=ctx.outline_repeats)

        def ask(
            messages: list[ChatMessage],
            grammar: str,
            bias: dict[int, float] | None,
            seed: int | None = None,
            rule: CoverageRule | None = None,
        ) -> GenerationResult:
            return ctx.generate(
                "outline",
                messages,
                grammar,
                OUTLINE_MAX_TOKENS,
                bias,
                seed,
                rule,
                repeat,
                ctx.outline_redos,
                MissingSteps(requirement),
            )

        result = ask(messages, grammar, bias, rule=rule)
        if rule is not None:
            out["coverage_extensions"] = rule.extensions
        if result.usage.redone_lines:
            out["lines_redone"] = result.usage.redone_lines
        catalog = tools.catalog()
        if ctx.consensus and feedback is None and not state.get("flagged"):
            samples = [
                ask(messages, grammar, bias, seed, CoverageRule.when(ctx.coverage, requirement))
                for seed in range(1, ctx.consensus + 1)
            ]
            chosen, agreement = consensus_choice([result, *samples], catalog, requirement)
            out["consensus"] = {"chosen": chosen, "agreement": agreement}
            result = [result, *samples][chosen]
        text, looped_lines = without_repeated_block(_finished_text(result))
        if looped_lines:
            out["repeated_lines_cut"] = looped_lines
        try:
            parsed = parse_outline(text, catalog, name=flow_title(requirement))
            if (
                parsed.flow is None
                and feedback is None
                and not state.get("certain")
                and overrules_refusal(
                    parsed.refusal, requirement, tools.list_names(kind="triggers")
                )
            ):
                # an out-of-scope reason for a request that names a trigger and an action
                # (graph/scope_refusal.py): the same prompt, no refusal in the grammar
                out["refusal_overruled"] = parsed.refusal
                messages, grammar, offered_steps = outline_prompt(
                    tools,
                    requirement,
                    state.get("extra_steps"),
                    examples=_solved(shown),
                    instructions=ctx.instructions,
                    may_refuse=False,
                    shown_steps_only=ctx.shown_steps_only,
                    offered=offer,
                )
                result = ask(
                    messages, grammar, None, rule=CoverageRule.when(ctx.coverage, requirement)
                )
                text, looped_lines = without_repeated_block(_finished_text(result))
                parsed = parse_outline(text, catalog, name=flow_title(requirement))
        except LineFormatError as exc:
            out["error"] = str(exc)
            error = FlowError(code="unparseable", order=None, path="outline", message=str(exc))
            return {
                "examples": shown,
                "input_examples": pool or [],
                "outline_text": result.text,
                "flow": None,
                "refusal": None,
                "pending": [],
                "errors": [error.model_dump()],
                "status": "invalid",
            }
        if parsed.flow is None:
            out["refusal"] = parsed.refusal
            _emit({"event": "refusal", "reason": parsed.refusal})
            return {
                "examples": shown,
                "input_examples": pool or [],
                "outline_text": result.text,
                "flow": None,
                "refusal": parsed.refusal or "refused",
                "pending": [],
                "status": "refused",
            }
        # A cut copy may leave a block opened in its last line without children.
        whole = result.complete and not looped_lines
        flow = parsed.flow if whole else _drop_unfinished_blocks(parsed.flow)
        flow, changes = repair_outline(
            flow, catalog, offered_steps if ctx.name_steps else None, requirement
        )
        out.update(changes)
        pending = [
            o for o in [0, *(c.order for c in flow.components)] if declared_inputs(catalog, flow, o)
        ]
        outline = flow_json(flow)
        out["outline"] = result.text
        _emit({"event": "outline", "flow": outline})
        return {
            "examples": shown,
            "input_examples": pool or [],
            "outline_text": result.text,
            "turns": {},
            "flow": outline,
            "refusal": None,
            "pending": pending,
        }


def after_outline(state: FlowState) -> Literal["inputs", "validate", "finish"]:
    """No flow (a refusal, or an outline that could not be read) ends the run; otherwise
    the items that take inputs are filled, then the flow is validated."""
    if state.get("flow") is None:
        return "finish"
    return "inputs" if state["pending"] else "validate"


def _condition_rules(
    pills: list[PillRoot], catalog: CatalogView, columns_of: ColumnsOf, look_up: bool
) -> list[tuple[str, QueryRule]]:
    """The rules a record trigger's or a look-up's condition goes through after the
    model, in order, with their trace keys: the emptiness the words name, either of two
    settings, a setting of the record one reference away, for a look-up no setting the
    words never name, the record in scope the words point back at and "open" records,
    and a choice named by its number."""

    def table_words(table: str) -> str:
        about = catalog.table(table)
        return f"{table} {about.label or ''} {about.description or ''}" if about else table

    rules: list[tuple[str, QueryRule]] = [
        ("absent_fields", add_absent_fields),
        (
            "either_choice",
            lambda query, table, _label, annotation, _columns: add_either_choice(
                query, table, annotation, columns_of
            ),
        ),
        (
            "referenced_settings",
            lambda query, table, _label, annotation, _columns: add_referenced_settings(
                query, table, table_words(table), annotation, columns_of
            ),
        ),
    ]
    if look_up:
        rules += [
            ("unnamed_conditions", drop_unnamed_conditions),
            (
                "scoped_record",
                lambda query, table, _label, annotation, _columns: add_scoped_record(
                    query, table, annotation, pills, columns_of
                ),
            ),
            ("open_records", add_open_active),
            ("relative_dates", add_relative_date),
        ]
    return [*rules, ("ranked_choice", set_ranked_choices)]


def _ground_condition(
    inputs: list[FlowInput],
    name: str,
    params: list[Param],
    annotation: str,
    catalog: CatalogView,
    columns_of: Callable[[str], list[Column]],
    rules: list[tuple[str, QueryRule]],
    out: dict[str, Any],
) -> list[FlowInput]:
    """`inputs` with the query input `name` through `rules`, each change traced."""
    for key, rule in rules:
        inputs, changes = ground_step_query(
            inputs, name, params, annotation, catalog, columns_of, rule
        )
        if changes:
            out[key] = changes
    return inputs


def _ground_step_inputs(
    definition: str,
    inputs: list[FlowInput],
    params: list[Param],
    annotation: str,
    retriever: InputsRetriever,
    pills: list[PillRoot],
    out: dict[str, Any],
) -> tuple[list[FlowInput], list[str]]:
    """A step's inputs grounded in its annotation by the rules for its kind of step: the
    settings the words name (`NAMED_STEP_INPUTS`), the field they name
    (`GROUNDED_STEP_FIELDS`), an IF's polarity, a group, an address or a recipient named.
    Returns the inputs and the choices grounded; the other rules' changes go in `out`
    under their trace keys."""
    catalog, columns_of = retriever.catalog, retriever.tools.columns
    grounded: list[str] = []
    if definition in NAMED_STEP_INPUTS:
        inputs, added = add_step_settings(
            inputs, NAMED_STEP_INPUTS[definition], params, annotation, catalog, columns_of
        )
        grounded += added
    if definition in GROUNDED_STEP_FIELDS:
        inputs, moved = ground_step_fields(
            inputs, GROUNDED_STEP_FIELDS[definition], params, annotation, catalog, columns_of
        )
        grounded += moved
    if definition in LOOK_UPS:
        rules = _condition_rules(pills, catalog, columns_of, look_up=True)
        inputs = _ground_condition(
            inputs, "conditions", params, annotation, catalog, columns_of, rules, out
        )
    if definition in BULK_STEPS:
        inputs = _ground_condition(
            inputs, "conditions", params, annotation, catalog, columns_of, BULK_RULES, out
        )
    if definition in VALUE_RULES:
        inputs = _ground_condition(
            inputs, "values", params, annotation, catalog, columns_of, VALUE_RULES[definition], out
        )
    if definition in ASSIGNING_STEPS:
        inputs, assigned = assign_named(definition, inputs, annotation, pills, catalog, columns_of)
        if assigned:
            out["named_assignee"] = assigned
    # the word rule for this kind of step, if any: its trace key and its changes
    key = ""
    changes: list[str] = []
    if definition in CONDITION_LOGIC:
        key = "if_polarity_settled"
        tested = next((i.value for i in inputs if i.name == "condition"), None)
        valued = tested and boolean_emptiness(tested, pills, columns_of)
        if tested and valued:
            inputs = with_input(inputs, "condition", valued)
            out["boolean_emptiness"] = [f"{tested} -> {valued}"]
        inputs, changes = settle_if_polarity(inputs, annotation)
        condition = next((i.value for i in inputs if i.name == "condition"), None)
        emptied = condition and absent_pill_condition(condition, annotation, pills, columns_of)
        if condition and emptied:
            inputs = with_input(inputs, "condition", emptied)
            out["absent_fields"] = [f"{condition} -> {emptied}"]
        compared = condition and threshold_condition(condition, annotation, pills)
        if condition and compared and not emptied:
            inputs = with_input(inputs, "condition", compared)
            out["if_threshold"] = [f"{condition} -> {compared}"]
    elif definition == "look_up_record":
        key = "named_group"
        inputs, changes = look_up_named_group(inputs, annotation, catalog)
    elif definition == "send_email":
        key = "named_address"
        inputs, changes = send_to_named_address(inputs, annotation)
    if changes:
        out[key] = changes
    elif definition in RECIPIENTS:
        # the person the words name, where they name no address
        inputs, named = send_to_named_recipient(definition, inputs, annotation, pills, columns_of)
        if named:
            out["named_recipient"] = named
    return inputs, grounded


def _write_missing_note(
    ctx: RunContext,
    node: str,
    messages: list[ChatMessage],
    offered: InputsOffer,
    inputs: list[FlowInput],
    annotation: str,
    retriever: InputsRetriever,
    out: dict[str, Any],
) -> list[FlowInput]:
    """An update's inputs with the journal note its words ask for and its answer left
    out, written by a second call on the same conversation (graph/journal_note.py)."""
    journal = lacks_note(inputs, annotation, retriever.tools.columns)
    if journal is None:
        return inputs
    grammar = note_grammar(offered.params, inputs, journal, offered.space)
    result = ctx.generate(node, messages, grammar, INPUTS_MAX_TOKENS)
    note = next((i.value for i in parse_inputs(result.text) if i.name == "values"), None)
    if not result.complete or not note:
        return inputs
    table = next((i.value for i in inputs if i.name == "table_name"), "")
    about = retriever.catalog.table(table)
    noted = with_note(
        inputs, note, about.label if about else None, annotation, retriever.tools.columns
    )
    before = next((i.value for i in inputs if i.name == "values"), "")
    after = next((i.value for i in noted if i.name == "values"), "")
    out["journal_note"] = f"{before} -> {after}"
    return noted


def inputs_node(state: FlowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    order, *rest = state["pending"]
    flow = Flow.model_validate(state["flow"])
    feedback = state.get("feedback", {}).get(str(order))
    node = f"inputs:{order}"
    with ctx.tracer.span("node", "inputs", node=node, item=order) as out:
        retriever = InputsRetriever(ctx.tools_at(node), ctx.retrieval_cache)
        offered = retriever.offer(flow, order, state["requirement"])
        turns = {int(k): ItemTurn.model_validate(v) for k, v in (state.get("turns") or {}).items()}
        earlier = [turns[o] for o in sorted(turns) if o < order]
        shown = [e["name"] for e in state.get("examples") or []]
        examples = _input_examples(state.get("input_examples") or [], shown, flow, order)
        if offered.named_table:
            out["table_named"] = offered.named_table
        if offered.named_record:
            out["record_named"] = offered.named_record
        offer = (offered.params, offered.tables, offered.columns, offered.pills)
        turn = item_turn(flow, order, *offer, earlier, examples, ctx.instructions)
        requirement = state["requirement"]
        messages = inputs_conversation(requirement, flow, earlier, turn, feedback)
        if earlier and _tokens(ctx.engine, messages) > CONVERSATION_TOKENS:
            # A long flow's conversation would outgrow the context: this item starts a
            # new one, with the outline and the whole offer.
            out["restarted_conversation"] = True
            earlier = []
            turn = item_turn(flow, order, *offer, earlier, examples, ctx.instructions)
            messages = inputs_conversation(requirement, flow, earlier, turn, feedback)
        given, why = None, ""
        if not feedback and order == 0:
            given, why = _stated_schedule(flow, requirement, offered.params), "schedule words"
        elif not feedback:
            given, why = (
                _only_list_to_loop(flow, order, offered.params, retriever.catalog),
                "one list in scope",
            )
            if given is None:
                given, why = approval_outcome(flow, order, retriever.catalog), "approval outcome"
            if given is None:
                given, why = check_outcome(flow, order, retriever.catalog), "check outcome"
            if given is None:
                given, why = re_read_test(flow, order, retriever.catalog), "record read again"
        if given is not None:
            # Inputs known without the model (a schedule's words; a loop with one list
            # in scope; an approval's or a check's outcome): no model call. The turn
            # stays in the conversation, answered with them, as training showed it.
            inputs = [
                FlowInput(name=p.name, value=given[p.name])
                for p in offered.params
                if p.name in given
            ]
            out["inputs_given"] = why
        else:
            result = ctx.generate(node, messages, offered.grammar, INPUTS_MAX_TOKENS)
            call = _ItemCall(ctx, node, messages, flow, order, offered, retriever)
            inputs = _settled_answer(call, _finished_text(result), out)
            if order == 0:
                inputs = _resampled_trigger(call, inputs, out)
        _set_inputs(flow, order, inputs)
        out["inputs"] = [i.model_dump() for i in inputs]
    _emit({"event": "inputs", "order": order, "inputs": [i.model_dump() for i in inputs]})
    turns[order] = turn
    return {
        "flow": flow_json(flow),
        "pending": rest,
        "turns": {str(o): t.model_dump(mode="json") for o, t in turns.items()},
    }


@dataclass(frozen=True)
class _ItemCall:
    """One item's model call in the inputs node: what settling an answer to it reads."""

    ctx: RunContext
    node: str
    messages: list[ChatMessage]
    flow: Flow
    order: int
    offered: InputsOffer
    retriever: InputsRetriever


def _settled_answer(call: _ItemCall, text: str, out: dict[str, Any]) -> list[FlowInput]:
    """An item's inputs from the model's answer, settled by the rules of the inputs node
    (grounded choices and fields, a trigger's change operators); what each rule changed
    is traced in `out`."""
    ctx, node, messages, flow, order = call.ctx, call.node, call.messages, call.flow, call.order
    offered, retriever = call.offered, call.retriever
    inputs, dropped = drop_repeated_terms([i for i in parse_inputs(text) if i.value])
    if dropped:
        out["repeated_terms_dropped"] = dropped
    inputs, settled_refs = settle_reference_pills(
        inputs, offered.params, flow, order, retriever.catalog, retriever.tools.columns
    )
    if settled_refs:
        out["reference_pills_settled"] = settled_refs
    step = flow.component(order) if order else None
    if ctx.ground_choices and step and step.definition == "update_record" and step.annotation:
        inputs = _write_missing_note(
            ctx, node, messages, offered, inputs, step.annotation, retriever, out
        )
    if ctx.ground_choices:
        item = flow.trigger if order == 0 else flow.component(order)
        annotation = item.annotation if item else None
        inputs, grounded = ground_choices(
            inputs, offered.params, annotation, retriever.catalog, trigger=order == 0
        )
        if order == 0 and annotation and flow.trigger_type == "record_update":
            inputs, event = ground_step_query(
                inputs,
                "condition",
                offered.params,
                annotation,
                retriever.catalog,
                retriever.tools.columns,
                add_change_event,
            )
            if event:
                out["change_event"] = event
        if order == 0 and annotation:
            inputs, moved = ground_trigger_condition(
                inputs,
                flow.trigger_type,
                offered.params,
                annotation,
                retriever.catalog,
                retriever.tools.columns,
            )
            grounded += moved
            inputs, unnamed = drop_unnamed_trigger_terms(
                inputs, annotation, retriever.catalog, retriever.tools.columns
            )
            if unnamed:
                out["unnamed_terms_dropped"] = unnamed
            columns_of = retriever.tools.columns
            inputs = _ground_condition(
                inputs,
                "condition",
                offered.params,
                annotation,
                retriever.catalog,
                columns_of,
                _condition_rules([], retriever.catalog, columns_of, look_up=False),
                out,
            )
        if annotation and step is not None:
            inputs, changed = _ground_step_inputs(
                step.definition,
                inputs,
                offered.params,
                annotation,
                retriever,
                offered.pills,
                out,
            )
            grounded += changed
        if step is not None and re_read_table(flow, order, offered.pills):
            inputs, numbered = ground_step_query(
                inputs,
                "conditions",
                offered.params,
                annotation or "",
                retriever.catalog,
                retriever.tools.columns,
                by_number,
            )
            if numbered:
                out["record_read_again"] = numbered
        if grounded:
            out["choices_grounded"] = grounded
    if order == 0:
        if ctx.ground_choices and flow.trigger and flow.trigger.annotation:
            inputs, compared = threshold_trigger(
                flow.trigger_type, inputs, flow.trigger.annotation, retriever.tools.columns
            )
            if compared:
                out["trigger_threshold"] = compared
        inputs, settled = settle_change_operators(flow.trigger_type, inputs)
        if settled:
            out["trigger_condition_settled"] = settled
        if ctx.ground_choices and flow.trigger and flow.trigger.annotation:
            inputs, changes = unnamed_change_values(
                inputs, flow.trigger.annotation, retriever.tools.columns
            )
            if changes:
                out["unnamed_change_values"] = changes
        if (
            ctx.ground_choices
            and flow.trigger
            and flow.trigger.annotation
            and str(flow.trigger_type).startswith("record_")
        ):
            inputs, named_item = add_catalog_item(
                inputs, flow.trigger.annotation, retriever.catalog
            )
            if named_item:
                out["catalog_item_added"] = named_item
    return inputs


def _resampled_trigger(
    call: _ItemCall, inputs: list[FlowInput], out: dict[str, Any]
) -> list[FlowInput]:
    """A record trigger's inputs, sampled again where the greedy condition names nothing
    its words say (graph/trigger_resample.py)."""
    ctx, flow, catalog = call.ctx, call.flow, call.retriever.catalog
    span = flow.trigger.annotation if flow.trigger else None
    columns_of = call.retriever.tools.columns
    if (
        not ctx.trigger_samples
        or not ctx.ground_choices
        or not span
        or not names_nothing(inputs, span, catalog, columns_of)
    ):
        return inputs
    samples = []
    grammar = call.offered.grammar
    for seed in range(1, ctx.trigger_samples + 1):
        result = ctx.generate(call.node, call.messages, grammar, INPUTS_MAX_TOKENS, seed=seed)
        samples.append(_settled_answer(call, _finished_text(result), {}))
    out["trigger_samples_drawn"] = len(samples)
    chosen = chosen_sample(inputs, samples, span, catalog, columns_of)
    if chosen is None:
        # The samples left their tokens in the engine's prefix cache: the greedy answer,
        # decoded once more as it was, puts it back, so the next calls run as if no
        # sample had been drawn (read again as prompt, a near-tie could go the other way).
        ctx.generate(call.node, call.messages, grammar, INPUTS_MAX_TOKENS)
        return inputs
    before = {i.name: i.value for i in inputs}.get("condition")
    after = {i.name: i.value for i in chosen}.get("condition")
    out["trigger_resampled"] = f"{before} -> {after}"
    return chosen


def after_inputs(state: FlowState) -> Literal["inputs", "validate"]:
    """One item a pass, in order; the flow is validated when none is left."""
    return "inputs" if state["pending"] else "validate"


def validate_node(state: FlowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    rounds = state.get("rounds", 0)
    catalog = ctx.tools.catalog()
    with ctx.tracer.span("validation", "validate", node="validate", round=rounds) as out:
        report = validate_flow(state["flow"], catalog, stage="full")
        errors = [e.model_dump() for e in report.errors]
        out["errors"] = errors
    _emit({"event": "validation", "round": rounds, "errors": errors})
    if not report.errors:
        return {"errors": [], "status": "ok"}
    if rounds >= ctx.max_rounds:
        return {"errors": errors, "status": "invalid"}
    flow = Flow.model_validate(state["flow"])
    outline_problems = [e for e in report.errors if _owned_by_outline(e, flow, catalog)]
    if outline_problems:
        return {
            "errors": errors,
            "rounds": rounds + 1,
            "feedback": {"outline": [str(e) for e in outline_problems]},
        }
    by_item: dict[str, list[str]] = {}
    for e in report.errors:
        by_item.setdefault(str(e.order or 0), []).append(str(e))
    return {
        "errors": errors,
        "rounds": rounds + 1,
        "feedback": by_item,
        "pending": sorted(int(o) for o in by_item),
    }


def after_validate(state: FlowState) -> Literal["outline", "inputs", "finish"]:
    """A valid flow, or one out of rounds, ends the run (validate set its status);
    otherwise the problems go back to the node that owns them: the outline when the
    feedback is for it, else the inputs of each item they name."""
    if state.get("status") in ("ok", "invalid"):
        return "finish"
    return "outline" if "outline" in state.get("feedback", {}) else "inputs"


def finish_node(state: FlowState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    status = state.get("status") or "invalid"
    _emit(
        {
            "event": "done",
            "status": status,
            "flow": state.get("flow"),
            "refusal": state.get("refusal"),
            "errors": state.get("errors", []),
        }
    )
    return {"status": status}


# -- helpers --------------------------------------------------------------------------------
def consensus_choice(
    results: list[GenerationResult], catalog: CatalogView, requirement: str
) -> tuple[int, list[float]]:
    """The candidate outline with the highest mean FlowSim (outline) to the others, and
    each candidate's mean. A sampled refusal or unparseable candidate agrees with
    nothing; ties go to the earlier candidate, so the greedy outline (first) wins them."""
    from flowgen.metrics.flowsim import flowsim

    flows: list[dict[str, Any] | None] = []
    for r in results:
        text = _finished_text(r)
        try:
            parsed = parse_outline(text, catalog, name=flow_title(requirement))
        except LineFormatError:
            parsed = None
        flows.append(flow_json(parsed.flow) if parsed and parsed.flow else None)
    n = len(flows)
    if n == 1 or flows[0] is None:
        return 0, [1.0] * n  # a greedy refusal stands: samples do not outvote it
    scores = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = flows[i], flows[j]
            sim = flowsim(a, b, "outline") if a is not None and b is not None else 0.0
            scores[i][j] = scores[j][i] = sim
    means = [round(sum(row) / (n - 1), 4) for row in scores]
    return max(range(n), key=lambda i: (means[i], -i)), means


def _owned_by_outline(error: FlowError, flow: Flow, catalog: CatalogView) -> bool:
    """Problems only a different outline fixes: structure, unknown names, and a FOREACH
    with nothing to loop over (no earlier step returns a list: a lookup is missing). A
    FOREACH over a record when a list is in scope is its inputs' fault."""
    if error.kind == "structure" or error.code in OUTLINE_CODES:
        return True
    comp = flow.component(error.order) if error.order else None
    if error.code != "pill_type_mismatch" or comp is None or comp.definition != "FOREACH":
        return False
    return not has_list_to_loop(flow, catalog, comp.order)


def retrieve_examples(
    tools: Tools, wanted: ExampleRetrieval, requirement: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The solved flows to show for `requirement`, as JSON for the state, and the inputs
    of their and their neighbours' items that the inputs turns choose from (one search;
    none of either when no examples are wanted)."""
    k = wanted.k_for(requirement)
    if k <= 0:
        return [], []
    found = tools.search_solved_flows(
        query=wanted.query or requirement,
        k=k,
        exclude=list(wanted.exclude),
        exclude_above=wanted.exclude_above,
    )
    shown = [{k: e[k] for k in ("name", "requirement", "flow")} for e in found["examples"]]
    return shown, found["item_inputs"]


def _solved(examples: list[dict[str, Any]]) -> list[SolvedCase]:
    return [
        SolvedCase(e["name"], "", e["requirement"], Flow.model_validate(e["flow"]))
        for e in examples
    ]


def _input_examples(
    pool: list[dict[str, Any]], shown: list[str], flow: Flow, order: int
) -> list[str] | None:
    """The inputs of the solved item most like this one (graph/input_examples.py): one
    answer (a second cost ~35 prompt tokens a flow, docs/results.md)."""
    comp = flow.component(order) if order else None
    item = comp if order else flow.trigger
    definition = comp.definition if comp else flow.trigger_type
    annotation = item.annotation if item else None
    answer = closest_item_inputs(pool, definition, order == 0, annotation, shown)
    return [answer] if answer else None


def _tokens(engine: Engine, messages: list[ChatMessage]) -> int:
    """About how many tokens the messages take (the chat template adds ~5 a message)."""
    return len(engine.tokenize("\n".join(m.content for m in messages))) + 5 * len(messages)


def _stated_schedule(flow: Flow, requirement: str, params: list[Param]) -> dict[str, str] | None:
    """A schedule trigger's inputs, where its annotation (or else the requirement) states
    them all (graph/schedule_inputs.py) and the installation's trigger declares them."""
    trigger = flow.trigger_type
    if not trigger:
        return None
    annotation = (flow.trigger.annotation if flow.trigger else None) or ""
    stated = schedule_inputs(trigger, annotation) or schedule_inputs(trigger, requirement)
    declared = {p.name for p in params}
    required = {p.name for p in params if p.required}
    if stated is None or not set(stated) <= declared or not required <= set(stated):
        return None
    return stated


def _only_list_to_loop(
    flow: Flow, order: int, params: list[Param], catalog: CatalogView
) -> dict[str, str] | None:
    """A FOREACH's `items` where one list is in scope: the only answer its grammar
    admits, so the model is not asked."""
    comp = flow.component(order)
    if comp is None or comp.definition != "FOREACH" or [p.name for p in params] != ["items"]:
        return None
    lists = [r.text for r in pill_roots(flow, catalog, order, "items") if r.type in LIST_TYPES]
    return {"items": f"{{{{{lists[0]}}}}}"} if len(lists) == 1 else None


def _finished_text(result: GenerationResult) -> str:
    """The answer's text; of one cut off by the token limit, the lines that were finished."""
    if result.complete:
        return result.text
    return result.text[: result.text.rfind("\n") + 1] if "\n" in result.text else ""


def _drop_unfinished_blocks(flow: Flow) -> Flow:
    """An outline cut off by the token limit may end in a block whose children were
    never written; drop such trailing blocks rather than hand on an empty one."""
    components = list(flow.components)
    while components and FLOW_LOGIC.get(components[-1].definition, None) is not None:
        last = components[-1]
        if not FLOW_LOGIC[last.definition].is_block:
            break
        components.pop()
    return flow.model_copy(update={"components": components})


def _set_inputs(flow: Flow, order: int, inputs: list[FlowInput]) -> None:
    if order == 0:
        if flow.trigger is not None:
            flow.trigger.inputs = inputs
        return
    comp = flow.component(order)
    if comp is not None:
        comp.inputs = inputs


def build_graph(checkpointer: Checkpointer = None) -> Any:
    graph = StateGraph(FlowState, context_schema=RunContext)
    graph.add_node("guard", guard_node)
    graph.add_node("outline", outline_node)
    graph.add_node("inputs", inputs_node)
    graph.add_node("validate", validate_node)
    graph.add_node("finish", finish_node)
    graph.add_edge(START, "guard")
    graph.add_edge("guard", "outline")
    # The destinations are read from each routing function's Literal return type.
    graph.add_conditional_edges("outline", after_outline)
    graph.add_conditional_edges("inputs", after_inputs)
    graph.add_conditional_edges("validate", after_validate)
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer, name="flowgen")
