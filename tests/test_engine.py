"""The model engines with the real SmolLM2 base model on small inputs: constrained
decoding, truncation, prefix reuse, adapters, sampling and streaming, each test run on
both in-process runtimes (llama.cpp, the default, and the transformers reference); the
llama.cpp engine against the reference on real flow calls; and the remote engine against
`flowgen serve-model`'s app on loopback."""

from __future__ import annotations

import functools
import itertools
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import xgrammar as xgr
from conftest import needs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowgen.engine.base import (
    ChatMessage,
    EngineError,
    GenerationRequest,
    GenerationResult,
    StreamingEngine,
)
from flowgen.engine.decoding import ConstrainedDecoder as LocalEngine
from flowgen.engine.factory import Runtime, shipped_adapters
from flowgen.engine.grammar import InputSpec, inputs_grammar, outline_grammar
from flowgen.engine.remote import RemoteEngine

ASK = [ChatMessage(role="user", content="Which table holds incidents? Answer with its name.")]


@pytest.fixture(scope="module")
@needs("model")
def adapters(tmp_path_factory) -> dict[str, Path]:
    """Two LoRA adapters with random weights (so each visibly changes the model)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from flowgen.engine.base_model import ensure_base_model

    paths = {}
    for seed, name in enumerate(("tenant-a", "tenant-b")):
        torch.manual_seed(seed)
        base = AutoModelForCausalLM.from_pretrained(ensure_base_model())
        config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        model = get_peft_model(base, config)
        path = tmp_path_factory.mktemp(name)
        model.save_pretrained(path)
        paths[name] = path
    return paths


def make(runtime: Runtime, adapters: dict[str, Path] | None = None, **options) -> LocalEngine:
    if runtime == "torch":
        from flowgen.engine.local import LocalEngine as TorchEngine

        return TorchEngine(adapters=adapters, **options)
    if runtime == "torch-bf16":
        from flowgen.engine.torch_bf16 import TorchBf16Engine

        return TorchBf16Engine(adapters=adapters, **options)
    from flowgen.engine.llamacpp import LlamaCppEngine

    return LlamaCppEngine(adapters=adapters, **options)


@pytest.fixture(scope="module", params=["llamacpp", "torch-bf16", "torch"])
def runtime(request) -> Runtime:
    return request.param


@pytest.fixture(scope="module")
@needs("model")
def llm(engine_data_dir, adapters, runtime) -> LocalEngine:
    return make(runtime, adapters)


@pytest.fixture(scope="module")
def engine_data_dir(tmp_path_factory):
    import os

    from flowgen.settings import reset_settings

    os.environ.setdefault("FLOWGEN_DATA_DIR", str(tmp_path_factory.mktemp("engine-data")))
    reset_settings()


@functools.cache
def xgrammar_compiler(stop_token_ids: tuple[int, ...]) -> xgr.GrammarCompiler:
    from transformers import AutoTokenizer

    from flowgen.engine.base_model import ensure_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(ensure_tokenizer())
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, stop_token_ids=list(stop_token_ids))
    return xgr.GrammarCompiler(info)


def accepted(llm: LocalEngine, grammar: str, text: str) -> bool:
    """Does `text` (plus the end of output) match `grammar`? Checked by xgrammar, the
    grammar dialect's reference (and vLLM's matcher), not by the engine's llguidance."""
    compiled = xgrammar_compiler(tuple(llm.stop_token_ids)).compile_grammar(grammar)
    matcher = xgr.GrammarMatcher(compiled)
    if not matcher.accept_string(text):
        return False
    return any(matcher.accept_token(t) for t in llm.stop_token_ids)


def test_unconstrained_generation_reports_usage(llm: LocalEngine) -> None:
    result = llm.generate(GenerationRequest(messages=ASK, max_tokens=12))
    assert result.text.strip()
    assert result.usage.prompt_tokens > 5 and 0 < result.usage.completion_tokens <= 12
    assert 0 < result.timings.first_token_s <= result.timings.total_s


def test_grammar_limits_output_to_offered_names(llm: LocalEngine) -> None:
    grammar = inputs_grammar([InputSpec("table", "options", options=["incident", "problem"])])
    result = llm.generate(GenerationRequest(messages=ASK, grammar=grammar, max_tokens=20))
    assert result.complete
    assert result.text in ("", "table = incident\n", "table = problem\n")
    assert accepted(llm, grammar, result.text)


