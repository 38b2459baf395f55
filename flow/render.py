"""Draw a flow as an indented tree a person can read (`flowgen show`)."""

from __future__ import annotations

from rich.markup import escape
from rich.tree import Tree

from flowgen.flow.model import Component, Flow, FlowInput


def _inputs(node: Tree, inputs: list[FlowInput]) -> None:
    for inp in inputs:
        node.add(f"[dim]{escape(inp.name)}[/] = [green]{escape(inp.value)}[/]")


def _annotation(text: str | None) -> str:
    return f'  [italic dim]"{escape(text)}"[/]' if text else ""


def _component_label(comp: Component) -> str:
    if comp.category == "flowlogic":
        head = f"[bold magenta]{escape(comp.definition)}[/]"
    else:
        kind = "subflow " if comp.category == "subflow" else ""
        scope = f" [dim]({escape(comp.scope)})[/]" if comp.scope != "global" else ""
        head = f"{kind}[bold]{escape(comp.definition)}[/]{scope}"
    return f"[cyan]{comp.order}.[/] {head}{_annotation(comp.annotation)}"


def flow_tree(flow: Flow | None) -> Tree:
    if flow is None:
        return Tree("[yellow]no flow (refused)[/]")
    root = Tree(f"[bold]{escape(flow.name or 'Untitled flow')}[/]")
    if flow.is_subflow:
        trig = root.add("[bold blue]subflow[/] (no trigger)")
        for p in flow.input_params:
            trig.add(f"[dim]input[/] {escape(p.name)}")
    else:
        assert flow.trigger is not None
        trig = root.add(
            f"[bold blue]trigger[/] {escape(flow.trigger.type or '')}"
            f"{_annotation(flow.trigger.annotation)}"
        )
        _inputs(trig, flow.trigger.inputs)
    nodes: dict[int, Tree] = {}
    for comp in flow.components:
        parent = nodes.get(comp.block) if comp.block is not None else None
        node = (parent or root).add(_component_label(comp))
        _inputs(node, comp.inputs)
        nodes[comp.order] = node
    return root
