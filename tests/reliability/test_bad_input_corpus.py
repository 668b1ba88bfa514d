"""The bad-input corpus (`corpus.py`) ingested in one run beside the real sample.

Every reader call on every corpus file is timed on its own; then the whole landing zone goes
through the real flow. Every file must end in `ingest_file` as loaded, duplicate or
quarantined with a specific reason, the sample must lose nothing, raw files must not change,
and a file caught half-written must be read again, whole, by the next run. The class →
outcome table is printed to the test output and written to the test's temporary folder.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.formats import read_dump
from flows.formats.records import ParsedFile, Quarantine
from tests.conftest import SAMPLE
from tests.flow_helpers import ingest
from tests.reliability import corpus
from tests.reliability.corpus import BAD, Case, class_of, clean_text_of, owner_of, shown_name

pytestmark = pytest.mark.usefixtures("prefect_harness")

READ_LIMIT_S: Final = 2.5
SAMPLE_PATH: Final = f"{SAMPLE.parent.name}/{SAMPLE.name}"
STATUSES: Final = frozenset({"loaded", "duplicate", "quarantined"})


@dataclass
class CorpusRun:
    """The corpus, what each reader call made of each file, and what the flow made of it."""

    raw: Path
    outside: Path
    warehouse: Path
    report: Path
    cases: list[Case]
    reads: dict[str, tuple[str, float]] = field(default_factory=dict)  # path → outcome, s
    crashes: list[str] = field(default_factory=list)
    entries: set[str] = field(default_factory=set)  # every entry of the landing zone
    before: dict[str, tuple[object, ...]] = field(default_factory=dict)
    after_first: dict[str, tuple[object, ...]] = field(default_factory=dict)
    ledger: pl.DataFrame = field(default_factory=pl.DataFrame)  # first run
    ledger_second: pl.DataFrame = field(default_factory=pl.DataFrame)
    run_error: str | None = None

    def query(self, sql: str, parameters: list[object] | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(sql, parameters or []).fetchall()


def walk(raw: Path) -> Iterator[tuple[str, Path]]:
    """Every entry under raw (files, links, pipes) as the ledger names it, never following a
    link into a folder."""
    for folder, folders, files in os.walk(raw):
        links = [name for name in folders if Path(folder, name).is_symlink()]
        for name in [*files, *links]:
            path = Path(folder, name)
            yield shown_name(path.relative_to(raw).as_posix()), path


def landing_zone_entries(raw: Path) -> dict[str, tuple[object, ...]]:
    """What each entry is: content hash, size and mtime of a regular file; target of a link."""
    found: dict[str, tuple[object, ...]] = {}
    for key, path in walk(raw):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[key] = ("link", str(path.readlink()), info.st_mtime_ns)
        elif stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 22):
                    digest.update(chunk)
            found[key] = ("file", digest.hexdigest(), info.st_size, info.st_mtime_ns)
        else:
            found[key] = ("other", stat.S_IFMT(info.st_mode), info.st_mtime_ns)
    return found


def _ledger(warehouse: Path) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(
            "select path, sha256, status, reason, format, n_papers, n_failures "
            "from ingest_file order by path"
        ).pl()


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> CorpusRun:
    root = tmp_path_factory.mktemp("corpus")
    raw = root / "raw"
    (raw / SAMPLE.parent.name).mkdir(parents=True)
    (raw / SAMPLE.parent.name / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    result = CorpusRun(
        raw, root / "outside", root / "wh" / "scholar.duckdb", root / "bad_input_report.md", []
    )
    result.cases = corpus.write_corpus(raw, result.outside)
    result.before = landing_zone_entries(raw)
    result.entries = set(result.before)

    for path, full in sorted(walk(raw)):
        if result.before[path][0] != "file":
            continue
        data = full.read_bytes()
        started = time.perf_counter()
        try:
            parsed = read_dump(data)
            outcome = f"{parsed.format}, {len(parsed.papers)} papers"
        except Quarantine as quarantine:
            outcome = f"quarantine: {quarantine.reason}"
        except Exception as error:  # a reader crash: counted and reported, never hidden
            outcome = f"CRASH {type(error).__name__}: {error}"
            result.crashes.append(f"{path}: {outcome}")
        result.reads[path] = (outcome, time.perf_counter() - started)

    try:
        ingest(raw, result.warehouse)
        result.ledger = _ledger(result.warehouse)
        result.after_first = landing_zone_entries(raw)
        corpus.still_being_written_rest(raw)
        ingest(raw, result.warehouse)
        result.ledger_second = _ledger(result.warehouse)
    except Exception as error:
        result.run_error = f"{type(error).__name__}: {error}"
    return result


def _rows_of(run: CorpusRun, name: str, ledger: pl.DataFrame | None = None) -> list[dict]:
    frame = run.ledger if ledger is None else ledger
    return [row for row in frame.iter_rows(named=True) if class_of(row["path"]) == name]


def test_every_reader_call_on_the_corpus_returns_or_quarantines_within_the_time_limit(
    run: CorpusRun,
):
    assert run.crashes == []
    slow = {path: round(secs, 2) for path, (_, secs) in run.reads.items() if secs > READ_LIMIT_S}
    assert slow == {}
    assert len(run.reads) >= 60


def test_the_run_completes_and_every_entry_of_the_landing_zone_is_accounted_for(run: CorpusRun):
    assert run.run_error is None
    for ledger in (run.ledger, run.ledger_second):
        paths = set(ledger["path"].to_list())
        assert paths == run.entries, {
            "not in ingest_file": sorted(run.entries - paths),
            "not in the landing zone": sorted(paths - run.entries),
        }
        assert set(ledger["status"].to_list()) <= STATUSES
        quarantined = ledger.filter(pl.col("status") == "quarantined")
        assert quarantined.filter(pl.col("reason").is_null() | (pl.col("reason") == "")).is_empty()


@pytest.mark.parametrize("case", corpus.cases(), ids=lambda case: case.name)
def test_each_class_of_bad_input_gets_its_expected_outcome(run: CorpusRun, case: Case):
    assert run.run_error is None
    rows = _rows_of(run, case.name)
    assert rows, f"no file of class {case.name} in ingest_file"
    expect = case.expect
    for row in rows:
        if expect.status != "any":
            assert row["status"] == expect.status, row
        else:
            assert row["status"] in STATUSES, row
        if expect.reason is not None:
            assert expect.reason in (row["reason"] or "").lower(), row
        if row["status"] == "loaded":
            if expect.page_papers:
                clean = len(read_dump(clean_text_of(case.name).encode()).papers)
                assert row["n_papers"] == expect.page_papers * clean, row
            if expect.papers is not None:
                assert row["n_papers"] == expect.papers, row
        if expect.failure is not None:
            reasons = run.query("select reason from ingest_failure where path = ?", [row["path"]])
            assert any(expect.failure in reason.lower() for (reason,) in reasons), reasons


def test_the_real_sample_loses_nothing_beside_the_corpus(run: CorpusRun):
    assert run.run_error is None
    sample = run.ledger.filter(pl.col("path") == SAMPLE_PATH).row(0, named=True)
    assert (sample["status"], sample["n_papers"], sample["n_failures"]) == ("loaded", 22, 0)
    titles = [paper.title for paper in read_dump(SAMPLE.read_bytes()).papers]
    found = run.query(
        "select count(distinct title) from paper where list_contains(?, title)", [titles]
    )
    assert found == [(22,)]
    assert run.query(
        "select h_index, n_papers, n_citations, novelty_pct, ai_score from profile_snapshot "
        "where path = ?",
        [SAMPLE_PATH],
    ) == [(16, 22, 1248, 41, 49)]
    assert run.query(
        "select count(*) from profile_paper join profile_snapshot using (snapshot_id) "
        "where path = ?",
        [SAMPLE_PATH],
    ) == [(22,)]


def test_raw_files_are_never_changed_by_the_runs(run: CorpusRun):
    assert run.run_error is None
    assert run.after_first == run.before
    # The second run saw the completed file (changed by its writer, not by the pipeline).
    after_second = landing_zone_entries(run.raw)
    changed = {path for path in run.before if after_second.get(path) != run.before[path]}
    assert changed == {f"{BAD}/still_being_written/page.txt"}


def test_a_file_caught_half_written_is_read_again_and_loaded_whole(run: CorpusRun):
    assert run.run_error is None
    (first,) = _rows_of(run, "still_being_written")
    (second,) = _rows_of(run, "still_being_written", run.ledger_second)
    whole = len(read_dump(clean_text_of("still_being_written").encode()).papers)
    assert first["status"] == second["status"] == "loaded"
    assert first["n_papers"] < whole == second["n_papers"]
    assert (
        second["sha256"]
        == hashlib.sha256(clean_text_of("still_being_written").encode()).hexdigest()
    )
    observed = run.query("select count(*) from paper_observation where path = ?", [second["path"]])
    assert observed == [(whole,)]


def test_hostile_titles_names_and_file_names_are_stored_verbatim(run: CorpusRun):
    assert run.run_error is None
    for title in (
        "Robert'); drop table paper; -- and Friends",
        "<b>Bold</b> <script>alert('x')</script> &amp; Friends",
        r"On $\mathcal{O}(n^{2})$ Bounds for \textbf{Sparse} Attention",
        "深度学习中的图神经网络研究",
    ):
        assert run.query("select count(*) from paper where title = ?", [title]) == [(1,)], title
    for name in ("李雅欣", "محمد علي", "דוד כהן"):
        assert run.query("select count(*) from author where display_name = ?", [name]) == [(1,)]
    for path in (
        f'{BAD}/file_name_quotes_semicolons_spaces/it\'s a "page"; drop table paper; --.txt',
        f"{BAD}/file_name_newline/two\nlines.txt",
        f"{BAD}/file_name_unicode/プロフィール ñandú.txt",
    ):
        assert run.query("select status from ingest_file where path = ?", [path]) == [("loaded",)]


def test_impossible_and_future_dates_are_kept_as_unknown_and_flagged(run: CorpusRun):
    assert run.run_error is None
    impossible = run.query(
        "select published_on, flags from paper_observation where path = ? and date_text = ?",
        [f"{BAD}/impossible_date/page.txt", "Feb 30, 2023"],
    )
    assert (
        len(impossible) == 1 and impossible[0][0] is None and "impossible_date" in impossible[0][1]
    )
    future = run.query(
        "select published_on::varchar, flags from paper_observation "
        "where path = ? and date_text = ?",
        [f"{BAD}/future_date/page.txt", "Dec 31, 2099"],
    )
    assert len(future) == 1 and future[0][0] == "2099-12-31"
    assert "date_after_capture" in future[0][1]


def test_links_are_never_followed_and_nothing_outside_is_read(run: CorpusRun):
    assert run.run_error is None
    links = run.ledger.filter(pl.col("path").str.contains("/(link.txt|dated|elsewhere)$"))
    assert links.height == 4
    assert set(links["reason"].to_list()) == {"symbolic link: not followed"}
    assert links["sha256"].null_count() == 4
    for name in ("symlink_to_file_outside", "symlink_to_folder_outside"):
        owner = owner_of(name)
        assert run.query("select count(*) from author where display_name = ?", [owner]) == [(0,)]
    through_links = [
        path
        for path in run.ledger["path"].to_list()
        if path.startswith(
            (f"{BAD}/symlink_to_folder_inside/", f"{BAD}/symlink_to_folder_outside/")
        )
        and path.count("/") > 2
    ]
    assert through_links == []


def test_report_of_the_bad_input_corpus(run: CorpusRun, capsys: pytest.CaptureFixture[str]):
    """The class → outcome table, in the test output and beside the test's files."""
    lines = [
        "| class | what | outcome (first run) | reader call |",
        "|---|---|---|---|",
    ]
    ledger = run.ledger if run.run_error is None else pl.DataFrame(schema={"path": pl.String})
    for case in run.cases:
        rows = [r for r in ledger.iter_rows(named=True) if class_of(r["path"]) == case.name]
        outcome = "; ".join(_describe(row) for row in rows) or "MISSING"
        reads = [
            f"{secs:.3f}s" for path, (_, secs) in run.reads.items() if class_of(path) == case.name
        ]
        lines.append(
            f"| {case.name} | {case.what} | {_cell(outcome)} | {', '.join(reads) or 'not read'} |"
        )
    counts = Counter(str(r["status"]) for r in ledger.iter_rows(named=True) if class_of(r["path"]))
    unaccounted = len(run.entries ^ set(ledger["path"].to_list()))
    summary = (
        f"classes tried: {len(run.cases)} (+ hypothesis mutations of the sample); "
        f"files: {len(run.entries)}; outcomes: {dict(sorted(counts.items()))}; "
        f"crashes: {len(run.crashes) + (run.run_error is not None)}; "
        f"files unaccounted for: {unaccounted}"
    )
    text = "\n".join(["# Bad input corpus", "", summary, "", *lines, ""])
    run.report.write_text(text, encoding="utf-8")
    with capsys.disabled():
        print(f"\n{text}\n(written to {run.report})", flush=True)
    assert run.run_error is None and not run.crashes and unaccounted == 0