def test_cut_off_output_is_flagged_not_passed_off_as_complete(llm: LocalEngine) -> None:
    grammar = outline_grammar(["record_update"], ["look_up_records"], ["FOREACH"])
    result = llm.generate(GenerationRequest(messages=ASK, grammar=grammar, max_tokens=3))
    assert result.finish_reason == "length" and not result.complete
    assert not accepted(llm, grammar, result.text)


def test_prefix_reuse_changes_nothing_but_time(
    engine_data_dir, llm: LocalEngine, runtime: Runtime
) -> None:
    shared = "You fill in inputs of ServiceNow flow steps. " * 20
    calls = [
        [ChatMessage(role="system", content=shared), ChatMessage(role="user", content=q)]
        for q in ("Step: look up incidents.", "Step: update the record.")
    ]
    cold = make(runtime, prefix_cache=False)
    llm.generate(GenerationRequest(messages=calls[0], max_tokens=8))
    warm = llm.generate(GenerationRequest(messages=calls[1], max_tokens=8))
    reference = cold.generate(GenerationRequest(messages=calls[1], max_tokens=8))
    assert warm.usage.cached_prompt_tokens > 150
    assert reference.usage.cached_prompt_tokens == 0
    assert warm.text == reference.text


def test_adapters_are_chosen_per_request(llm: LocalEngine, runtime: Runtime, monkeypatch) -> None:
    # Without prefix reuse: a prompt run after a cached prefix is computed in other
    # shapes, which under bf16 can flip a near tie (seen with torch on an AMX CPU), and
    # this test is about which weights answer, not about the cache.
    monkeypatch.setattr(llm, "use_prefix_cache", False)
    assert llm.adapters() == ["tenant-a", "tenant-b"]
    texts = {
        a: llm.generate(GenerationRequest(messages=ASK, adapter=a, max_tokens=10)).text
        for a in (None, "tenant-a", "tenant-b")
    }
    plain = make(runtime).generate(GenerationRequest(messages=ASK, max_tokens=10)).text
    assert texts[None] == plain  # no adapter: exactly the base model
    assert len(set(texts.values())) == 3
    with pytest.raises(EngineError, match="unknown adapter 'tenant-z'"):
        llm.generate(GenerationRequest(messages=ASK, adapter="tenant-z"))


def test_the_time_split_adds_up(llm: LocalEngine) -> None:
    grammar = inputs_grammar([InputSpec("table", "options", options=["incident", "problem"])])
    result = llm.generate(GenerationRequest(messages=ASK, grammar=grammar, max_tokens=20))
    t = result.timings
    parts = t.compile_s + t.prompt_s + t.decode_s + t.mask_s
    assert t.prompt_s > 0 and t.mask_s > 0
    assert parts <= t.total_s


def test_sampling_is_reproducible_by_seed_and_greedy_by_default(llm: LocalEngine) -> None:
    def ask(**options) -> str:
        request = GenerationRequest(messages=ASK, max_tokens=12, **options)
        return llm.generate(request).text

    greedy = ask()
    assert ask(temperature=0.0, seed=5) == greedy
    samples = [ask(temperature=1.5, seed=s) for s in range(4)]
    assert samples == [ask(temperature=1.5, seed=s) for s in range(4)]
    assert len(set(samples)) > 1


def test_streamed_deltas_make_the_generated_text(llm: LocalEngine) -> None:
    assert isinstance(llm, StreamingEngine)
    grammar = inputs_grammar([InputSpec("table", "options", options=["incident", "problem"])])
    request = GenerationRequest(messages=ASK, grammar=grammar, max_tokens=20)
    items = list(llm.stream(request))
    *deltas, result = items
    assert isinstance(result, GenerationResult) and all(isinstance(d, str) for d in deltas)
    assert len(deltas) > 1 and "".join(deltas) == result.text == llm.generate(request).text


