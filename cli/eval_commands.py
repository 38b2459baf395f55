"""`flowgen eval run|compare`: score the generator or a baseline on a case file; compare
runs."""

from __future__ import annotations

import json
import math
import random
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable
from typer.core import TyperGroup

from flowgen.cli.adapter_option import folder_engine, local_adapter
from flowgen.cli.console import fail, out
from flowgen.cli.data_commands import corpus_files
from flowgen.graph.coverage import DEFAULT_COVERAGE, Coverage
from flowgen.metrics.scoring import SUMMARY_KEYS

if TYPE_CHECKING:
    from flowgen.engine.base import Engine
    from flowgen.training.cases import Case

COMPARED = [
    *SUMMARY_KEYS,
    *("catalog_error_rate", "refusal_precision", "refusal_recall", "latency_p50"),
    *("latency_p90", "model_calls", "tokens_in", "tokens_out"),
]


class _RunByDefault(TyperGroup):
    """`flowgen eval CASES.jsonl ...` runs `flowgen eval run CASES.jsonl ...`, so the
    commands recorded before `eval` had subcommands still run."""

    # ctx is a context of typer's own copy of click (typer._click, not the click package
    # and not public), hence Any.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_RunByDefault,
    help="Score the generator or a baseline on a case file (run); compare runs (compare)."
    "\n\n`flowgen eval CASES.jsonl ...` is short for `flowgen eval run CASES.jsonl ...`.",
    no_args_is_help=True,
)