def _describe(row: dict) -> str:
    if row["status"] == "loaded":
        return f"loaded ({row['format']}, {row['n_papers']} papers, {row['n_failures']} failures)"
    return f"{row['status']}: {row['reason']}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:160]


_NASTY: Final = [
    b"\x00", b"\xff", b"\xc3", b"\r", b"\r\n", b"\n\n", b"\n", "١٦".encode(), "\u200b".encode(),
    "\u202e".encode(), b"Feb 30, 2023", b"IRMay 29\n", b"h-index", b"papers", b"{", b"[",
    b"et al.", "·".encode(), b",,", b" Papers\n", b"Code", b"\t", "李".encode(),
]  # fmt: skip
_SAMPLE_BYTES: Final = SAMPLE.read_bytes()


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    data = bytearray(_SAMPLE_BYTES)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        cut = draw(st.integers(0, 40))
        data[at : at + cut] = draw(st.sampled_from(_NASTY))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sample())
def test_mutated_sample_pages_only_ever_load_or_quarantine_and_read_the_same_twice(data: bytes):
    outcomes = []
    for _ in range(2):
        started = time.perf_counter()
        try:
            outcomes.append(read_dump(data))
        except Quarantine as quarantine:
            outcomes.append(quarantine.reason)
        assert time.perf_counter() - started < READ_LIMIT_S
    assert outcomes[0] == outcomes[1]
    assert isinstance(outcomes[0], ParsedFile | str)