def test_a_flagged_line_is_written_again_differently(llm: LocalEngine) -> None:
    """`redo_lines`: a line `ends_after_line` flags is not kept; decoding goes back to
    the least certain choice since the line before and writes something else there, the
    cache, grammar and streamed text going back with it."""
    grammar = 'root ::= word ("\\n" word)*\nword ::= "yes" | "no" | "maybe"'
    question = [ChatMessage(role="user", content="Is the sky blue? Answer yes or no.")]

    def repeats_the_line_before(text: str) -> bool:
        lines = text.splitlines()
        return len(lines) >= 2 and lines[-1] == lines[-2]

    request = GenerationRequest(
        messages=question,
        grammar=grammar,
        max_tokens=40,
        may_end=lambda text: len(text.splitlines()) >= 4,
        ends_after_line=repeats_the_line_before,
    )
    stopped = llm.generate(request)
    assert stopped.usage.redone_lines == 0
    lines = stopped.text.splitlines()
    assert len(lines) < 4 and repeats_the_line_before(stopped.text)  # the model repeats itself

    redone = request.model_copy(update={"redo_lines": 6})
    *deltas, result = llm.stream(redone)
    assert isinstance(result, GenerationResult)
    assert "".join(str(d) for d in deltas) == result.text
    assert result.usage.redone_lines >= 1
    lines = result.text.splitlines()
    assert lines[0] == stopped.text.splitlines()[0]
    pairs = list(itertools.pairwise(lines))
    if result.usage.redone_lines == 6:
        # The redos spent, a flagged line may end the text as it did without them (Q8_0
        # weights on an AVX2 machine: "no", "yes" six times, then "no", "no").
        pairs = pairs[:-1]
    assert all(before != after for before, after in pairs)
    assert len(lines) >= 4 or result.usage.redone_lines == 6
    assert accepted(llm, grammar, result.text.rstrip("\n"))
    assert llm.generate(redone).text == result.text


def test_invalid_grammar_is_a_clear_error(llm: LocalEngine) -> None:
    with pytest.raises(EngineError, match="invalid grammar"):
        llm.generate(GenerationRequest(messages=ASK, grammar="root ::= missing_rule"))


names = st.lists(st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True), min_size=1, max_size=6)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(options=names, pills=names, limit=st.integers(1, 24), question=st.text(max_size=60))
def test_constrained_outputs_always_parse_or_are_flagged(
    llm: LocalEngine, options: list[str], pills: list[str], limit: int, question: str
) -> None:
    """The property behind `benchmarks/constrained_property.py` (1,000 runs), in small."""
    grammar = inputs_grammar(
        [
            InputSpec("table", "options", options=options),
            InputSpec("record", "pills", pills=pills),
            InputSpec("conditions", "query", fields=options, pills=pills),
        ]
    )
    prompt = [ChatMessage(role="user", content=question or "?")]
    result = llm.generate(GenerationRequest(messages=prompt, grammar=grammar, max_tokens=limit))
    if result.complete:
        assert accepted(llm, grammar, result.text)
    else:
        assert result.finish_reason == "length"


# -- remote engine against serve-model ----------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(llm: LocalEngine):
    import uvicorn

    from flowgen.engine.server import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(llm), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_remote_engine_matches_local(llm: LocalEngine, server_url: str) -> None:
    remote = RemoteEngine(server_url, llm.model_name)
    assert remote.adapters() == ["tenant-a", "tenant-b"]
    grammar = inputs_grammar([InputSpec("table", "options", options=["incident", "problem"])])
    for adapter in (None, "tenant-b"):
        request = GenerationRequest(messages=ASK, grammar=grammar, adapter=adapter, max_tokens=20)
        assert remote.generate(request).text == llm.generate(request).text
    completion = remote.generate(GenerationRequest(prompt="The incident table is", max_tokens=4))
    assert completion.usage.completion_tokens == 4 and completion.finish_reason == "length"


def test_remote_engine_errors_are_clear(llm: LocalEngine, server_url: str) -> None:
    remote = RemoteEngine(server_url, llm.model_name)
    with pytest.raises(EngineError, match="unknown adapter 'tenant-z'"):
        remote.generate(GenerationRequest(messages=ASK, adapter="tenant-z"))
    with pytest.raises(EngineError, match="invalid grammar"):
        remote.generate(GenerationRequest(messages=ASK, grammar="root ::= nope"))
    down = RemoteEngine(f"http://127.0.0.1:{_free_port()}", "x", retries=2, backoff_s=0.01)
    with pytest.raises(EngineError, match="unavailable after 3 attempts"):
        down.generate(GenerationRequest(messages=ASK))


