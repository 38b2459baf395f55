"""`flowgen train` and its kin: fine-tune adapters, the retriever and the refusal guard."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from flowgen import shipped
from flowgen.cli.console import fail, out
from flowgen.cli.data_commands import CatalogsOption, corpus_files, load_catalogs


def log_line(step: int, total: int, info: str, every: int = 10) -> None:
    """A plain progress line now and then when the output is a log file, where the
    progress bar shows nothing until the end."""
    if not out.is_terminal and (step % every == 0 or step == total):
        out.print(f"step {step}/{total} · {info}", highlight=False)


def train_command(
    cases: Annotated[list[Path] | None, typer.Option("--cases", help="Case files.")] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", help="Adapter folder.", show_default="the shipped default adapter"),
    ] = None,
    installation: Annotated[
        str | None, typer.Option(help="Only this installation's cases (a tenant adapter).")
    ] = None,
    leave_out: Annotated[
        list[str] | None,
        typer.Option(
            "--leave-out",
            help="Leave this installation's cases out (a general adapter that a tenant "
            "adapter is then measured against, the tenant's data unseen).",
        ),
    ] = None,
    init_from: Annotated[
        str | None, typer.Option(help="Start from an adapter: a path or `default`.")
    ] = None,
    max_cases: Annotated[int | None, typer.Option(help="Sample this many cases.")] = None,
    inputs_share: Annotated[
        float,
        typer.Option(
            help="Share of flow cases trained on their whole conversation (outline and "
            "every item's inputs); the others train their outline call alone."
        ),
    ] = 1.0,
    subflow_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="With --max-cases: at least this share of the synthetic sample are "
            "subflow definitions (3% of the synthetic corpus).",
        ),
    ] = 0.0,
    long_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="With --max-cases: at least this share of the synthetic sample are long "
            "flows (6 components or more; a quarter of the synthetic corpus).",
        ),
    ] = 0.0,
    refusal_examples: Annotated[
        bool,
        typer.Option(
            help="Teach the outline call to refuse with the refusal cases. Off by default: "
            "the refusal guard decides refusals, and refusal examples tipped a small "
            "tenant adapter into refusing every request (docs/training.md)."
        ),
    ] = False,
    epochs: Annotated[float, typer.Option()] = 1.0,
    lr: Annotated[float, typer.Option()] = 3e-4,
    seed: Annotated[int, typer.Option()] = 0,
    examples_per_prompt: Annotated[
        int,
        typer.Option(
            "--examples",
            min=0,
            max=8,
            help="Solved flows per prompt, from the shared library (synced from the train "
            "cases first) with each case and its near-copies left out.",
        ),
    ] = 3,
    same_shape_examples: Annotated[
        bool,
        typer.Option(
            help="Let a case's prompts show library flows of its own outline shape (as "
            "every shipped adapter was trained). `--no-same-shape-examples` leaves them "
            "out, so train prompts show examples as helpful as dev's at inference; adapter "
            "v13 tried it and lost on dev (docs/training.md).",
        ),
    ] = True,
    base_model: Annotated[
        Path | None,
        typer.Option(help="A Hugging Face model folder instead of the embedded SmolLM2."),
    ] = None,
) -> None:
    """Fine-tune a LoRA adapter on the train split (both tasks, prompts as at inference).
    Runs on the GPU when torch sees one."""
    from flowgen.db.example_flows import ExampleFlow
    from flowgen.db.store import CatalogStore
    from flowgen.db.sync import sync_file
    from flowgen.prompts import PROMPT_VERSION
    from flowgen.training.cases import read_cases, training_cases
    from flowgen.training.examples import build_examples, file_hash, library_cases, read_examples
    from flowgen.training.train import TrainConfig, train

    files = cases or corpus_files()
    out_dir = out_dir or shipped.adapters_dir() / "default"
    chosen, refusals = training_cases(
        read_cases(files),
        installation,
        leave_out or [],
        refusal_examples,
        max_cases,
        seed,
        subflow_share,
        long_share,
    )
    if refusals:
        out.print(f"left {refusals} refusal cases to the guard (--refusal-examples keeps them)")
    if not chosen:
        raise fail("no training cases")
    store = CatalogStore()
    all_cases = read_cases(files)
    catalog_files = shipped.catalogs()
    for name in sorted({c.installation for c in all_cases if c.split == "train"}):
        if name not in catalog_files:
            raise fail(f"no shipped catalog for {name!r} in {shipped.catalogs_dir()}")
        sync_file(catalog_files[name], store.engine)
    library = library_cases(all_cases)
    if examples_per_prompt:
        # The shared library is the train pool: prompts show its flows as inference will.
        pool = [ExampleFlow(c.id, c.installation, c.requirement, c.flow or {}) for c in library]
        out.print(f"shared library: {store.sync_flows(None, pool, 'train cases').as_dict()}")
    out_dir.mkdir(parents=True, exist_ok=True)
    examples_file = out_dir / "examples.jsonl"
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    ]
    with Progress(*columns) as progress:
        task = progress.add_task("examples", total=len(chosen), info="")
        stats = build_examples(
            chosen,
            store,
            examples_file,
            lambda: progress.advance(task),
            examples_per_prompt,
            library=None if same_shape_examples else library,
        )
    out.print(f"examples: {stats}")
    examples = read_examples(examples_file)
    # A flow case trains either its whole conversation (which holds its outline call)
    # or, left out of the inputs share, its outline call alone.
    flow_ids = sorted({e.case_id for e in examples if e.task == "inputs"})
    kept = set(random.Random(seed).sample(flow_ids, round(len(flow_ids) * inputs_share)))
    examples = [e for e in examples if (e.task == "inputs") == (e.case_id in kept)]
    out.print(f"whole conversations of {len(kept)} of {len(flow_ids)} flow cases")
    init = (
        shipped.adapters_dir() / "default"
        if init_from == "default"
        else (Path(init_from) if init_from else None)
    )
    meta = {
        "prompt_version": PROMPT_VERSION,
        "data_sha256": file_hash(examples_file),
        "cases": len(chosen),
        "installation": installation,
        "left_out": leave_out or [],
        "example_stats": stats.__dict__,
        "inputs_share": inputs_share,
        "subflow_share": subflow_share,
        "long_share": long_share,
        "refusal_examples": refusal_examples,
        "examples_per_prompt": examples_per_prompt,
        "same_shape_examples": same_shape_examples,
        "examples_trained": len(examples),
    }
    with Progress(*columns) as progress:
        task = progress.add_task("training", total=None, info="")

        def on_step(step: int, total: int, loss: float, tps: float) -> None:
            info = f"loss {loss:.3f} · {tps:.0f} tok/s"
            progress.update(task, completed=step, total=total, info=info)
            log_line(step, total, info)

        result = train(
            examples,
            out_dir,
            TrainConfig(
                epochs=epochs,
                lr=lr,
                seed=seed,
                base_model=str(base_model.resolve()) if base_model else None,
            ),
            init_from=init,
            metadata=meta,
            on_step=on_step,
        )
    examples_file.unlink()  # rebuilt from the cases; not shipped
    out.print_json(json.dumps({k: v for k, v in result.__dict__.items() if k != "losses"}))


def train_retriever_command(
    cases: Annotated[list[Path] | None, typer.Option("--cases", help="Case files.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Default: the data dir, where the store uses it.")
    ] = None,
    epochs: Annotated[int, typer.Option()] = 1,
    batch_size: Annotated[int, typer.Option()] = 32,
    lr: Annotated[float, typer.Option()] = 2e-5,
    seed: Annotated[int, typer.Option()] = 0,
    catalogs: CatalogsOption = None,
) -> None:
    """Fine-tune the retriever's encoder on annotation → step/table pairs of the train
    split; print vector recall@5 on the dev split before and after."""
    from flowgen.db.embedder import TUNED_META, default_embedder, tuned_model_path
    from flowgen.training.cases import read_cases
    from flowgen.training.retriever import recall_at, retrieval_pairs, train_retriever

    by_installation = load_catalogs(catalogs)
    every = read_cases(cases or corpus_files())
    train_pairs = retrieval_pairs([c for c in every if c.split == "train"], by_installation)
    dev_pairs = retrieval_pairs([c for c in every if c.split == "dev"], by_installation)
    if not train_pairs:
        raise fail("no train-split pairs")
    base = default_embedder()
    before = recall_at(base.encode, dev_pairs, by_installation)
    out.print(f"{len(train_pairs)} train pairs, {len(dev_pairs)} dev pairs")
    out.print(f"dev recall@5 before ({base.model_id}): {before}")
    target = out_dir or tuned_model_path()
    with Progress(
        TextColumn("retriever"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
    ) as progress:
        task = progress.add_task("train", total=None, info="")

        def on_step(step: int, total: int, loss: float) -> None:
            progress.update(task, completed=step, total=total, info=f"loss {loss:.3f}")
            log_line(step, total, f"loss {loss:.3f}")

        meta = train_retriever(
            train_pairs,
            by_installation,
            base.path,
            target,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            on_step=on_step,
        )
    from flowgen.db.embedder import Embedder

    tuned = Embedder(target)
    after = recall_at(tuned.encode, dev_pairs, by_installation)
    out.print(f"dev recall@5 after ({meta['model_id']}): {after}")
    meta |= {"dev_recall_at_5_before": before, "dev_recall_at_5_after": after}
    (target / TUNED_META).write_text(json.dumps(meta, indent=2) + "\n")
    if out_dir is None:
        # Stored vectors must come from the encoder that embeds the queries: re-embed
        # every installation now (a running `flowgen serve` needs a restart).
        from flowgen.db.store import CatalogStore
        from flowgen.db.sync import sync_catalog

        store = CatalogStore(embedder=tuned)
        for info in store.installations():
            if info.synced_at is not None:
                summary = sync_catalog(
                    store.load_catalog(info.id), store.engine, embedder=tuned, source=info.source
                )
                out.print(f"re-embedded {info.id}: {summary.embedded} items")
        for flows in store.reembed_flows():
            out.print(f"re-embedded {flows.library}'s example flows: {flows.embedded}")
        out.print(f"saved to {target}; the store uses it from now on")


def tune_refusal_command(
    cases: Annotated[list[Path] | None, typer.Option("--cases", help="Case files.")] = None,
    adapter: Annotated[
        str, typer.Option(help="A shipped adapter's name, or an adapter folder.")
    ] = "default",
    base_model: Annotated[
        Path | None,
        typer.Option(help="The adapter's base (a Hugging Face folder) if not the embedded one."),
    ] = None,
    tune_split: Annotated[
        str, typer.Option(help="Split whose flows the adapter never saw (bias chosen on them).")
    ] = "train",
    report: Annotated[
        list[str] | None, typer.Option("--report", help="Splits to report refusal rates on.")
    ] = None,
    max_false: Annotated[
        float, typer.Option(help="Share of legitimate tuning requests that may be refused.")
    ] = 0.03,
    write: Annotated[bool, typer.Option(help="Store the bias in the adapter's metadata.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Margins as JSON lines.")] = None,
) -> None:
    """Choose the adapter's refusal bias: first-token margins of refusal vs flow, one
    forward pass per hand-written case, bias set on legitimate requests it never saw."""
    from flowgen.db.store import CatalogStore
    from flowgen.engine.decoding import ConstrainedDecoder
    from flowgen.graph.generator import ADAPTER_META, default_engine, shipped_adapters
    from flowgen.tools.catalog_tools import CatalogTools
    from flowgen.training.cases import read_cases
    from flowgen.training.refusal_bias import choose_bias, refusal_margins, refused_share

    splits = [tune_split, *(report or ["dev"])]
    files = cases or corpus_files("handwritten*.jsonl")
    chosen = [c for c in read_cases(files) if c.split in splits and c.source == "handwritten"]
    folder = shipped_adapters().get(adapter) or Path(adapter)
    if not (folder / "adapter_config.json").is_file():
        raise fail(f"{adapter!r} is neither a shipped adapter nor an adapter folder")
    if base_model is None and folder in shipped_adapters().values():
        engine = default_engine()
        name = adapter
    else:  # a larger base on the GPU machine: the in-process engine uses CUDA there
        from flowgen.engine.local import LocalEngine

        engine = LocalEngine(model_dir=base_model, adapters={"tuned": folder})
        name = "tuned"
    if not isinstance(engine, ConstrainedDecoder):  # a FLOWGEN_MODEL_URL server
        raise fail("margins need the model's logits: unset FLOWGEN_MODEL_URL")
    store = CatalogStore()
    tools: dict[str, CatalogTools] = {}

    def tools_for(installation: str) -> CatalogTools:
        if installation not in tools:
            tools[installation] = CatalogTools(store, installation)
        return tools[installation]

    columns = (TextColumn("margins"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("margins", total=len(chosen))

        def advance(_: object) -> None:
            bar.advance(task)
            log_line(int(bar.tasks[0].completed), len(chosen), "cases", every=25)

        margins = refusal_margins(engine, name, chosen, tools_for, advance)
    tuned = [m for m in margins if m.split == tune_split]
    bias = choose_bias(tuned, max_false)
    out.print(f"refusal bias {bias:.3f} (at most {max_false:.0%} of {tune_split} flows refused)")
    for split in splits:
        here = [m for m in margins if m.split == split]
        for b, label in ((0.0, "no bias"), (bias, "tuned")):
            out.print(
                f"{split:6} {label:8} refusals caught {refused_share(here, b, True):.0%} "
                f"of {sum(m.refusal for m in here)} · flows refused "
                f"{refused_share(here, b, False):.0%} of {sum(not m.refusal for m in here)}"
            )
    if out_file:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text("".join(json.dumps(m.__dict__) + "\n" for m in margins))
    if write:
        meta_path = folder / ADAPTER_META
        meta = json.loads(meta_path.read_text())
        meta["refusal_bias"] = round(bias, 3)
        meta["refusal_bias_tuning"] = {"split": tune_split, "max_false": max_false}
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        out.print(f"written to {meta_path}")


def train_guard_command(
    cases: Annotated[list[Path] | None, typer.Option("--cases", help="Case files.")] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Default: the shipped guard.")
    ] = None,
    max_false: Annotated[
        float, typer.Option(help="Share of held-out hand-written train flows it may refuse.")
    ] = 0.03,
    c: Annotated[float, typer.Option("--c", help="Inverse regularisation strength.")] = 16.0,
    words_weight: Annotated[
        float,
        typer.Option(help="Length of the words' TF-IDF vector beside the embedding (0: none)."),
    ] = 2.0,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train the refusal guard on the train split; report it on every other split."""
    from flowgen.db.embedder import base_embedder
    from flowgen.training.cases import read_cases
    from flowgen.training.guard import guard_report, train_guard

    every = read_cases(cases or corpus_files())
    embedder = base_embedder()
    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task("embed", total=len(every))
        vectors = embedder.encode(
            [case.requirement for case in every], lambda n: bar.advance(task, n)
        )
    train = [i for i, case in enumerate(every) if case.split == "train"]
    guard = train_guard(
        [every[i] for i in train],
        vectors[train],
        embedder.model_id,
        max_false=max_false,
        c=c,
        words_weight=words_weight or None,
        seed=seed,
    )
    reports = {}
    for split in sorted({case.split for case in every if case.split} - {"train"}):
        rows = [i for i, case in enumerate(every) if case.split == split]
        reports[split] = guard_report(guard, [every[i] for i in rows], vectors[rows])
        out.print(f"{split:5} {reports[split]}")
    guard.meta["reports"] = reports
    target = out_file or shipped.guard_file()
    guard.save(target)
    out.print(f"threshold {guard.threshold:.4f} · {guard.meta} · saved to {target}")


def soup_command(
    adapters: Annotated[
        list[Path],
        typer.Argument(help="Adapter folders written by `flowgen train` from the same start."),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="A new folder for the soup.")],
    max_rank: Annotated[
        int | None,
        typer.Option(help="Keep the mean update's leading directions up to this rank."),
    ] = None,
) -> None:
    """Average adapters into one (a model soup): its update is the mean of theirs."""
    from flowgen.training.soup import SoupError, soup

    try:
        report = soup(adapters, out_dir, max_rank=max_rank)
    except SoupError as exc:
        raise fail(str(exc)) from None
    out.print(
        f"soup of {len(report.ingredients)} adapters → {out_dir}: rank {report.rank},"
        f" {report.kept_energy:.2%} of the mean update kept, {report.megabytes:.1f} MB"
    )
