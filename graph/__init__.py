"""The generator: a LangGraph state machine from requirement to validated flow (issue 6)."""