def test_logit_bias_moves_the_choice_and_travels_to_a_remote_server(
    llm: LocalEngine, server_url: str
) -> None:
    plain = GenerationRequest(messages=ASK, grammar='root ::= "incident" | "problem"')
    chosen = llm.generate(plain).text
    other = "problem" if chosen == "incident" else "incident"
    first = llm.tokenize(other)[0]
    before = llm.first_token_logprobs(plain, top=1, also=(first,))
    assert before[first] < max(before.values())  # the greedy choice was the other word
    biased = plain.model_copy(update={"logit_bias": {first: 40.0}})
    assert llm.generate(biased).text == other
    assert llm.first_token_logprobs(biased, top=1, also=(first,))[first] > before[first]
    remote = RemoteEngine(server_url, llm.model_name)
    assert remote.tokenize("table = problem") == llm.tokenize("table = problem")
    assert remote.generate(biased).text == other


# -- llama.cpp against the transformers reference -------------------------------------------
@pytest.mark.model
def test_llamacpp_writes_what_the_reference_writes_on_flow_calls(engine_data_dir) -> None:
    """The shipped adapter, converted to llama.cpp's LoRA format and merged into the bf16
    engine's weights, answers a createFlow and a populateInputs call as the transformers
    engine does (benchmarks/engine_calls.py
    measures the same on whole dev flows). f32 weights, so that the conversion is what is
    tested: quantised weights flip near-ties (adapter v5 on Q8_0 writes record_update
    here, bf16 and f32 record_create; docs/engine.md)."""
    from flowgen.prompts.create_flow import create_flow_messages

    adapters = {"default": shipped_adapters()["default"]}
    requirement = "When a priority 1 incident is created, email its assignment group's manager"
    messages = create_flow_messages(
        requirement,
        [{"name": "record_create", "label": "Created"}, {"name": "record_update", "label": ""}],
        [{"name": "send_email", "label": "Send Email"}, {"name": "update_record", "label": ""}],
        ["IF", "FOREACH"],
    )
    grammar = outline_grammar(
        ["record_create", "record_update"],
        ["send_email", "update_record"],
        ["IF", "FOREACH"],
        requirement=requirement,
    )
    request = GenerationRequest(messages=messages, grammar=grammar, adapter="default")
    answers = {
        "llamacpp": make("llamacpp", adapters, weights="f32").generate(request),
        "torch": make("torch", adapters).generate(request),
        # as the factory builds it: the adapter added into bf16 weights
        "torch-bf16": make("torch-bf16", adapters, merged=["default"]).generate(request),
    }
    assert answers["llamacpp"].complete
    assert answers["llamacpp"].text == answers["torch"].text == answers["torch-bf16"].text
    assert answers["llamacpp"].text.startswith("T record_")
    assert "\n- send_email | email its assignment group's manager" in answers["llamacpp"].text


def test_adapters_are_converted_once_and_again_when_they_change(
    engine_data_dir, adapters, tmp_path
) -> None:
    import shutil

    from flowgen.engine.gguf_files import ConversionError, adapter_gguf

    folder = tmp_path / "tenant-a"
    shutil.copytree(adapters["tenant-a"], folder)
    first = adapter_gguf(folder)
    assert adapter_gguf(folder) == first and first.stat().st_size > 0
    config = folder / "adapter_config.json"
    config.write_text(config.read_text().replace('"lora_alpha": 8', '"lora_alpha": 16'))
    assert adapter_gguf(folder) != first  # retrained or edited in place: a new file
    (folder / "adapter_model.safetensors").unlink()
    with pytest.raises(ConversionError, match=r"no adapter_model\.safetensors"):
        adapter_gguf(folder)


def test_default_runtime_follows_the_cpu_and_unknown_runtime_is_named(monkeypatch) -> None:
    from flowgen.engine.factory import runtime_from_env
    from flowgen.engine.torch_bf16 import cpu_has_amx
    from flowgen.settings import Settings, override_settings

    monkeypatch.delenv("FLOWGEN_RUNTIME", raising=False)
    with override_settings(runtime=Settings().runtime):
        assert runtime_from_env() == ("torch-bf16" if cpu_has_amx() else "llamacpp")
    with override_settings(runtime="llamacpp"):
        assert runtime_from_env() == "llamacpp"
    with (
        override_settings(runtime="onnx"),
        pytest.raises(ValueError, match="FLOWGEN_RUNTIME='onnx'"),
    ):
        runtime_from_env()


