"""The base model's tokenizer and chat template, without transformers.

The embedded engines need four things of a tokenizer: text to ids, ids to text, the chat
template, and which tokens are special. The Rust `tokenizers` library reads the saved
`tokenizer.json` and jinja2 renders the saved template the way transformers renders it
(same environment options), so the serving process imports neither transformers nor
torch. `tests/test_engine.py` checks both against transformers on the same folder.
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
    transformers saved it)."""

    def __init__(self, folder: Path):
        from tokenizers import Tokenizer

        self.folder = folder
        try:
            self.backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
            config = json.loads((folder / "tokenizer_config.json").read_text())
        except Exception as exc:  # tokenizers raises a plain Exception for a bad file
            raise EngineError(f"cannot read the tokenizer in {folder}: {exc}") from exc
        template_file = folder / "chat_template.jinja"
        template = (
            template_file.read_text() if template_file.exists() else config.get("chat_template")
        )
        if not isinstance(template, str):
            raise EngineError(f"the tokenizer in {folder} has no chat template")
        self._template_source = template
        self.config = config
        added = self.backend.get_added_tokens_decoder()
        self.special_ids = {i: t.content for i, t in added.items() if t.special}
        self.eos_token_id = self.token_id(config.get("eos_token"))
        self.bos_token_id = self.token_id(config.get("bos_token"))

    def __len__(self) -> int:
        return int(self.backend.get_vocab_size(with_added_tokens=True))

    def encode(self, text: str) -> list[int]:
        return list(self.backend.encode(text, add_special_tokens=False).ids)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        return str(self.backend.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def token_id(self, token: Any) -> int | None:
        """The id of a token given by its text (or a config's {"content": ...} entry)."""
        text = _content(token)
        found = self.backend.token_to_id(text) if text else None
        return int(found) if found is not None else None

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

    def to_json(self) -> str:
        """The tokenizer as `tokenizer.json` holds it (what llguidance reads)."""
        return str(self.backend.to_str())

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


def _content(token: Any) -> str:
    """A special token's text, as a tokenizer config gives it (a string or a mapping)."""
    if isinstance(token, dict):
        return str(token.get("content", ""))
    return token if isinstance(token, str) else ""
