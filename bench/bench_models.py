"""Benchmark the SQL models on a synthetic warehouse, against pandas + networkx.

    uv run python bench/bench_models.py                       # 1,000,000 papers, 5,000,000 authorships
    uv run python bench/bench_models.py --papers 20000 --authorships 100000

Generates a warehouse with DuckDB (hash-based randomness, so the same sizes give the same
data), builds every model with `flows.models`, runs the checks, then computes h, g, i10,
degree and connected components again with pandas + networkx from the same core tables, and
asserts both agree on a sample of authors. The two sides run in separate fresh processes so
each one's peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Final

import duckdb
import psutil

REPO: Final = Path(__file__).resolve().parents[1]
SQL_DIR: Final = REPO / "sql"
CATEGORIES: Final = [
    "cs.LG", "cs.AI", "cs.CV", "cs.CL", "cs.RO", "cs.CR", "cs.DS", "cs.IR", "stat.ML",
    "math.OC", "math.PR", "physics.comp-ph", "q-bio.NC", "eess.SP", "econ.EM", "hep-th",
]  # fmt: skip
SYLLABLES: Final = ["ra", "to", "ne", "mi", "ka", "lo", "su", "ve", "di", "an", "ex", "or"]

# hash-based uniform numbers in [0, 1): the same (i, salt) always gives the same number;
# hashing one string, because hash(i, salt) with two arguments correlates across salts
RANDOM_MACRO: Final = (
    "create or replace temp macro rnd(i, salt) as "
    "hash(salt || ':' || i::varchar) / 18446744073709551616.0"
)

# $papers, $authorships, $authors, $vocabulary, $categories are parameters, never formatted in
GENERATE: Final = [
    """
    create or replace table author as
    select
        'A' || lpad(range::varchar, 8, '0') as author_id,
        'Author ' || range as display_name,
        'author ' || range as name_key,
        'name_only' as kind,
        0 as n_profiles
    from range($authors)
    """,
    """
    create or replace table paper as
    select
        'P' || lpad(range::varchar, 9, '0') as paper_id,
        array_to_string(
            list_transform(
                range(4 + (rnd(range, 'n_words') * 6)::int),
                lambda j: $vocabulary[1 + floor(len($vocabulary) * pow(rnd(range * 16 + j, 'w'), 2))::int]
            ),
            ' '
        ) as title,
        case when rnd(range, 'no_year') >= 0.02
            then 1990 + floor(36 * sqrt(rnd(range, 'year')))::integer end as published_year,
        $categories[1 + floor(len($categories) * rnd(range, 'cat'))::int] as category,
        case when rnd(range, 'no_count') >= 0.1
            then (floor(exp(rnd(range, 'cites') * 8)) - 1)::bigint end as n_citations,
        rnd(range, 'truncated') < 0.03 as is_author_list_truncated
    from range($papers)
    """,
    """
    create or replace table authorship as
    with slots as (
        select
            'P' || lpad(floor($papers * rnd(range, 'slot_paper'))::bigint::varchar, 9, '0')
                as paper_id,
            -- heavy-tailed productivity: low author numbers are drawn far more often
            'A' || lpad(floor($authors * pow(rnd(range, 'slot_author'), 2))::bigint::varchar,
                8, '0') as author_id,
            range as slot
        from range($authorships)
    ),
    distinct_slots as (
        select paper_id, author_id, min(slot) as slot from slots group by paper_id, author_id
    )
    select
        paper_id,
        author_id,
        row_number() over (partition by paper_id order by slot)::integer as author_position,
        false as is_inferred
    from distinct_slots
    """,
    """
    create or replace table profile_snapshot as
    with owners as (
        select author_id, row_number() over (order by author_id) as owner_number
        from author
        where rnd(author_id, 'owner') < 0.02
    )
    select
        'S' || owner_number || '-' || capture as snapshot_id,
        author_id,
        timestamp '2024-01-01' + to_days((rnd(owner_number * 4 + capture, 'at') * 600)::int)
            as captured_at,
        case when capture % 2 = 0 then 'profile_page' else 'openalex' end as source,
        floor(rnd(owner_number * 4 + capture, 'h') * 40)::integer as h_index,
        floor(rnd(owner_number * 4 + capture, 'i10') * 60)::integer as i10_index,
        floor(rnd(owner_number * 4 + capture, 'np') * 200)::integer as n_papers,
        floor(rnd(owner_number * 4 + capture, 'nc') * 9000)::bigint as n_citations,
        floor(rnd(owner_number * 4 + capture, 'nov') * 100)::integer as novelty_pct,
        floor(rnd(owner_number * 4 + capture, 'ai') * 100)::integer as ai_score
    from owners, range(1 + floor(rnd(owner_number, 'n_caps') * 3)::int) as captures (capture)
    """,
    """
    create or replace table profile_paper as
    select
        snapshots.snapshot_id,
        snapshots.author_id,
        authorship.paper_id,
        row_number() over (partition by snapshots.snapshot_id order by authorship.paper_id)
            ::integer as line
    from profile_snapshot as snapshots
    join authorship on authorship.author_id = snapshots.author_id
    where rnd(snapshots.snapshot_id || authorship.paper_id, 'listed') < 0.9
    """,
    """
    create or replace table paper_citation as
    -- each capture shows the count of each paper it lists, as its source saw it then: at most
    -- the paper's latest count (one observation per paper, source and capture time)
    select
        profile_paper.paper_id,
        snapshots.source,
        snapshots.captured_at as observed_at,
        floor(
            paper.n_citations * (0.7 + 0.3 * rnd(snapshots.snapshot_id || paper.paper_id, 'seen'))
        )::bigint as n_citations,
        md5(snapshots.snapshot_id) as sha256
    from profile_paper
    join profile_snapshot as snapshots on snapshots.snapshot_id = profile_paper.snapshot_id
    join paper on paper.paper_id = profile_paper.paper_id
    where paper.n_citations is not null
    qualify row_number() over (
        partition by profile_paper.paper_id, snapshots.source, snapshots.captured_at
        order by snapshots.snapshot_id
    ) = 1
    """,
    """
    create or replace table paper_topic as
    select paper_id, 'arxiv' as scheme, category as topic from paper
    union all
    select
        paper_id,
        'arxiv' as scheme,
        $categories[1 + floor(len($categories) * rnd(paper_id, 'second'))::int] as topic
    from paper
    where rnd(paper_id, 'has_second') < 0.3
    """,
    """
    create or replace table ingest_file as
    select
        'data/raw/bench/' || range || '.txt' as path,
        md5(range::varchar) as sha256,
        case when range % 10 = 0 then 'quarantined' else 'loaded' end as status,
        case when range % 10 = 0 then 'not a known format' end as reason,
        'profile_page' as format,
        100 as n_papers
    from range(100)
    """,
]


def vocabulary() -> list[str]:
    """Pseudo-words of two and three syllables, so titles tokenise like text."""
    two = [a + b for a in SYLLABLES for b in SYLLABLES]
    three = [w + c for w in two[:120] for c in SYLLABLES[:6]]
    return two + three


class PeakSampler:
    """The process's resident memory, sampled in the background; peak since the last reset."""

    def __init__(self, interval: float = 0.02) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._peak = max(self._peak, self._process.memory_info().rss)

    def reset(self) -> None:
        self._peak = self._process.memory_info().rss

    def peak_mb(self) -> float:
        self._peak = max(self._peak, self._process.memory_info().rss)
        return self._peak / 2**20

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def step(rows: list[dict[str, Any]], sampler: PeakSampler, name: str) -> Iterator[dict[str, Any]]:
    """Time one step and record its peak memory into `rows`."""
    sampler.reset()
    started = time.perf_counter()
    row: dict[str, Any] = {"step": name, "rows": None}
    yield row
    row["seconds"] = time.perf_counter() - started
    row["peak_mb"] = sampler.peak_mb()
    rows.append(row)