@pytest.mark.unit
def test_default_weights_follow_the_cpu_and_an_unknown_type_is_named(monkeypatch) -> None:
    from flowgen.engine.factory import default_weights, weights_from_env
    from flowgen.settings import override_settings

    # AVX-512 with or without native bf16 products, AMX: bf16; AVX2 with F16C: f16;
    # neither: Q8_0
    assert default_weights({"avx2", "avx512f", "avx512bw", "avx512_vnni", "f16c"}) == "bf16"
    assert default_weights({"avx2", "avx512f", "avx512_bf16"}) == "bf16"
    assert default_weights({"avx2", "amx_bf16", "amx_tile"}) == "bf16"
    assert default_weights({"avx2", "fma", "f16c"}) == "f16"
    assert default_weights({"avx2", "fma"}) == "q8_0"
    assert default_weights(set()) == "q8_0"
    with override_settings(weights="q4_1"):
        assert weights_from_env() == "q4_1"
    with override_settings(weights="int3"), pytest.raises(ValueError, match="'int3'"):
        weights_from_env()


def test_speculative_decoding_writes_what_token_by_token_decoding_writes(
    llm: LocalEngine, runtime: Runtime
) -> None:
    if runtime == "torch":
        pytest.skip("the transformers reference runs no guesses in a batch")
    if runtime == "llamacpp":
        # In f32: with Q8_0, the weights of CPUs with AVX2 alone, llama.cpp's kernels for
        # a batch of guesses and for one token round otherwise, and a near tie went
        # either way ("its tasks are closed" against "its tasks must be closed
        # immediately"); in f32 both write the same.
        llm = make("llamacpp", weights="f32")
    requirement = "When an incident is closed, email the caller and close all its tasks"
    copy = GenerationRequest(
        messages=[ChatMessage(role="user", content=f"Repeat this sentence exactly: {requirement}")],
        grammar=f'root ::= "{requirement[:20]}" [a-z ,]*',
        max_tokens=24,
    )
    answers = {}
    for speculative in (False, True):
        llm.speculative = speculative
        try:
            answers[speculative] = llm.generate(copy)
        finally:
            llm.speculative = True
    assert answers[True].text == answers[False].text
    assert answers[False].usage.draft_tokens == 0
    assert answers[True].usage.accepted_draft_tokens > 0


# -- the tokenizer without transformers ---------------------------------------------------
TEXTS = [
    "table = incident\ncondition = priority=1^active=true\n",
    "T record_update | Every time a user becomes inactive\n- look_up_records | find all\n",
    "values = {{trigger.current.caller_id.email}}  «naïve» 日本語 \t tabs\n\n",
    "<|im_end|> special tokens in text <filename> stay text",
]


@pytest.mark.model
def test_chat_tokenizer_matches_transformers() -> None:
    """The serving path tokenizes and renders chats without transformers; it must give
    the ids and text transformers gives on the same folder, or the adapters (trained
    through transformers) would see other prompts."""
    from transformers import AutoTokenizer

    from flowgen.engine.base_model import ensure_tokenizer
    from flowgen.engine.tokenizer import ChatTokenizer

    folder = ensure_tokenizer()
    ours, reference = ChatTokenizer(folder), AutoTokenizer.from_pretrained(folder)
    for text in TEXTS:
        ids = reference(text, add_special_tokens=False).input_ids
        assert ours.encode(text) == ids
        assert ours.decode(ids) == reference.decode(
            ids, skip_special_tokens=False, clean_up_tokenization_spaces=False
        )
        assert ours.decode(ids, skip_special_tokens=True) == reference.decode(
            ids, skip_special_tokens=True
        )
    for messages in (
        [{"role": "user", "content": TEXTS[0]}],
        [{"role": "system", "content": "Design flows."}, {"role": "user", "content": TEXTS[2]}],
        [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": TEXTS[1]},
            {"role": "user", "content": "next"},
        ],
    ):
        assert ours.apply_chat_template(messages) == reference.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
    assert ours.eos_token_id == reference.eos_token_id
    assert set(ours.special_ids) == {
        i for i, t in reference.added_tokens_decoder.items() if t.special
    }