@eval_app.command("run")
def run(
    cases_file: Annotated[Path, typer.Argument(help="Case file (spec §6 JSON Lines).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the results.")],
    split: Annotated[str | None, typer.Option(help="Only cases of this split.")] = None,
    engine: Annotated[Literal["local", "openai"], typer.Option()] = "local",
    model: Annotated[str | None, typer.Option(help="Model name (openai engine).")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible URL.")] = None,
    adapter: Annotated[
        str,
        typer.Option(
            help="A shipped adapter's name, a folder written by `flowgen train`, or `none` "
            "for the base model."
        ),
    ] = "default",
    examples: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=8,
            help="Solved flows shown in each prompt: the nearest of the installation's own "
            "flows and the shared library (`flowgen flows sync`). By default as many as "
            "the adapter was trained with (three for the base model), and five for a "
            "requirement that asks for four actions or more; a number here is for all.",
        ),
    ] = None,
    perfect_rag: Annotated[bool, typer.Option(help="Offer every gold step.")] = False,
    baseline: Annotated[
        Literal["none", "nearest"],
        typer.Option(help="`nearest`: the flow of the nearest train case (data/*.jsonl)."),
    ] = "none",
    installation: Annotated[
        str | None, typer.Option(help="Only cases of this installation.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N cases.")] = None,
    sample: Annotated[
        int | None,
        typer.Option(min=1, help="A seeded random sample of N cases (kept in file order)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --sample.")] = 0,
    consensus: Annotated[
        int,
        typer.Option(
            min=0, max=16, help="Outlines sampled besides the greedy one; the most agreed kept."
        ),
    ] = 0,
    coverage: Annotated[
        Coverage,
        typer.Option(
            help="The outline may not end while an action clause is uncovered: on every"
            " requirement, on those with many action clauses (long), or never."
        ),
    ] = DEFAULT_COVERAGE,
    ground_choices: Annotated[
        bool,
        typer.Option(
            help="Ground inputs in the words: a choice value the item's annotation"
            " contradicts replaced, the settings it names added, a trigger's condition"
            " terms it never names dropped, an update's unnamed field moved, an IF's"
            " boolean test set to its words' polarity, a named group looked up by name,"
            " an email sent to the address its words give."
        ),
    ] = True,
    name_steps: Annotated[
        bool,
        typer.Option(
            help="Rename a core step whose span names an offered step better, or another"
            " core step by its opening verb (email, text, log)."
        ),
    ] = True,
    shown_steps_only: Annotated[
        bool,
        typer.Option(
            "--shown-steps-only/--any-step",
            help="The outline names core steps and only the spoke or custom steps its prompt"
            " shows (offered or in an example), or any step of the installation.",
        ),
    ] = True,
) -> None:
    """Run the generator (or a baseline) on every case of CASES_FILE and write
    summary.json, cases.jsonl, features.md/.csv and plots to --out. A run stopped part-way
    continues from its cases.partial.jsonl when run again with the same arm and folder."""
    folder = None
    if baseline == "none" and engine == "local":
        adapter, folder = local_adapter(adapter)
    from flowgen.db.store import CatalogStore
    from flowgen.evaluation.runner import Arm, run_arm
    from flowgen.training.cases import CaseSourceError, read_cases

    try:
        cases = read_cases([cases_file])
        # Only the nearest-example baseline answers from the train pool.
        train = (
            [c for c in read_cases(corpus_files(instead=None)) if c.split == "train"]
            if baseline == "nearest"
            else []
        )
    except (CaseSourceError, OSError) as exc:
        raise fail(str(exc)) from None
    cases = select_cases(cases, split, installation, sample, seed)[:limit]
    if not cases:
        raise fail("no cases to evaluate")
    store = CatalogStore()
    missing = sorted({c.installation for c in cases if not store.exists(c.installation)})
    if missing:
        raise fail(
            f"installation(s) {', '.join(missing)} are not synced; run `flowgen catalog sync "
            "INSTALLATION` (a shipped catalog) or `flowgen catalog sync CATALOG.yaml` first"
        )
    the_engine: Engine | None = None
    if baseline == "none":
        if engine == "openai":
            if not (model and base_url):
                raise fail("--engine openai needs --model and --base-url")
            from flowgen.engine.remote import RemoteEngine

            the_engine = RemoteEngine(base_url, model)
        else:
            from flowgen.graph.generator import default_engine

            the_engine = folder_engine(adapter, folder) or default_engine()
    name = (
        "nearest-example"
        if baseline == "nearest"
        else (
            f"{_engine_label(engine)}:{model or 'SmolLM2-135M'}+{adapter}"
            + (f"+{examples}ex" if examples is not None else "")
            + ("+perfect-rag" if perfect_rag else "")
            + (f"+consensus{consensus}" if consensus else "")
            + (f"+coverage-{coverage}" if coverage != DEFAULT_COVERAGE else "")
            + ("" if ground_choices else "+raw-choices")
            + ("" if name_steps else "+unnamed-steps")
            + ("" if shown_steps_only else "+any-step")
        )
    )
    arm = Arm(
        name=name,
        kind="nearest" if baseline == "nearest" else "generator",
        adapter=None if adapter == "none" or baseline == "nearest" else adapter,
        examples=examples,
        perfect_rag=perfect_rag,
        consensus=consensus,
        coverage=coverage,
        ground_choices=ground_choices,
        name_steps=name_steps,
        shown_steps_only=shown_steps_only,
    )
    columns = [TextColumn(name), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    with Progress(*columns) as progress:
        task = progress.add_task("eval", total=len(cases))
        figures = run_arm(
            arm,
            cases,
            store,
            the_engine,
            train,
            out_dir,
            lambda: progress.advance(task),
            selection={
                "cases": str(cases_file),
                "split": split,
                "installation": installation,
                "sample": sample,
                "seed": seed if sample else None,
                "limit": limit,
                "n": len(cases),
            },
        )
    out.print_json(json.dumps(figures))


@eval_app.command("compare")
def compare_command(
    dirs: Annotated[list[Path], typer.Argument(help="Result folders of `flowgen eval run`.")],
    installation: Annotated[
        str | None, typer.Option(help="Only cases of this installation.")
    ] = None,
    flows_only: Annotated[
        bool, typer.Option(help="Only cases whose gold answer is a flow.")
    ] = False,
) -> None:
    """Put runs side by side on the cases they all scored (runs on different samples of a
    split, or a full run beside a sampled one); a run still going is read from its
    partial file. Each figure is recomputed from the runs' cases."""
    compare(dirs, installation, flows_only)


def select_cases(
    cases: list[Case],
    split: str | None,
    installation: str | None,
    sample: int | None,
    seed: int,
) -> list[Case]:
    """The cases an eval runs on. A sample is the first N of the cases shuffled with the
    seed, so two arms sampled alike score the same cases and a smaller sample lies inside
    a larger one (a slow arm on 15 cases compares with a fast one on 30). It is returned in
    file order, and covers every installation of a split grouped by installation (a
    prefix of the file would not)."""
    kept = [
        c
        for c in cases
        if (split is None or c.split == split)
        and (installation is None or c.installation == installation)
    ]
    if sample is None or sample >= len(kept):
        return kept
    order = list(range(len(kept)))
    random.Random(seed).shuffle(order)
    chosen = set(order[:sample])
    return [c for i, c in enumerate(kept) if i in chosen]


def scored_cases(run_dir: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """A run's arm name and its scored cases by id; a run still going (or stopped) is
    read from its partial file."""
    from flowgen.evaluation.runner import PARTIAL, partial_records

    if (run_dir / "cases.jsonl").exists():
        arm = json.loads((run_dir / "summary.json").read_text())["arm"]["name"]
        lines = (run_dir / "cases.jsonl").read_text(encoding="utf-8").splitlines()
        return arm, {r["id"]: r for r in map(json.loads, lines)}
    scored = list(partial_records(run_dir / PARTIAL))
    arm = scored[-1][0]["name"] if scored else ""
    return f"{arm} (unfinished)", {r["id"]: r for _, r in scored}


def compare(dirs: list[Path], installation: str | None = None, flows_only: bool = False) -> None:
    """Several runs side by side, on the cases every one of them scored (runs on different
    samples of a split, or a full run beside a sampled one), optionally one
    installation's: each run's figures are recomputed from its cases.jsonl."""
    from flowgen.evaluation.summary import summary

    if not dirs:
        raise fail("name the result folders to compare")
    arms, runs = [], []
    for d in dirs:
        try:
            arm, records = scored_cases(d)
        except (OSError, ValueError, KeyError) as exc:
            raise fail(f"{d}: no readable results ({exc})") from None
        arms.append(arm)
        runs.append(records)
    common = set.intersection(*(set(run) for run in runs))
    if installation:
        common = {i for i in common if runs[0][i]["installation"] == installation}
    if flows_only:
        common = {i for i in common if not runs[0][i]["gold_refusal"]}
    if not common:
        where = f" in {installation}" if installation else ""
        raise fail(f"the runs have no case in common{where}")
    ids = sorted(common)
    summaries = [summary([run[i] for i in ids]) for run in runs]
    title = (
        f"{len(common)} cases scored by every run"
        + (f" ({installation})" if installation else "")
        + (", gold refusals left out" if flows_only else "")
    )
    table = RichTable("figure", *(d.name for d in dirs), title=title)
    table.add_row("arm", *arms)
    table.add_row("cases in the run", *(str(len(run)) for run in runs))
    for key in COMPARED:
        cells = []
        for s in summaries:
            value = s.get(key)
            cells.append(f"{value:.3f}" if isinstance(value, float) else str(value))
        table.add_row(key, *cells)
    for metric in ("flowsim_outline", "flowsim_full"):
        table.add_row(
            f"{metric}: cases above / below the first run",
            "—",
            *(paired_counts(runs[0], run, ids, metric) for run in runs[1:]),
        )
        table.add_row(
            f"{metric}: mean difference from the first run ± s.e.",
            "—",
            *(paired_difference(runs[0], run, ids, metric) for run in runs[1:]),
        )
    out.print(table)


def paired_counts(
    first: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]], ids: list[str], metric: str
) -> str:
    """Case by case: on how many cases a run scores above and below the first run (the
    means alone hide whether one run wins broadly or on a few cases)."""
    above = sum(other[i]["score"][metric] > first[i]["score"][metric] for i in ids)
    below = sum(other[i]["score"][metric] < first[i]["score"][metric] for i in ids)
    return f"{above} / {below}"


def paired_difference(
    first: dict[str, dict[str, Any]], other: dict[str, dict[str, Any]], ids: list[str], metric: str
) -> str:
    """The mean of the case-by-case differences from the first run, with its standard
    error: two arms on the same cases differ on few of them, so the paired error is far
    smaller than the spread of either run's scores, and it says whether a difference in
    the means is more than the noise of which cases happened to move."""
    differences = [other[i]["score"][metric] - first[i]["score"][metric] for i in ids]
    mean = statistics.fmean(differences)
    if len(differences) < 2:
        return f"{mean:+.3f}"
    error = statistics.stdev(differences) / math.sqrt(len(differences))
    return f"{mean:+.3f} ± {error:.3f}"


def _engine_label(engine: str) -> str:
    """`local` runs on the embedded runtime; the run's name says which one."""
    if engine != "local":
        return engine
    from flowgen.engine.factory import runtime_from_env

    return f"local-{runtime_from_env()}"