def connect(db_path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection without the progress bar, which would clutter the printed table."""
    con = duckdb.connect(db_path, read_only=read_only)
    con.execute("set enable_progress_bar = false")
    return con


def max_rss_mb() -> float:
    """The process's lifetime peak resident memory (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(db_path: str, papers: int, authorships: int) -> list[dict[str, Any]]:
    """Write the synthetic core tables into a fresh DuckDB file."""
    sampler, rows = PeakSampler(), []
    parameters = {
        "papers": papers,
        "authorships": authorships + authorships // 100,  # a few repeated pairs collapse
        "authors": max(100, authorships // 10),
        "vocabulary": vocabulary(),
        "categories": CATEGORIES,
    }
    with connect(db_path) as con:
        con.execute(RANDOM_MACRO)
        for statement in GENERATE:
            table = statement.split("table", 1)[1].split()[0]
            with step(rows, sampler, f"generate {table}") as row:
                used = {k: v for k, v in parameters.items() if f"${k}" in statement}
                con.execute(statement, used)
                row["rows"] = con.table(table).count("*").fetchall()[0][0]
    sampler.stop()
    return rows


def build_models(db_path: str) -> dict[str, Any]:
    """Build every model and run every check, in a fresh process."""
    sys.path.insert(0, str(REPO))
    from flows.models import discover_checks, discover_models, model_settings, run_check, run_model

    sampler, rows = PeakSampler(), []
    started = time.perf_counter()
    with connect(db_path) as con, model_settings(con):
        for model in discover_models(SQL_DIR):
            with step(rows, sampler, f"sql {model.name}") as row:
                row["rows"] = run_model(con, model).n_rows
        with step(rows, sampler, "sql all checks") as row:
            results = [run_check(con, check) for check in discover_checks(SQL_DIR)]
            row["rows"] = sum(result.n_violations for result in results)
    failed = [result.describe() for result in results if not result.passed]
    total = {"step": "sql total", "rows": None, "seconds": time.perf_counter() - started}
    total["peak_mb"] = max_rss_mb()
    sampler.stop()
    return {"rows": [*rows, total], "failed_checks": failed}


def reference(db_path: str, sample: list[str]) -> dict[str, Any]:
    """h, g, i10, degree and components with pandas + networkx, in a fresh process."""
    import networkx as nx
    import pandas as pd

    sampler, rows = PeakSampler(), []
    started = time.perf_counter()
    with step(rows, sampler, "ref load core tables (duckdb -> pandas)") as row:
        with connect(db_path, read_only=True) as con:
            authorship = con.sql("select paper_id, author_id from authorship").df()
            paper = con.sql("select paper_id, n_citations from paper").df()
            authors = con.sql("select author_id from author").df()["author_id"]
        row["rows"] = len(authorship)
    with step(rows, sampler, "ref h/g/i10 (pandas)") as row:
        cited = authorship.drop_duplicates().merge(paper.dropna(), on="paper_id")
        cited = cited.sort_values(["author_id", "n_citations"], ascending=[True, False])
        by_author = cited.groupby("author_id", sort=False)
        rank = by_author.cumcount() + 1
        cumulative = by_author["n_citations"].cumsum()
        indices = pd.DataFrame(
            {
                "h_index": (cited["n_citations"] >= rank).groupby(cited["author_id"]).sum(),
                "g_index": (cumulative >= rank * rank).groupby(cited["author_id"]).sum(),
                "i10_index": (cited["n_citations"] >= 10).groupby(cited["author_id"]).sum(),
            }
        )
        row["rows"] = len(indices)
    with step(rows, sampler, "ref coauthor pairs (pandas)") as row:
        links = authorship.drop_duplicates()
        pairs = links.merge(links, on="paper_id", suffixes=("_a", "_b"))
        pairs = pairs.loc[pairs["author_id_a"] < pairs["author_id_b"]]
        edges = pairs[["author_id_a", "author_id_b"]].drop_duplicates()
        del pairs, links
        row["rows"] = len(edges)
    with step(rows, sampler, "ref graph build (networkx)") as row:
        graph = nx.Graph()
        graph.add_nodes_from(authors)
        graph.add_edges_from(zip(edges["author_id_a"], edges["author_id_b"], strict=True))
        row["rows"] = graph.number_of_edges()
    with step(rows, sampler, "ref degree + components (networkx)") as row:
        degree = dict(graph.degree())
        component_of: dict[str, tuple[str, int]] = {}
        n_components = 0
        for component in nx.connected_components(graph):
            label = (min(component), len(component))
            n_components += 1
            for node in component:
                component_of[node] = label
        row["rows"] = n_components
    total = {"step": "ref total", "rows": None, "seconds": time.perf_counter() - started}
    total["peak_mb"] = max_rss_mb()
    sampler.stop()

    def metric(author_id: str, column: str) -> int | None:
        return int(indices.at[author_id, column]) if author_id in indices.index else None

    results = {
        author_id: {
            "h_index": metric(author_id, "h_index"),
            "g_index": metric(author_id, "g_index"),
            "i10_index": metric(author_id, "i10_index"),
            "degree": degree[author_id],
            "component_id": component_of[author_id][0],
            "component_size": component_of[author_id][1],
        }
        for author_id in sample
    }
    return {"rows": [*rows, total], "sample": results}


def pick_sample(db_path: str, size: int) -> list[str]:
    """The most productive authors plus a spread of the rest (includes paperless ones)."""
    with connect(db_path, read_only=True) as con:
        top = con.sql(
            "select author_id from authorship group by author_id order by count(*) desc, 1 limit 50"
        ).fetchall()
        spread = con.execute(
            "select author_id from author order by hash(author_id) limit ?", [size]
        ).fetchall()
    return sorted({row[0] for row in top + spread})


def sql_sample(db_path: str, sample: list[str]) -> dict[str, dict[str, Any]]:
    columns = ["h_index", "g_index", "i10_index", "degree", "component_id", "component_size"]
    with connect(db_path, read_only=True) as con:
        rows = con.execute(
            "select author_metrics.author_id, h_index, g_index, i10_index, degree, "
            "component_id, component_size "
            "from author_metrics join author_network using (author_id) "
            "where author_metrics.author_id in (select unnest(?))",
            [sample],
        ).fetchall()
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in rows}


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'step':<44} {'rows':>12} {'seconds':>9} {'peak RSS MB':>12}")
    for row in rows:
        count = "" if row["rows"] is None else f"{row['rows']:,}"
        print(f"{row['step']:<44} {count:>12} {row['seconds']:>9.2f} {row['peak_mb']:>12,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--authorships", type=int, default=5_000_000)
    parser.add_argument("--sample", type=int, default=2000, help="authors compared")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp dir")
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.workdir) as workdir:
        db_path = str(Path(workdir) / "bench.duckdb")
        print(f"papers={args.papers:,} authorships={args.authorships:,} (target)")
        generated = in_fresh_process(generate, db_path, args.papers, args.authorships)
        built = in_fresh_process(build_models, db_path)
        sample = pick_sample(db_path, args.sample)
        referenced = in_fresh_process(reference, db_path, sample)
        ours = sql_sample(db_path, sample)

    print_table(generated + built["rows"] + referenced["rows"])
    disagreements = [
        (author_id, ours.get(author_id), expected)
        for author_id, expected in referenced["sample"].items()
        if ours.get(author_id) != expected
    ]
    print(
        f"compared {len(sample):,} authors on h, g, i10, degree, component_id, "
        f"component_size: {len(disagreements)} disagreement(s)"
    )
    print(f"failed checks: {len(built['failed_checks'])}")
    for text in built["failed_checks"]:
        print(text)
    if args.json:
        args.json.write_text(
            json.dumps({"generated": generated, **built, **referenced}, default=str)
        )
    assert not disagreements, disagreements[:5]
    assert not built["failed_checks"], built["failed_checks"]


if __name__ == "__main__":
    main()