def test_a_tokenizer_folder_without_files_is_named(tmp_path: Path) -> None:
    from flowgen.engine.tokenizer import ChatTokenizer

    with pytest.raises(EngineError, match=str(tmp_path)):
        ChatTokenizer(tmp_path)


def test_quantised_weights_on_an_amx_build_are_refused_with_the_fix_named() -> None:
    from flowgen.engine.llamacpp import check_amx_build

    amx = "CPU : AVX512 = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | OPENMP = 1 | "
    with pytest.raises(EngineError, match=r"FLOWGEN_WEIGHTS=q8_0: .*AMX.*setup\.sh"):
        check_amx_build("q8_0", amx)
    check_amx_build("bf16", amx)  # ggml's AMX kernels never take bf16
    check_amx_build("q8_0", amx.replace("AMX_INT8 = 1 | ", ""))


def test_an_unknown_kv_key_type_is_refused_before_any_model_loads() -> None:
    from flowgen.engine.llamacpp import LlamaCppEngine

    with pytest.raises(EngineError, match=r"KV cache keys 'q4_0': choose one of f16, q8_0"):
        LlamaCppEngine({}, weights="bf16", keys="q4_0")


def test_setup_built_llama_cpp_without_amx_kernels() -> None:
    import llama_cpp

    assert "AMX_INT8 = 1" not in llama_cpp.llama_print_system_info().decode()


@pytest.mark.model
def test_bf16_engine_recomputes_the_best_logits_exactly(engine_data_dir, adapters) -> None:
    """bf16 products round a logit to ~0.1: the tokens near the best are recomputed in
    fp32 from the hidden state (with the request's bias), the rest are left as they are."""
    import numpy as np

    engine = make("torch-bf16", adapters)
    request = GenerationRequest(messages=ASK)
    ids = engine.tokenize(engine.render(request))
    _, row = engine._prefill(None, ids)
    raw = np.array(row)
    best, second = (int(t) for t in np.argsort(-raw)[:2])
    # The runner-up biased to just under the best: a near tie the rounding could decide.
    request.logit_bias = {second: float(raw[best] - raw[second]) - 0.05}
    rescored = engine._allowed_logits(row, request, None)
    exact = engine._current.net.embed[[best, second]] @ row.hidden.numpy()
    np.testing.assert_allclose(rescored[best], exact[0], atol=1e-3)
    np.testing.assert_allclose(rescored[second], exact[1] + request.logit_bias[second], atol=1e-3)
    far = raw < raw.max() - 2
    far[second] = False
    assert far.sum() > 1000 and (rescored[far] == raw[far]).all()
    engine._finish(None, ids)


@pytest.mark.model
def test_llamacpp_models_carry_no_vocabulary_of_their_own(engine_data_dir, tmp_path) -> None:
    """The engine tokenizes with llguidance and hands llama.cpp token ids, so the GGUF
    files it writes leave the tokenizer out (llama.cpp's tables for it held ~13 MB of the
    service): the vocabulary's size stays, the weights are the quantiser's byte for byte,
    and llama.cpp computes the same logits as from the file with the tokenizer in."""
    import gguf
    import llama_cpp
    import numpy as np

    from flowgen.engine.base_model import ensure_tokenizer, gguf_path
    from flowgen.engine.gguf_files import _quantize, base_model_gguf
    from flowgen.engine.llamacpp import quiet_llama
    from flowgen.engine.tokenizer import ChatTokenizer

    lean = gguf.GGUFReader(str(base_model_gguf("bf16")))
    assert [f for f in lean.fields if f.startswith("tokenizer.")] == ["tokenizer.ggml.model"]
    assert lean.get_field("tokenizer.ggml.model").contents() == "none"  # type: ignore[union-attr]
    vocab_size = lean.get_field("llama.vocab_size").contents()  # type: ignore[union-attr]
    tokenizer = ChatTokenizer(ensure_tokenizer())
    assert vocab_size == len(tokenizer) == 49152
    ids = tokenizer.encode("When an incident is closed, email the caller.")

    full_path = tmp_path / "with-vocabulary.gguf"
    _quantize(gguf_path(), full_path, "bf16")
    full = gguf.GGUFReader(str(full_path))
    assert full.get_field("tokenizer.ggml.merges") is not None
    assert [t.name for t in lean.tensors] == [t.name for t in full.tensors]
    pairs = zip(lean.tensors, full.tensors, strict=True)
    assert all(np.array_equal(a.data, b.data) for a, b in pairs)

    quiet_llama()

    def last_logits(path: Path) -> np.ndarray:
        llm = llama_cpp.Llama(model_path=str(path), n_ctx=256, n_threads=2, verbose=False)
        assert llm.n_vocab() == vocab_size
        llm.eval(ids)
        row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        logits = np.ctypeslib.as_array(row, shape=(vocab_size,)).copy()
        llm.close()
        return logits

    assert np.array_equal(last_logits(base_model_gguf("bf16")), last_logits(full_path))


