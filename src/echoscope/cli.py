"""The ``echoscope`` command. Thin: parses options, calls the stages, renders results.

Errors a user can fix are printed as one line (``error: ...``) with exit code 2; a
traceback is shown only with ECHOSCOPE_DEBUG=1.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from echoscope import __version__

app = typer.Typer(
    name="echoscope",
    help="Where a piece of text came from and who repeated it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    Path,
    typer.Option("--db", help="The store file (DuckDB).", envvar="ECHOSCOPE_DB"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (one line).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or tables.")]
CsvRawOpt = Annotated[
    bool,
    typer.Option(
        "--csv-raw",
        help="CSV cells exactly as stored, even those a spreadsheet would run as formulas "
        "(for machines, not spreadsheets).",
    ),
]


class UserError(Exception):
    """Something the user can fix; printed without a traceback."""


def _friendly(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from echoscope.ingest.dates import DateError
        from echoscope.ingest.detect import SourceError
        from echoscope.ingest.pathtemplate import TemplateError
        from echoscope.ingest.records import MappingError
        from echoscope.store import StoreError

        try:
            return fn(*args, **kwargs)
        except (UserError, SourceError, StoreError, TemplateError, MappingError, DateError) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print(
                "[yellow]interrupted[/]: committed batches are kept; run the same command again to complete"
            )
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as exc:
            if os.environ.get("ECHOSCOPE_DEBUG"):
                raise
            err.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
                "Set ECHOSCOPE_DEBUG=1 for the traceback and please report it.",
                highlight=False,
            )
            raise typer.Exit(3) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        out.print(f"echoscope {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Where a piece of text came from and who repeated it."""


