"""Prompt templates and the model's output format, shared by inference and training."""

from flowgen.prompts.create_flow import VERSION as CREATE_FLOW_VERSION
from flowgen.prompts.populate_inputs import VERSION as POPULATE_INPUTS_VERSION

PROMPT_VERSION = f"{CREATE_FLOW_VERSION}+{POPULATE_INPUTS_VERSION}"