# Run in a fresh interpreter by the test below; prints one JSON line.
_CACHE_RESIDENCY = """
import json, sys
import flowgen.engine.zero_pages as zero_pages
from flowgen.engine.base import ChatMessage, GenerationRequest
from flowgen.engine.llamacpp import LlamaCppEngine

large = zero_pages.MIN_REGION
if sys.argv[1] == "resident":
    zero_pages.MIN_REGION = 1 << 62  # nothing is given back
before = zero_pages.anonymous_memory()
engine = LlamaCppEngine({}, weights="bf16")
loaded = [
    (start, end)
    for start, end in zero_pages.subtract(zero_pages.anonymous_memory(), before)
    if end - start >= large
]
in_memory = sum(int(zero_pages.resident_pages(a, b).sum()) for a, b in loaded)
request = GenerationRequest(
    messages=[ChatMessage(role="user", content="Name a ServiceNow table.")], max_tokens=12
)
print(json.dumps({
    "context": engine.context,
    "loaded": sum(end - start for start, end in loaded),
    "in_memory": in_memory * zero_pages.PAGE,
    "dropped": engine._base.zero_pages_dropped,
    "answer": engine.generate(request).text,
}))
"""


def _cache_residency(arm: str) -> dict[str, Any]:
    import json
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", _CACHE_RESIDENCY, arm],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.model
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/self/maps")
def test_llamacpp_cache_is_not_resident_before_it_is_used(engine_data_dir) -> None:
    """The KV cache llama.cpp clears on load is not held in memory (engine/zero_pages.py),
    and the answers stay those of a context whose cache stayed resident.

    Each arm loads the engine in a fresh interpreter, as a service starts: in the test
    process an engine an earlier test left behind may be freed while this one loads, and
    the kernel then maps the new cache where the old one was, which no comparison of
    address ranges can tell from memory held before (the full suite hit it)."""
    lean = _cache_residency("lean")
    resident = _cache_residency("resident")
    # SmolLM2-135M: 30 layers, keys and values of 192 f16 each per cell.
    cache_bytes = lean["context"] * 30 * 2 * 192 * 2
    assert lean["loaded"] >= cache_bytes  # the cache is there
    assert lean["dropped"] >= cache_bytes
    assert lean["in_memory"] < cache_bytes // 4  # but not in memory
    assert resident["dropped"] == 0
    assert resident["in_memory"] >= cache_bytes  # kept, it would be
    assert resident["answer"] == lean["answer"]


# Run in a fresh process: in a long test session, pages freed by earlier tests are
# resident already and the cache can grow into them without raising VmRSS.
RESIDENT_AFTER_CELLS = """
import json, re, sys
from pathlib import Path
from flowgen.engine.base import GenerationRequest
from flowgen.engine.llamacpp import LlamaCppEngine
engine = LlamaCppEngine({}, weights="bf16")
ids = engine.tokenize(" ".join(["the incident is assigned to the group manager"] * 400))
resident = []
for cells in map(int, sys.argv[1:]):
    engine.generate(GenerationRequest(prompt=engine.tokenizer.decode(ids[:cells]), max_tokens=1))
    status = Path("/proc/self/status").read_text()
    resident.append(int(re.search(r"VmRSS:\\s+(\\d+)", status).group(1)) * 1024)
print(json.dumps({"context": engine.context, "resident": resident}))
"""