# -- ingest ---------------------------------------------------------------------------
@app.command()
@_friendly
def ingest(
    sources: Annotated[
        list[str], typer.Argument(help="Files, folders, URLs (feeds or pages), .parquet exports.")
    ],
    db: DbOpt = Path("echoscope.duckdb"),
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="jsonl|csv|tsv|text|html|warc|feed|urls (default: detect)."
        ),
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Column mapping, e.g. text=content,source=author,published_at=publish_date.",
        ),
    ] = None,
    path_template: Annotated[
        str | None,
        typer.Option(
            "--path-template",
            help='Fields from file paths, e.g. "{date:%d.%m.%y}/{story}/{name}_{source}.txt".',
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Source (outlet/account) for records that name none."),
    ] = None,
    tz: Annotated[
        str, typer.Option("--tz", help="Time zone of dates that state none (IANA name).")
    ] = "UTC",
    max_doc_mb: Annotated[
        float, typer.Option("--max-doc-mb", help="Largest document accepted, in MB.")
    ] = 10.0,
    allow_private: Annotated[
        bool, typer.Option("--allow-private", help="Allow fetching loopback/private addresses.")
    ] = False,
    no_detect_language: Annotated[
        bool, typer.Option("--no-detect-language", help="Do not guess missing languages.")
    ] = False,
    path_date_offset: Annotated[
        float,
        typer.Option(
            "--path-date-offset",
            help="Days from a path's date to publication (e.g. 1: printed the next day).",
        ),
    ] = 0.0,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Read sources into the store. Bad records go to `rejects`; the batch goes on."""
    from echoscope.ingest.base import ReadOptions
    from echoscope.ingest.dates import get_zone
    from echoscope.ingest.detect import FORMATS, input_size
    from echoscope.ingest.fetch import FetchPolicy
    from echoscope.ingest.pathtemplate import PathTemplate
    from echoscope.ingest.pipeline import ingest as run_ingest
    from echoscope.ingest.records import parse_mapping
    from echoscope.store import Store

    if fmt is not None and fmt not in FORMATS:
        raise UserError(f"unknown --format {fmt!r}; choose from {', '.join(FORMATS)}")
    if max_doc_mb <= 0:
        raise UserError("--max-doc-mb must be positive")
    try:
        zone = get_zone(tz)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    opts = ReadOptions(
        source=source,
        mapping=parse_mapping(mapping),
        path_template=PathTemplate(path_template) if path_template else None,
        tz=zone,
        max_doc_bytes=int(max_doc_mb * 1024 * 1024),
        fetch=FetchPolicy(allow_private=allow_private),
        format=fmt,
        detect_language=not no_detect_language,
        path_date_offset_days=path_date_offset,
    )
    show = not quiet and not as_json
    with Store(db) as store:
        total = input_size(sources)
        if (show and err.is_terminal) or (show and os.environ.get("ECHOSCOPE_PROGRESS")):
            columns = [
                TextColumn("[bold]ingest"),
                BarColumn(),
                DownloadColumn() if total else MofNCompleteColumn(),
                TransferSpeedColumn() if total else TextColumn(""),
                TextColumn("{task.fields[records]:,} records"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
            ]
            with Progress(*columns, console=err, transient=True) as bar:
                task = bar.add_task("ingest", total=total or None, records=0)
                summary = run_ingest(
                    store,
                    sources,
                    opts,
                    progress=lambda done, n: bar.update(task, completed=done, records=n),
                )
        else:
            summary = run_ingest(store, sources, opts)
    result = summary.as_dict()
    result["db"] = str(db)
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
    elif not quiet:
        _print_summary(result)
    if summary.read == 0 or summary.read == summary.rejected:
        if not as_json:
            err.print(f"[bold red]error:[/] {summary.message}")
        raise typer.Exit(1)


def _print_summary(s: dict) -> None:
    table = Table(
        title=f"ingest run {s['run_id']} into {escape(str(s['db']))}", show_header=False, box=None
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("read", f"{s['read']:,}")
    table.add_row("stored", f"[green]{s['stored']:,}[/]")
    table.add_row("duplicates skipped", f"{s['duplicates']:,}")
    table.add_row("rejected", f"[red]{s['rejected']:,}[/]" if s["rejected"] else "0")
    table.add_row("warnings", f"[yellow]{s['warnings']:,}[/]" if s["warnings"] else "0")
    if s.get("undated"):
        table.add_row("without a date", f"[yellow]{s['undated']:,}[/]")
    rate = f" ({s['docs_per_s']:,.0f} records/s)" if s.get("docs_per_s") else ""
    table.add_row("time", f"{s['seconds']:.1f} s{rate}")
    out.print(table)
    for reason, n in s["reject_reasons"].items():
        out.print(f"  [red]rejected[/] {n:,} × {escape(str(reason))}", highlight=False)
    for kind, n in s["warning_kinds"].items():
        out.print(f"  [yellow]warning[/] {n:,} × {escape(str(kind))}", highlight=False)
    if s["rejected"]:
        out.print("  see them with: echoscope rejects", highlight=False)
    if s.get("undated"):
        out.print(
            "  documents without a date cannot be ordered by time: the trees order them by "
            "text alone, at low confidence (--map or --path-template can point at a date)",
            highlight=False,
        )


# -- stats ----------------------------------------------------------------------------
@app.command()
@_friendly
def stats(db: DbOpt = Path("echoscope.duckdb"), as_json: JsonOpt = False) -> None:
    """Counts per table, source and language, and the date range."""
    from echoscope.store import Store

    with Store(db, read_only=True) as store:
        data = store.stats()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str))
        return
    out.print(
        f"[bold]{escape(str(data['db']))}[/]: {data['documents']:,} documents, "
        f"{data['rejects']:,} rejects, "
        f"{data['ingest_runs']:,} ingest runs",
        highlight=False,
    )
    dr = data["date_range"]
    out.print(f"published {dr['min'] or '?'} … {dr['max'] or '?'}", highlight=False)
    for title, key in (
        ("sources", "sources"),
        ("languages", "languages"),
        ("time from", "time_sources"),
    ):
        table = Table(title=title if key != "sources" else f"sources ({data['source_count']:,})")
        table.add_column(title.split()[0])
        table.add_column("documents", justify="right")
        items = list(data[key].items())
        for name, n in items[:15]:
            table.add_row(escape(str(name)), f"{n:,}")  # source names are document content
        if len(items) > 15:
            table.add_row(f"… {len(items) - 15:,} more", "")
        out.print(table)


# -- rejects --------------------------------------------------------------------------
@app.command()
@_friendly
def rejects(
    db: DbOpt = Path("echoscope.duckdb"),
    limit: Annotated[int, typer.Option(help="How many to list.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """What could not be read, where, and why (raw bytes are kept in the store)."""
    from echoscope.store import Store

    with Store(db, read_only=True) as store:
        frame = store.rejects().head(limit)
    rows = frame.to_dict(orient="records")
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    table = Table(title=f"rejects (first {limit})")
    for col in ("run_id", "origin", "position", "reason", "raw_size"):
        table.add_column(col)
    for r in rows:  # origins and reasons quote the input: escaped
        table.add_row(
            str(r["run_id"]),
            escape(str(r["origin"])),
            escape(str(r["position"])),
            escape(str(r["reason"])),
            str(r["raw_size"]),
        )
    out.print(table)


# -- analyze --------------------------------------------------------------------------
STAGES = ("reuse", "claims", "cascade")


@contextmanager
def _stage_progress(label: str, show: bool):
    """A progress callback drawing one bar per step of a stage (nothing when quiet)."""
    if not show:
        yield None
        return
    with Progress(
        TextColumn(f"[bold]{label}: " + "{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        yield progress


@app.command()
@_friendly
def analyze(
    db: DbOpt = Path("echoscope.duckdb"),
    stage: Annotated[
        str, typer.Option("--stage", help="Stage to run: reuse, claims, cascade, or all.")
    ] = "all",
    shingle: Annotated[int, typer.Option(help="Words per shingle.")] = 5,
    threshold: Annotated[
        float, typer.Option(help="Jaccard similarity the near-duplicate index targets.")
    ] = 0.5,
    num_perm: Annotated[int, typer.Option("--num-perm", help="MinHash permutations.")] = 128,
    min_shared: Annotated[
        int, typer.Option("--min-shared", help="Rare shingles two texts must share to be aligned.")
    ] = 3,
    max_df: Annotated[
        int, typer.Option("--max-df", help="Ignore shingles found in more documents than this.")
    ] = 100,
    min_tokens: Annotated[
        int, typer.Option("--min-tokens", help="Shortest passage reported, in words.")
    ] = 8,
    cross_source: Annotated[
        bool, typer.Option("--cross-source", help="Only pairs from different sources.")
    ] = False,
    max_days: Annotated[
        float | None, typer.Option("--max-days", help="Only pairs published within N days.")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Drop the index and results; redo everything.")
    ] = False,
    engine: Annotated[str, typer.Option(help="Engine: local.")] = "local",
    workers: Annotated[int | None, typer.Option(help="Worker processes for alignment.")] = None,
    aliases: Annotated[
        Path | None,
        typer.Option(
            help="File of source<TAB>alias|alias: how outlets are named in text (for credits)."
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="Sentence-embedding model for claims (name, hub id or folder); "
            "default: the store's, else the packaged all-MiniLM-L6-v2."
        ),
    ] = None,
    min_words: Annotated[
        int, typer.Option("--min-words", help="Shortest sentence treated as a claim, in words.")
    ] = 5,
    credit_model: Annotated[
        bool,
        typer.Option(
            "--credit-model/--no-credit-model",
            help="Check the attribution rules with the learned sentence scorer (reads each "
            "copy's sentences once, up to 400; --no-credit-model is faster on a large corpus).",
        ),
    ] = True,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run the detect stages on new documents (incremental; --rebuild to redo)."""
    from echoscope.detect.reuse.stage import ReuseError, ReuseParams, run_reuse
    from echoscope.engine import get_engine
    from echoscope.store import Store

    stages = STAGES if stage == "all" else (stage,)
    for s in stages:
        if s not in STAGES:
            raise UserError(f"unknown stage {s!r}; stages: {', '.join(STAGES)}, all")
    try:
        params = ReuseParams(
            shingle=shingle,
            threshold=threshold,
            num_perm=num_perm,
            min_shared=min_shared,
            max_df=max_df,
            min_tokens=min_tokens,
            cross_source=cross_source,
            max_days=max_days,
        )
        eng = get_engine(engine, workers=workers)
    except (ReuseError, ValueError) as exc:
        raise UserError(str(exc)) from exc
    result: dict = {}
    show = not quiet and not as_json
    with Store(db) as store:
        if "reuse" in stages:
            try:
                with _stage_progress("reuse", show) as progress:
                    summary = run_reuse(store, params, eng, progress=progress, rebuild=rebuild)
            except ReuseError as exc:
                raise UserError(str(exc)) from exc
            result["reuse"] = summary.as_dict()
        if "claims" in stages:
            from echoscope.detect.claims.embed import ModelError
            from echoscope.detect.claims.stage import ClaimsError, ClaimsParams, run_claims
            from echoscope.detect.claims.stage import reset as reset_claims

            try:
                if rebuild:
                    reset_claims(store)
                with _stage_progress("claims", show) as progress:
                    result["claims"] = run_claims(
                        store, ClaimsParams(model=model, min_words=min_words), progress=progress
                    ).as_dict()
            except (ClaimsError, ModelError) as exc:
                raise UserError(str(exc)) from exc
        if "cascade" in stages:
            from echoscope.trace.attribution import load_aliases
            from echoscope.trace.cascade import run_cascades

            if aliases is not None and not aliases.is_file():
                raise UserError(f"no aliases file at {aliases}")
            with _stage_progress("cascade", show) as progress:
                result["cascade"] = run_cascades(
                    store, load_aliases(aliases), credit_model=credit_model, progress=progress
                ).as_dict()
    if as_json:
        print(json.dumps(result, default=str))
    elif not quiet and "reuse" in result:
        r = result["reuse"]
        if not r["new_documents"]:
            out.print(
                f"[bold]reuse[/]: no new documents since the last run "
                f"({r['links_total']:,} links, {r['clusters']:,} clusters in the store)",
                highlight=False,
            )
        else:
            out.print(
                f"[bold]reuse[/]: {r['new_documents']:,} new documents; candidates "
                + ", ".join(f"{k} {v:,}" for k, v in r["candidates"].items())
                + f"; {r['links_added']:,} links added ({r['links_total']:,} in all), "
                f"{r['clusters']:,} clusters, {r['boilerplate_links']:,} boilerplate links",
                highlight=False,
            )
        if r["kinds"]:
            out.print(
                "  " + ", ".join(f"{k}: {v:,}" for k, v in r["kinds"].items()), highlight=False
            )
    if not as_json and not quiet and "claims" in result:
        c = result["claims"]
        out.print(
            f"[bold]claims[/]: {c['new_documents']:,} new documents, {c['new_sentences']:,} sentences "
            f"({c['embedded']:,} embedded with {escape(str(c['model']))}); "
            f"{c['texts_total']:,} distinct sentences "
            f"indexed, {c['links_total']:,} matches, {c['clusters']:,} claim clusters"
            + (
                f" ({c['boilerplate']:,} sentences left out as a source's boilerplate)"
                if c.get("boilerplate")
                else ""
            ),
            highlight=False,
        )
    if not as_json and not quiet and "cascade" in result:
        c = result["cascade"]
        out.print(
            f"[bold]cascades[/]: {c['clusters']:,} trees, {c['roots']:,} first appearances, {c['edges']:,} copies "
            f"({c['attributed']:,} credit their source, {c['unattributed']:,} do not; "
            f"{c['low_confidence']:,} low-confidence edges)",
            highlight=False,
        )
        if c.get("claims"):
            k = c["claims"]
            out.print(
                f"[bold]claim trees[/]: {k['clusters']:,} claims, {k['roots']:,} first "
                f"statements, {k['edges']:,} repetitions ({k['attributed']:,} credit their "
                f"source, {k['unattributed']:,} do not)",
                highlight=False,
            )
        status = c.get("credit_model", "off")
        if status.startswith("off:"):
            out.print(f"[yellow]credit scorer {escape(status)}[/]", highlight=False)
        elif status not in ("off", "not needed"):
            out.print(
                f"[bold]credit scorer[/]: {c['credits_vetoed']:,} rule credits overruled, "
                f"{c['credits_learned']:,} credits found that no rule knew ({escape(str(status))})"
                + (
                    f"; {c['credit_model_reused']:,} copies' scores kept from earlier runs"
                    if c.get("credit_model_reused")
                    else ""
                ),
                highlight=False,
            )
        if c.get("credit_scores_off"):
            out.print(
                "[yellow]credit scorer: its scores could not be kept in the store, so the next "
                f"run reads every copy again: {escape(str(c['credit_scores_off']))}[/]",
                highlight=False,
            )
        if c.get("credit_model_skipped"):
            out.print(
                f"credit scorer: {c['credit_model_skipped']:,} copies not in English left to "
                "the rules",
                highlight=False,
            )


@app.command()
@_friendly
def trace(
    claim: Annotated[
        str | None, typer.Argument(help="The claim to trace, in any words.", show_default=False)
    ] = None,
    doc: Annotated[
        str | None, typer.Option("--doc", help="Trace a sentence of this document instead.")
    ] = None,
    sentence: Annotated[
        int, typer.Option("--sentence", help="Which sentence of --doc (from 0).")
    ] = 0,
    db: DbOpt = Path("echoscope.duckdb"),
    model: Annotated[
        str | None, typer.Option(help="Must be the model the store's index was built with.")
    ] = None,
    review: Annotated[
        bool,
        typer.Option("--review/--same-only", help="Also show possible re-wordings to check."),
    ] = True,
    limit: Annotated[int, typer.Option(help="Occurrences to show (JSON has all).")] = 50,
    near: Annotated[
        str | None,
        typer.Option(
            "--near",
            help="When the claim was posted (a date, or 'doc' for --doc's date): "
            "occurrences close to it need less textual evidence. For matching one post "
            "to the fact-check about it; leave it out to find a claim's origin.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Where a claim comes from and who repeated it: every sentence stating it, in time order."""
    from echoscope.detect.claims.embed import ModelError
    from echoscope.detect.claims.stage import ClaimsError
    from echoscope.store import Store
    from echoscope.trace.claims import ClaimTracer

    if (claim is None) == (doc is None):
        raise UserError("give a claim to trace, or --doc ID [--sentence N]; not both")
    with Store(db, read_only=True) as store:
        try:
            tracer = ClaimTracer(store, model=model)
            when = None
            if doc is not None:
                document = store.get_document(doc)
                if document is None:
                    raise UserError(f"no document with id {doc!r} in {db}")
                claim = tracer.sentence(doc, sentence)
                if near == "doc":
                    when = document["published_at"]
                    if when is None:
                        raise UserError(f"document {doc!r} has no date: give --near DATE")
            if near is not None and when is None:
                when = _near_date(near)
            result = tracer.trace(claim or "", review=review, near=when)
        except (ClaimsError, ModelError) as exc:
            raise UserError(str(exc)) from exc
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
        return
    occ = result.by_document()
    same = sum(o.status == "same" for o in occ)
    out.print(
        f"[bold]{escape(result.query)}[/]\n{same} document(s) state this claim"
        + (f", {len(occ) - same} more to review" if review else "")
        + f" (model {escape(str(result.model))}, {result.seconds * 1000:.0f} ms"
        + (f"; scored as posted near {result.near:%Y-%m-%d}" if result.near else "")
        + ")",
        highlight=False,
    )
    if not occ:
        out.print(
            "No match. Run `echoscope analyze` after ingesting new documents, if you have not."
        )
        return
    table = Table(show_lines=False)
    table.add_column("", no_wrap=True)
    table.add_column("published", no_wrap=True)
    table.add_column("source / document", ratio=1, overflow="fold")
    table.add_column("score", no_wrap=True, justify="right")
    table.add_column("sentence", ratio=2, overflow="fold")
    for o in occ[:limit]:
        mark = (
            "[bold green]first[/]"
            if o.earliest
            else ("" if o.status == "same" else "[dim]review[/]")
        )
        when = o.published_at.strftime("%Y-%m-%d %H:%M") if o.published_at else "?"
        table.add_row(
            mark,
            when,
            escape(f"{o.source or '?'}\n{o.doc_id}"),
            f"{o.score:.2f}",
            escape(o.sentence),
        )
    out.print(table)
    if len(occ) > limit:
        out.print(f"… {len(occ) - limit} more (--limit, or --json for all)")
    first = result.earliest
    if first is not None and result.first_ties:
        out.print(
            f"first: {escape(first.doc_id)}, but its time ({first.time_precision} precision) "
            f"cannot be told apart from: {escape(', '.join(result.first_ties))}",
            highlight=False,
        )
    tree_rows = [
        {
            "seq": o.doc_id,
            "doc": o.doc_id,
            "source": o.source,
            "published_at": o.published_at,
            "parent_seq": o.parent_doc,
            "parent_source": o.parent_source,
            "confidence": o.parent_confidence,
            "time_relation": o.parent_relation,
            "attributed": o.attributed,
            "credit_kind": o.credit_kind,
            "credit_text": o.credit_text,
        }
        for o in occ[:limit]
        if o.in_tree and o.status == "same"
    ]
    if tree_rows:
        # who repeated whom among the documents stating the claim (not those for review),
        # from the claim clusters' propagation trees (cascade stage)
        out.print(
            _tree_view(tree_rows, "[bold]propagation[/] (who repeated whom, and credit)", True),
            highlight=False,
        )


def _near_date(text: str):
    from echoscope.ingest.dates import DateError, parse_date

    if text == "doc":
        raise UserError("--near doc needs --doc ID")
    try:
        return parse_date(text)[0]
    except DateError as exc:
        raise UserError(f"--near: {exc}") from exc


@app.command()
@_friendly
def reuse(
    doc_id: Annotated[str, typer.Argument(help="Document id (see `echoscope export` or stats).")],
    db: DbOpt = Path("echoscope.duckdb"),
    limit: Annotated[int, typer.Option(help="Links to show.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Passages of one document reused elsewhere (or copied from elsewhere), side by side."""
    from rich.panel import Panel

    from echoscope.detect.reuse.results import document_reuse
    from echoscope.present.diff import diff_words, to_rich
    from echoscope.store import Store

    with Store(db, read_only=True) as store:
        try:
            data = document_reuse(store, doc_id)
        except KeyError:
            raise UserError(f"no document with id {doc_id!r} in {db}") from None
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str))
        return
    links = data["links"]
    shown = f", the first {limit} shown" if len(links) > limit else ""
    out.print(
        f"[bold]{escape(doc_id)}[/] ({escape(str(data['source'] or '?'))}, "
        f"{data['published_at'] or 'date unknown'}): {_count(len(links), 'reuse link')}{shown}",
        highlight=False,
    )
    if not links:
        out.print("No reuse found. Run `echoscope analyze` after ingesting, if you have not.")
        return
    for link in links[:limit]:
        arrow = "copied by" if link["role"] == "source" else "copies"
        head = (
            f"{arrow} [bold]{escape(str(link['other']))}[/] ({escape(str(link['other_source'] or '?'))}, "
            f"{link['other_published_at'] or '?'}) — "
            f"{link['kind']}, identity {link['identity']:.2f}, covers {link['coverage_this']:.0%} of this"
            + (" [dim](boilerplate)[/]" if link["boilerplate"] else "")
        )
        table = Table(show_header=True, expand=True, box=None)
        table.add_column(escape(f"this [{doc_id}]"), ratio=1)
        table.add_column(escape(f"other [{link['other']}]"), ratio=1)
        for p in link["passages"]:
            a, b = diff_words(p["this"]["text"], p["other"]["text"])
            table.add_row(to_rich(a), to_rich(b))
            table.add_row(
                f"[dim]chars {p['this']['begin']}–{p['this']['end']}[/]",
                f"[dim]chars {p['other']['begin']}–{p['other']['end']}, identity {p['identity']:.2f}[/]",
            )
        out.print(head, highlight=False)
        out.print(Panel(table))
    if len(links) > limit:
        out.print(f"… {len(links) - limit} more (use --limit or --json)")


@app.command()
@_friendly
def cascade(
    cluster_id: Annotated[int, typer.Argument(help="Reuse cluster id (see `echoscope origins`).")],
    db: DbOpt = Path("echoscope.duckdb"),
    claim: Annotated[
        bool,
        typer.Option("--claim", help="CLUSTER_ID is a claim cluster (`origins --claims`)."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The propagation tree of one cluster: who published first, who copied whom, who credited."""
    from echoscope.store import Store
    from echoscope.trace.cascade import timeline, tree

    with Store(db, read_only=True) as store:
        with _claim_trees_built():
            frame = tree(store, cluster_id, claims=claim)
        spread = timeline(store, [cluster_id], claims=claim).get(cluster_id) if len(frame) else None
    if frame.empty:
        hint = f"run `echoscope analyze`, then `echoscope origins{' --claims' if claim else ''}`"
        if not claim:
            with Store(db, read_only=True) as store, suppress(Exception):
                if not tree(store, cluster_id, claims=True).empty:
                    hint = f"claim cluster {cluster_id} exists: add --claim"
        raise UserError(f"no {'claim ' if claim else ''}cluster {cluster_id} ({hint})")
    rows = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    if as_json:
        for r in rows:
            r["evidence"] = json.loads(r["evidence"]) if isinstance(r["evidence"], str) else None
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    kind = "claim cluster" if claim else "cluster"
    title = f"[bold]{kind} {cluster_id}[/]: {_count(len(rows), 'document')} (times in UTC)"
    out.print(_tree_view(rows, title, claim), highlight=False)
    if spread and spread["steps"]:
        table = Table(title=f"over time (per {spread['unit']})")
        for col in ("from", "documents", "new sources", "total documents", "total sources"):
            table.add_column(col, justify="left" if col == "from" else "right")
        for step in spread["steps"][:60]:
            table.add_row(
                step["start"][:16].replace("T", " "),
                *(
                    str(step[k])
                    for k in ("documents", "new_sources", "total_documents", "total_sources")
                ),
            )
        out.print(table)
        if spread["undated"]:
            out.print(f"{spread['undated']} undated document(s) not on the timeline")


def _opening(text: str, n: int) -> str:
    words = " ".join(text.split())
    return words if len(words) <= n else words[: n - 1].rstrip() + "…"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _duration(value) -> str:
    """A spread as a person reads it: 45 s, 6 min, 3.5 h, 12 days."""
    import pandas as pd

    if value is None or value != value or str(value) == "NaT":
        return "—"
    seconds = pd.Timedelta(value).total_seconds()
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"


@contextmanager
def _claim_trees_built():
    """A store from before claim trees has no claim_cascade_edges: say what to run."""
    import duckdb

    try:
        yield
    except duckdb.CatalogException as exc:
        raise UserError("this store has no claim trees yet: run `echoscope analyze`") from exc


def _tree_view(rows: list[dict], title: str, claim: bool):
    """A rich tree of documents under their parents (escaped: names are document content)."""
    from rich.tree import Tree

    root = Tree(title)
    verb = "repeats" if claim else "copies"

    from echoscope.trace.cascade import relation_words, when_text

    def label(r: dict) -> str:
        text = f"{when_text(r['published_at'])}  [bold]{escape(str(r['source'] or '?'))}[/]  {escape(str(r['doc']))}"
        if r["parent_seq"] is None:
            return text + "  [cyan](first appearance)[/]"
        if r["attributed"]:
            words = str(r["credit_text"])
            if not str(r["credit_kind"]).startswith("link") and len(words) > 80:
                words = words[:79] + "…"  # a link is evidence to follow: always whole
            credit = f"[green]credits it ({r['credit_kind']}: {escape(words)})[/]"
        else:
            credit = "[red]no credit[/]"
            from echoscope.trace.cascade import other_credit

            other = other_credit(r.get("evidence"))
            if other:
                credit += f" [yellow](credits another source: {escape(other)})[/]"
        return text + (
            f"\n   {verb} {escape(str(r['parent_source'] or '?'))}: confidence "
            f"{r['confidence']:.2f} ({relation_words(r['time_relation'])}), {credit}"
        )

    nodes: dict = {}
    pending = list(rows)
    while pending:
        rest = []
        for r in pending:
            parent = r["parent_seq"]
            if parent is None:
                nodes[r["seq"]] = root.add(label(r))
            elif parent in nodes:
                nodes[r["seq"]] = nodes[parent].add(label(r))
            else:
                rest.append(r)
        if len(rest) == len(pending):  # parents outside the cluster: show at the top
            for r in rest:
                nodes[r["seq"]] = root.add(label(r))
            break
        pending = rest
    return root


@app.command()
@_friendly
def origins(
    db: DbOpt = Path("echoscope.duckdb"),
    limit: Annotated[int, typer.Option(min=0, help="Clusters to list (0: all).")] = 20,
    claims: Annotated[
        bool, typer.Option("--claims", help="Claim clusters (repeated in any words) instead.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The largest reuse clusters: first source, spread, and the copies that gave no credit.

    A copy's parent comes with a confidence: low (below 0.5) when times cannot order the
    pair (a tie, a missing date); `cascade CLUSTER_ID` shows why, per copy."""
    from echoscope.store import Store
    from echoscope.trace.cascade import origins as load_origins
    from echoscope.trace.cascade import timeline, when_text

    with Store(db, read_only=True) as store:
        with _claim_trees_built():
            frame = load_origins(store, limit, claims=claims)
        rows = frame.to_dict(orient="records")
        if as_json:  # how each cluster spread: documents and sources per hour, day or week
            spread = timeline(store, [r["cluster_id"] for r in rows], claims=claims)
            for r in rows:
                r["timeline"] = spread.get(int(r["cluster_id"]))
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if not rows:
        out.print("No cascades yet: run `echoscope analyze` first.")
        return
    table = Table(title="origins of claims" if claims else "origins")
    # a claim's opening words take the room of when and how far it spread (in --json)
    columns = ["cluster"] + (
        ["claim", "first source"]
        if claims
        else ["first source", "first published (UTC)", "sources", "spread"]
    )
    columns += ["docs", "copies", "uncredited", "low conf."]
    numeric = ("cluster", "docs", "sources", "copies", "uncredited", "low conf.")
    for col in columns:
        table.add_column(col, justify="right" if col in numeric else "left")
    for r in rows:
        share = (
            f"{r['unattributed']} ({r['unattributed'] / r['copies']:.0%})" if r["copies"] else "—"
        )
        cells = {
            "cluster": str(r["cluster_id"]),
            "claim": escape(_opening(str(r.get("claim") or ""), 70)),
            "first source": escape(str(r["first_source"])),
            "first published (UTC)": when_text(r["first_published"]),
            "sources": str(r["sources"]),
            "spread": _duration(r["spread"]),
            "docs": str(r["documents"]),
            "copies": str(r["copies"]),
            "uncredited": share,
            "low conf.": str(r["low_confidence"]),
        }
        table.add_row(*(cells[c] for c in columns))
    out.print(table)


@app.command()
@_friendly
def sources(
    db: DbOpt = Path("echoscope.duckdb"),
    limit: Annotated[int, typer.Option(min=0, help="Sources to list (0: all).")] = 30,
    claims: Annotated[
        bool,
        typer.Option(
            "--claims", help="Count in the claim trees (claims repeated in any words) instead."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Per source: how often it publishes first, how often it copies, and whether it credits.

    "low conf." counts the copies whose parent is a guess (a tie, a missing date): they are
    in "uncredited" too, but may not be copies at all. With --claims, a document counts once
    per claim it states: first, or repeating an earlier source."""
    from echoscope.store import Store
    from echoscope.trace.cascade import source_stats

    with Store(db, read_only=True) as store, _claim_trees_built() if claims else nullcontext():
        frame = source_stats(store, claims=claims)
    rows = (frame.head(limit) if limit else frame).to_dict(orient="records")
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if not rows:
        out.print(
            "No claim trees yet: run `echoscope analyze`."
            if claims
            else "No cascades yet: run `echoscope analyze` first."
        )
        return
    if claims:
        title, first, copies = "sources of claims: first, repeat, credit", "stated first", "repeats"
    else:
        title, first, copies = "sources: originate, copy, credit", "first appearances", "copies"
    table = Table(title=title)
    columns = ("source", first, copies, "credited", "uncredited", "low conf.")
    for col in columns:
        table.add_column(col, justify="left" if col == "source" else "right")
    for r in rows:
        table.add_row(
            escape(str(r["source"])),  # a source's name is document content
            str(r["originated"]),
            str(r["copied"]),
            str(r["credited"]),
            str(r["uncredited"]),
            str(r["low_confidence"]),
        )
    out.print(table)


def _parse_window(value: str) -> float | None:
    """'60', '60s', '5m', '1h' -> seconds; 'auto' -> None."""
    value = value.strip().lower()
    if value == "auto":
        return None
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if value and value[-1] in units:
            return float(value[:-1]) * units[value[-1]]
        return float(value)
    except ValueError:
        raise UserError(
            f"--window takes seconds (60, 60s, 5m, 1h) or auto, not {value!r}"
        ) from None


@app.command()
@_friendly
def coordination(
    db: DbOpt = Path("echoscope.duckdb"),
    kind: Annotated[
        str,
        typer.Option(
            "--type", help="co-text | co-similar | co-claim | co-link | co-hashtag | co-repost"
        ),
    ] = "co-text",
    window: Annotated[
        str, typer.Option(help="Time window: 60s, 5m, 1h, or auto (fast-share quantile).")
    ] = "60s",
    min_repeat: Annotated[
        int, typer.Option("--min-repeat", help="Distinct items a pair must share.")
    ] = 2,
    null_runs: Annotated[
        int, typer.Option("--null-runs", help="Shuffled runs for significance (0: none).")
    ] = 20,
    alpha: Annotated[
        float, typer.Option(help="Keep edges with p <= alpha (with a null model).")
    ] = 0.05,
    null_model: Annotated[
        str,
        typer.Option(
            "--null-model", help="day (random time that day) or rhythm (the actor's own hours)."
        ),
    ] = "day",
    exclude_reposts: Annotated[
        bool, typer.Option("--exclude-reposts", help="Leave out reposts/retweets.")
    ] = False,
    export_path: Annotated[
        Path | None, typer.Option("--export", help="Write the network: .gexf, .graphml or .csv.")
    ] = None,
    directed: Annotated[
        bool,
        typer.Option(
            "--directed",
            help="Export arcs leader -> follower (mutual pairs: one arc each way, mutual=true).",
        ),
    ] = False,
    lead_share: Annotated[
        float,
        typer.Option(
            "--lead-share",
            help="A leader went first on at least this share of the pair's ordered items "
            "(above 0.5, at most 1).",
        ),
    ] = 0.8,
    lead_min: Annotated[
        int, typer.Option("--lead-min", help="... and on at least this many of them.")
    ] = 2,
    limit: Annotated[int, typer.Option(help="Groups to show.")] = 10,
    csv_raw: CsvRawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Accounts or outlets that act on the same items within a window, repeatedly.

    An edge's leader went first on 80%+ of the pair's items that were not ties,
    and on 2 or more of them (--lead-share, --lead-min); other edges are mutual (no
    leader)."""
    from echoscope.detect.coordination.actions import KINDS, actions
    from echoscope.detect.coordination.export import write_network
    from echoscope.detect.coordination.groups import add_labels, find_groups
    from echoscope.detect.coordination.network import auto_window, co_action_edges
    from echoscope.detect.coordination.significance import score_edges, significant
    from echoscope.store import Store

    if kind not in KINDS:
        raise UserError(f"unknown --type {kind!r}; types: {', '.join(KINDS)}")
    if min_repeat < 1:
        raise UserError("--min-repeat must be at least 1")
    seconds = _parse_window(window)
    with Store(db, read_only=True) as store:
        acts = actions(store, kind, exclude_reposts=exclude_reposts)
        if seconds is None:
            seconds = auto_window(store, acts)
        try:
            edges = co_action_edges(
                store, acts, seconds, min_repeat, lead_share=lead_share, lead_min=lead_min
            )
        except ValueError as exc:
            raise UserError(f"--lead-share/--lead-min: {exc}") from exc
        if null_model not in ("day", "rhythm"):
            raise UserError("--null-model is day or rhythm")
        scored = score_edges(store, acts, edges, seconds, runs=null_runs, model=null_model)
        kept = significant(scored, null_runs, alpha)
        groups = find_groups(kept, acts, seconds)
        add_labels(store, groups)
    if export_path is not None:
        try:
            write_network(
                scored,
                export_path,
                {m: g.group_id for g in groups for m in g.members},
                directed=directed,
                spreadsheet_safe=not csv_raw,
            )
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    result = {
        "type": kind,
        "window_s": seconds,
        "min_repeat": min_repeat,
        "null_runs": null_runs,
        "alpha": alpha,
        "actions": len(acts),
        "edges": len(scored),
        "significant_edges": len(kept),
        "led_edges": int(kept["leader"].notna().sum()),  # of the significant ones
        "groups": [g.__dict__ for g in groups],
    }
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))
        return
    out.print(
        f"[bold]{kind}[/] within {seconds:g} s, {min_repeat}+ items: {len(scored):,} edges"
        + (f", {len(kept):,} unlikely by chance (p <= {alpha})" if null_runs > 0 else "")
        + f"; {len(groups):,} groups",
        highlight=False,
    )

    for g in groups[:limit]:
        table = Table(
            title=f"group {g.group_id}: {len(g.members)} members, score {g.score}", show_header=True
        )
        table.add_column("members")
        table.add_column("evidence")
        evidence = [
            f"{g.items} items co-posted, median delay {g.median_delay_s:.0f} s"
            if g.median_delay_s is not None
            else f"{g.items} items"
        ]
        if g.first_mover:
            evidence.append(f"usually first: {escape(g.first_mover)}")
        for e in g.top_edges[:3]:  # the strongest edges that have a consistent leader
            if e.get("leader"):
                evidence.append(
                    f"{escape(e['leader'])} leads {escape(e['follower'])}"
                    f" (first on {e['lead_share']:.0%} of their ordered items)"
                )
        for it in g.top_items[:3]:
            label = escape(str(it.get("label") or it["item"])[:60])
            evidence.append(
                f"{it['actors']} accounts, {it['posts']} posts within {it['span_s']:.0f} s: {label}"
            )
        members = "\n".join(escape(m) for m in g.members[:20])
        table.add_row(members + ("\n…" if len(g.members) > 20 else ""), "\n".join(evidence))
        out.print(table)
    if export_path is not None:
        out.print(f"network written to {escape(str(export_path))}", highlight=False)


# -- export ---------------------------------------------------------------------------
@app.command()
@_friendly
def export(
    out_path: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="parquet|jsonl|csv")] = "parquet",
    table: Annotated[
        str,
        typer.Option(
            help="documents, reuse_links, reuse_passages, reuse_clusters, cascade_edges (with evidence), claim_clusters, claim_links or claim_cascade_edges."
        ),
    ] = "documents",
    db: DbOpt = Path("echoscope.duckdb"),
    csv_raw: CsvRawOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a table (documents by default) to Parquet, JSON Lines or CSV.

    CSV cells a spreadsheet would run as formulas ("=HYPERLINK(...)" in a hostile post)
    are written with a leading apostrophe, which spreadsheets hide; --csv-raw writes them
    as stored."""
    from echoscope.store import Store

    with Store(db, read_only=True) as store:
        n = store.export_table(table, out_path, fmt, spreadsheet_safe=not csv_raw)
    if as_json:
        print(json.dumps({"rows": n, "table": table, "out": str(out_path), "format": fmt}))
    else:
        out.print(
            f"wrote {n:,} rows of {table} to {escape(str(out_path))} ({fmt})", highlight=False
        )


# -- report ---------------------------------------------------------------------------
@app.command()
@_friendly
def report(
    db: DbOpt = Path("echoscope.duckdb"),
    out_path: Annotated[
        Path, typer.Option("--out", help="The HTML file to write (one file, no outside assets).")
    ] = Path("report.html"),
    title: Annotated[str, typer.Option(help="The report's title.")] = "echoscope report",
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """One self-contained HTML file of what the store holds: timeline, propagation trees
    with their credits, aligned passages, claims and coordination."""
    import duckdb

    from echoscope.present.report import write_report
    from echoscope.store import Store

    if not db.exists():
        raise UserError(f"no store at {db}: run `echoscope ingest` and `echoscope analyze` first")
    if out_path.is_dir():
        raise UserError(f"{out_path} is a folder: give the report's file name with --out")
    try:
        with Store(db, read_only=True) as store:
            path = write_report(store, out_path, title=title)
    except duckdb.CatalogException as exc:
        raise UserError(
            f"this store was made by an older echoscope: run `echoscope analyze` ({exc})"
        ) from exc
    except OSError as exc:
        raise UserError(f"cannot write {out_path}: {exc.strerror or exc}") from exc
    if as_json:
        print(json.dumps({"report": str(path)}))
    elif not quiet:
        out.print(f"report [bold]{escape(str(path))}[/]", highlight=False)


# -- demo -----------------------------------------------------------------------------
@app.command()
@_friendly
def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the example corpus and outputs go.")
    ] = Path("demo-output"),
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """The main job on the built-in example: build the corpus, ingest it, write the report."""
    from echoscope.demo.run import run_demo

    result = run_demo(workdir, console=None if (quiet or as_json) else out)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str))


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `echoscope stats | head`
        sys.stderr.close()


if __name__ == "__main__":
    main()
