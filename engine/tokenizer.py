"""The base model's tokenizer and chat template, without transformers.

The embedded engines need five things of a tokenizer: text to ids, ids to text, the chat
template, which tokens are special, and llguidance's view of the vocabulary for the
grammar. llguidance reads the saved `tokenizer.json` with the Rust `tokenizers` crate, so
its tokenizer also encodes and decodes exactly as Hugging Face does: one copy of the
vocabulary serves both, where a second (the Python `tokenizers` binding) held another
~50 MB in every serving process (docs/engine.md, "Memory"). llama.cpp's own tokenizer is
not used: it splits indentation differently (`"\n  3."`), and the adapters were trained
on Hugging Face's ids. jinja2 renders the saved template the way transformers renders it
(same environment options), so the serving process imports neither transformers nor
torch. `tests/test_engine.py` checks all of it against transformers on the same folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from flowgen.engine.base import EngineError

IM_END = "<|im_end|>"


class ChatTokenizer:
    """A saved Hugging Face tokenizer folder: `tokenizer.json`, `tokenizer_config.json`
    and the chat template (`chat_template.jinja`, or inside the config as older
    transformers saved it). `n_vocab`: the model's vocabulary size when it pads the
    tokenizer's (the grammar masks logits of that length)."""

    def __init__(self, folder: Path, n_vocab: int | None = None):
        import llguidance

        self.folder = folder
        try:
            raw = (folder / "tokenizer.json").read_text()
            config = json.loads((folder / "tokenizer_config.json").read_text())
            added = _added_tokens(raw)
        except (OSError, ValueError) as exc:
            raise EngineError(f"cannot read the tokenizer in {folder}: {exc}") from exc
        template_file = folder / "chat_template.jinja"
        template = (
            template_file.read_text() if template_file.exists() else config.get("chat_template")
        )
        if not isinstance(template, str):
            raise EngineError(f"the tokenizer in {folder} has no chat template")
        self._template_source = template
        self.config = config
        self._added = {t["content"]: int(t["id"]) for t in added}
        self.special_ids = {int(t["id"]): t["content"] for t in added if t.get("special")}
        self.eos_token_id = self.token_id(config.get("eos_token"))
        self.bos_token_id = self.token_id(config.get("bos_token"))
        # What ends an answer: the grammar's end (llguidance calls them EOS) accepts these.
        self.stop_token_ids = sorted(
            {t for t in (self.eos_token_id, self.token_id(IM_END)) if t is not None}
        )
        try:
            # No slicer tables (`slices=[]`): they speed up masks over large free-text
            # vocabularies, but our grammars' masks cost the same without them (42
            # recorded calls: 0.189 s against 0.193 s), and they hold 15 MB.
            self.lltokenizer = llguidance.LLTokenizer(
                raw, n_vocab=n_vocab, eos_token=self.stop_token_ids, slices=[]
            )
        except ValueError as exc:
            raise EngineError(f"cannot read the tokenizer in {folder}: {exc}") from exc

    def __len__(self) -> int:
        return int(self.lltokenizer.vocab_size)

    def encode(self, text: str) -> list[int]:
        """Hugging Face's ids for `text` without added BOS/EOS; special tokens written in
        the text (the chat template's `<|im_start|>`) become their ids."""
        return list(self.lltokenizer.tokenize_str(text))

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        if skip_special_tokens:
            ids = [i for i in ids if i not in self.special_ids]
        return str(self.lltokenizer.decode_str(list(ids)))

    def token_id(self, token: Any) -> int | None:
        """The id of a token given by its text (or a config's {"content": ...} entry)."""
        text = _content(token)
        if not text:
            return None
        if text in self._added:
            return self._added[text]
        ids = self.encode(text)
        return ids[0] if len(ids) == 1 else None

    def apply_chat_template(
        self, messages: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        return str(
            self._template.render(
                messages=messages,
                add_generation_prompt=add_generation_prompt,
                bos_token=_content(self.config.get("bos_token")),
                eos_token=_content(self.config.get("eos_token")),
            )
        )

    @cached_property
    def _template(self) -> Any:
        # transformers' own settings for chat templates, so the rendered text is the same.
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        def raise_exception(message: str) -> None:
            raise EngineError(f"the chat template refused the messages: {message}")

        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
        )
        env.globals["raise_exception"] = raise_exception
        return env.from_string(self._template_source)


def _added_tokens(tokenizer_json: str) -> list[dict[str, Any]]:
    """The `added_tokens` list of a `tokenizer.json` (ids, text, whether special), read
    without parsing the vocabulary and merges around it."""
    start = tokenizer_json.find('"added_tokens"')
    if start < 0:
        return []
    tokens, _ = json.JSONDecoder().raw_decode(tokenizer_json, tokenizer_json.index("[", start))
    if not isinstance(tokens, list):
        raise ValueError("added_tokens is not a list")
    return tokens


def _content(token: Any) -> str:
    """A special token's text, as a tokenizer config gives it (a string or a mapping)."""
    if isinstance(token, dict):
        return str(token.get("content", ""))
    return token if isinstance(token, str) else ""