@pytest.mark.model
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc/self/status")
def test_llamacpp_values_take_half_their_pages_until_cell_2048(engine_data_dir) -> None:
    """Why an inputs conversation stays under `KV_CELLS_KEPT` cells (graph/flow_graph.py):
    llama.cpp stores values transposed, a row of all 4,096 cells per layer and dimension
    (8 KB, two pages), so the cells past 2,048 bring the second page of every row in at
    once, while up to there the cache grows by its keys alone."""
    import json
    import subprocess
    import sys

    from flowgen.graph.flow_graph import CONVERSATION_TOKENS, INPUTS_MAX_TOKENS, KV_CELLS_KEPT

    assert CONVERSATION_TOKENS + INPUTS_MAX_TOKENS < KV_CELLS_KEPT
    run = subprocess.run(
        [sys.executable, "-c", RESIDENT_AFTER_CELLS, "1000", "1900", "2100"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    assert measured["context"] == 2 * KV_CELLS_KEPT
    first, below, above = measured["resident"]
    half_of_values = 30 * 192 * KV_CELLS_KEPT * 2  # 30 layers × 192 rows × 2,048 cells, f16
    assert below - first < half_of_values  # 900 more cells: their keys, ~10 MB (14 measured)
    assert above - below > 0.8 * half_of_values  # 200 more past 2,048: 22.5 MB (24 measured)


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_a_line_written_again_starts_from_its_least_certain_choice(data) -> None:
    """The window a redo chooses from keeps each position's allowed logits sparse; what it
    gives back is the dense row as the mask left it, and the position chosen is the one
    won by the smallest margin over an allowed token that is not a stop."""
    import numpy as np

    from flowgen.engine.decoding import _Allowed, _least_certain

    size, stops = 64, [0, 1]
    window, generated, rows = [], [], []
    for at in range(data.draw(st.integers(1, 6))):
        allowed = data.draw(st.sets(st.integers(0, size - 1), min_size=1, max_size=8))
        row = np.full(size, -np.inf, dtype=np.float32)
        for token in allowed:
            row[token] = data.draw(st.floats(-20, 20, width=32))
        chosen = data.draw(st.sampled_from(sorted(allowed)))
        sparse = _Allowed.of(row)
        assert np.array_equal(sparse.dense(size), row)
        window.append((at, sparse))
        generated.append(chosen)
        rows.append(row)

    margins = {}
    for at, row in enumerate(rows):
        others = row.copy()
        others[[generated[at], *stops]] = -np.inf
        if others.max() > -np.inf:
            margins[at] = float(row[generated[at]] - others.max())
    back = _least_certain(window, generated, stops)
    if not margins:
        assert back is None
    else:
        assert back is not None and margins[back[0]] == min(margins.values())
        assert np.array_equal(back[1].dense(size), rows[back[0]])


def test_prompt_batches_never_leave_the_last_token_alone() -> None:
    from flowgen.engine.llamacpp import LAST_BATCH, PROMPT_BATCH, prompt_batches

    for n in range(1, 3 * PROMPT_BATCH + 3):
        sizes = prompt_batches(n)
        assert sum(sizes) == n and max(sizes) <= PROMPT_BATCH
        assert sizes[-1] >= min(n, LAST_BATCH)
    assert prompt_batches(PROMPT_BATCH + 1) == [PROMPT_BATCH - 1, 2]


@pytest.mark.model
def test_llamacpp_answers_a_request_asked_again_as_it_did_on_an_empty_cache(
    engine_data_dir,
) -> None:
    """Asked again, a request is served from the cache but for its last tokens; they
    run as a batch of two, not one (llama.cpp's one-token path rounds its logits
    otherwise), so the answer does not depend on what the cache held."""
    from flowgen.engine.llamacpp import LlamaCppEngine

    engine = LlamaCppEngine({}, weights="bf16")
    request = GenerationRequest(
        messages=[ChatMessage(role="user", content="Name a ServiceNow table.")], max_tokens=8
    )
    fresh = engine.first_token_logprobs(request, top=50)
    again = engine.first_token_logprobs(request, top=50)
    assert again == fresh
