"""Adding contents to a kept normalisation (`normalise_added`) against normalising them all.

Every check here is differential: a landing zone is split into parts that arrive one after
another; after each part, the tables made from the memo and the new part must equal, row for
row and in order, the tables of a whole normalisation of everything so far.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import flows.layers
from flows.incremental import (
    MEMO,
    PARTIAL_TABLES,
    Memo,
    MemoWriting,
    ReadAhead,
    added_contents,
    normalise_added,
    normalise_kept,
    partial_key,
)
from flows.landing import capture_times, parse_contents
from flows.normalise import normalise
from flows.synth import write_synthetic_profiles
from tests.conftest import require_realdata
from tests.normalise_helpers import Page, Paper, page_text

Tables = dict[str, pl.DataFrame]


class Landing:
    """Every file under a folder, read once: its parsed frames and one files row per file."""

    def __init__(self, root: Path, paths: Sequence[Path]) -> None:
        contents: dict[str, bytes] = {}
        rows: dict[str, list[object]] = {"sha256": [], "path": [], "mtime_ns": []}
        for path in paths:
            data = path.read_bytes()
            sha256 = hashlib.sha256(data).hexdigest()
            contents.setdefault(sha256, data)
            rows["sha256"].append(sha256)
            rows["path"].append(path.relative_to(root).as_posix())
            rows["mtime_ns"].append(path.stat().st_mtime_ns)
        self.frames = parse_contents(list(contents.items()))
        failed = self.frames["parsed_file"].filter(pl.col("status") == "quarantined")["sha256"]
        self.files = (
            pl.DataFrame(rows)
            .filter(~pl.col("sha256").is_in(failed.implode()))
            .select("sha256", "path", captured_at=capture_times(pl.col("path"), pl.col("mtime_ns")))
        )


def _normalised(landing: Landing, paths: set[str]) -> tuple[Tables, Tables]:
    memo: Tables = {}
    files = landing.files.filter(pl.col("path").is_in(sorted(paths)))
    tables = normalise(landing.frames, files, memo.__setitem__)
    return tables, _with_tables(memo, tables)


def _with_tables(memo: Tables, tables: Tables) -> Tables:
    assert set(memo) == set(MEMO), set(memo) ^ set(MEMO)
    return {**memo, **{name: tables[name] for name in PARTIAL_TABLES}}


def _assert_equal(added: Tables, whole: Tables, step: str) -> None:
    assert set(added) == set(whole)
    for name in whole:
        try:
            assert_frame_equal(added[name], whole[name])
        except AssertionError as error:
            raise AssertionError(f"{step}: table {name} differs: {error}") from None


def _check_parts(landing: Landing, parts: Sequence[Sequence[str]]) -> None:
    """Normalise the first part, then add each next part to the memo: after each addition
    the tables and the memo equal those of a whole normalisation of every part so far."""
    so_far = set(parts[0])
    _, memo = _normalised(landing, so_far)
    for step, part in enumerate(parts[1:], start=1):
        so_far |= set(part)
        kept: Tables = {}
        files = landing.files.filter(pl.col("path").is_in(sorted(so_far)))
        added = normalise_added(memo, landing.frames, files, kept.__setitem__)
        assert added is not None, f"step {step}: the memo was refused"
        whole, whole_memo = _normalised(landing, so_far)
        _assert_equal(added, whole, f"step {step}")
        memo = _with_tables(kept, added)
        _assert_same_memo(memo, whole_memo, MEMO, f"step {step}")


def _assert_same_memo(memo: Tables, whole: Tables, names: Sequence[str], step: str) -> None:
    """The memo describes the same decisions (as sets: row order is free there). An
    observation's profile row is where its profile is in that memo's profiles."""
    memo, whole = ({**m, "observations": _with_page_of_row(m)} for m in (memo, whole))
    for name in names:
        columns = [c for c, t in memo[name].schema.items() if not isinstance(t, pl.List)]
        try:
            assert_frame_equal(
                memo[name].sort(columns, nulls_last=True),
                whole[name].select(memo[name].columns).sort(columns, nulls_last=True),
            )
        except AssertionError as error:
            raise AssertionError(f"{step}: memo frame {name} differs: {error}") from None


def _with_page_of_row(memo: Tables) -> pl.DataFrame:
    """The memo's observations with the page (sha256, profile index) of their profile row
    in place of the row number, which follows the order of the memo's profiles."""
    observations = memo["observations"]
    rows = observations["profile_row"]
    pages = memo["profiles"].select("sha256", "profile_index")
    on_page = observations.filter(rows.is_not_null())
    # Every observation on a profile's page holds that profile's row, and no other does.
    assert_frame_equal(pages[on_page["profile_row"]], on_page.select("sha256", "profile_index"))
    assert observations.filter(rows.is_null())["profile_index"].is_null().all()
    return observations.drop("profile_row")


def _split(paths: list[str], n_parts: int, seed: int) -> list[list[str]]:
    shuffled = sorted(paths)
    random.Random(seed).shuffle(shuffled)
    first = len(shuffled) // 2
    rest = shuffled[first:]
    size = max(1, -(-len(rest) // (n_parts - 1)))
    return [shuffled[:first], *(rest[i : i + size] for i in range(0, len(rest), size))]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_profiles(160, root, seed=11)
    return Landing(root, sorted(p for p in root.rglob("*") if p.is_file()))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_synthetic_pages_added_in_parts_equal_a_whole_normalisation(
    synthetic: Landing, seed: int
) -> None:
    paths = synthetic.files["path"].to_list()
    _check_parts(synthetic, _split(paths, 4, seed))


def test_one_page_at_a_time(synthetic: Landing) -> None:
    paths = sorted(synthetic.files["path"].to_list())
    random.Random(7).shuffle(paths)
    _check_parts(synthetic, [paths[:-6], *([p] for p in paths[-6:])])


def test_real_api_dumps_added_in_parts_equal_a_whole_normalisation(tmp_path: Path) -> None:
    """OpenAlex, Semantic Scholar and Google Scholar dumps: source ids, ORCIDs, DOIs."""
    realdata = require_realdata()
    root = tmp_path / "raw"
    shutil.copytree(realdata, root, ignore=shutil.ignore_patterns("*.md"))
    landing = Landing(root, sorted(p for p in root.rglob("*") if p.is_file()))
    paths = landing.files["path"].to_list()
    for seed in (1, 2, 3):
        _check_parts(landing, _split(paths, 3, seed))


def _pages_landing(root: Path, pages: dict[str, tuple[Page, date]]) -> Landing:
    for name, (page, captured) in pages.items():
        path = root / f"{captured:%Y-%m-%d}" / f"{name}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page_text(page))
    return Landing(root, sorted(p for p in root.rglob("*") if p.is_file()))


def _write_json(root: Path, objects: dict[str, object]) -> None:
    for name, obj in objects.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(obj))


def _json_landing(root: Path, objects: dict[str, object]) -> Landing:
    _write_json(root, objects)
    return Landing(root, sorted(p for p in root.rglob("*") if p.is_file()))


def test_added_page_that_joins_two_papers_and_two_owners(tmp_path: Path) -> None:
    """The later page shows, under one title and year, papers that two earlier pages held
    apart, and shares enough papers with two pages of one name to make them one person."""
    one = Paper("Sparse Codes", ("Ann Lee", "Bo Chen"), date="Mar 3, 2021")
    two = Paper("Dense Codes", ("Ann Lee", "Cy Diaz"), date="Apr 4, 2022")
    three = Paper("Fast Codes", ("Ann Lee",), date="May 5, 2023")
    pages = {
        "a": (Page("Ann Lee", (one, three)), date(2026, 1, 1)),
        "b": (Page("Ann Lee", (two,)), date(2026, 2, 1)),
        "c": (Page("Bo Chen", (one,)), date(2026, 3, 1)),
        "d": (Page("Ann Lee", (one, two, three)), date(2026, 4, 1)),
        "e": (Page("Cy Diaz", (two, one)), date(2026, 5, 1)),
    }
    landing = _pages_landing(tmp_path, pages)
    paths = sorted(landing.files["path"].to_list())
    _check_parts(landing, [paths[:3], paths[3:4], paths[4:]])


def test_memo_is_refused_when_a_content_went_or_moved(synthetic: Landing) -> None:
    paths = sorted(synthetic.files["path"].to_list())
    _, memo = _normalised(synthetic, set(paths[:-1]))
    files = synthetic.files
    assert added_contents(memo["files"], files) is not None
    assert added_contents(memo["files"], files.filter(pl.col("path") != paths[0])) is None
    moved = files.with_columns(
        captured_at=pl.when(pl.col("path") == paths[0])
        .then(pl.col("captured_at") + pl.duration(days=1))
        .otherwise("captured_at")
    )
    assert normalise_added(memo, synthetic.frames, moved) is None


def test_added_owner_claims_names_on_papers_no_added_page_shows(tmp_path: Path) -> None:
    """Ann's page lists Bo Chen on two papers. Bo's page, added later, shows only one of them;
    it shares a paper with Ann's page, so Bo Chen on the other paper becomes Bo as well,
    though nothing added shows that paper."""
    shown = Paper("Shown Paper", ("Ann Lee", "Bo Chen"), date="Mar 3, 2021")
    other = Paper("Other Paper", ("Ann Lee", "Bo Chen"), date="Apr 4, 2022")
    pages = {
        "ann": (Page("Ann Lee", (shown, other)), date(2026, 1, 1)),
        "bo": (Page("Bo Chen", (shown,)), date(2026, 2, 1)),
    }
    landing = _pages_landing(tmp_path, pages)
    paths = sorted(landing.files["path"].to_list())
    _check_parts(landing, [paths[:1], paths[1:]])


def test_added_page_shows_a_paper_whose_name_an_owner_claims_through_another_page(
    tmp_path: Path,
) -> None:
    """Ann's page lists Bo Chen on "Paper X" and "Paper Y"; Bo's page shows only Y. Cy's
    added page shows X too, so X's names are resolved again: Bo Chen on X is still Bo,
    through Bo's page, which shows nothing the addition touched."""
    x = Paper("Paper X", ("Ann Lee", "Bo Chen"), date="Mar 3, 2021")
    y = Paper("Paper Y", ("Ann Lee", "Bo Chen"), date="Apr 4, 2022")
    x_again = Paper("Paper X", ("Ann Lee", "Bo Chen", "Cy Park"), date="Mar 3, 2021")
    pages = {
        "ann": (Page("Ann Lee", (x, y)), date(2026, 1, 1)),
        "bo": (Page("Bo Chen", (y,)), date(2026, 1, 2)),
        "cy": (Page("Cy Park", (x_again,)), date(2026, 2, 1)),
    }
    landing = _pages_landing(tmp_path, pages)
    paths = sorted(landing.files["path"].to_list())
    _check_parts(landing, [paths[:2], paths[2:]])
    tables = normalise(landing.frames, landing.files)
    bo = tables["profile_snapshot"].filter(pl.col("display_name") == "Bo Chen")["author_id"].item()
    on_x = tables["authorship"].join(
        tables["paper"].filter(pl.col("title") == "Paper X"), on="paper_id", how="semi"
    )
    assert on_x.height == 3
    assert bo in on_x["author_id"].to_list()


def test_added_profile_takes_over_a_source_id_listed_on_other_papers(tmp_path: Path) -> None:
    """An OpenAlex work lists author A200 ("J. Smith"). The added OpenAlex profile of A100
    ("John Smith", another name key) has the same ORCID: A200 becomes the same person as
    A100, so the work's authorship changes though nothing added shows the work."""
    orcid = "https://orcid.org/0000-0001-0000-0001"
    work = {
        "id": "https://openalex.org/W1",
        "title": "Third Paper",
        "publication_year": 2020,
        "authorships": [
            {"author": {"id": "https://openalex.org/A200", "display_name": "J. Smith", "orcid": orcid}},
            {"author": {"id": "https://openalex.org/A300", "display_name": "Ann Lee"}},
        ],
    }  # fmt: skip
    author = {"id": "https://openalex.org/A100", "display_name": "John Smith", "orcid": orcid}
    landing = _json_landing(
        tmp_path, {"2026-01-01/work.json": work, "2026-02-01/author.json": author}
    )
    paths = sorted(landing.files["path"].to_list())
    assert len(paths) == 2
    _check_parts(landing, [paths[:1], paths[1:]])


def test_added_profile_with_the_same_orcid_takes_over_an_owner_with_no_papers(
    tmp_path: Path,
) -> None:
    """An OpenAlex profile of A100 lists no paper. The added profile of A050 has the same
    ORCID: one person, whose author id is no longer A100's alone, though no paper changed."""
    orcid = "https://orcid.org/0000-0001-0000-0002"
    files = {
        "2026-01-01/a100.json": {"id": "https://openalex.org/A100", "display_name": "John Smith", "orcid": orcid},
        "2026-02-01/a050.json": {"id": "https://openalex.org/A050", "display_name": "J. Smith", "orcid": orcid},
    }  # fmt: skip
    landing = _json_landing(tmp_path, files)
    paths = sorted(landing.files["path"].to_list())
    assert len(paths) == 2
    _check_parts(landing, [paths[:1], paths[1:]])
    first = normalise(landing.frames, landing.files.filter(pl.col("path") == paths[0]))
    both = normalise(landing.frames, landing.files)
    assert both["author"].height == 1
    assert first["author"]["author_id"].item() != both["author"]["author_id"].item()


def test_added_capture_gives_an_owner_a_paper_that_links_a_page_to_them(tmp_path: Path) -> None:
    """Bo's second capture adds a paper of Ann's page to Bo's papers. Bo stays the same
    person, but Ann's page now shares a paper with Bo: Bo Chen on Ann's other paper becomes
    Bo, though neither that paper nor Ann's page changed."""
    p = Paper("Paper P", ("Ann Lee", "Bo Chen"), date="Mar 3, 2021")
    q = Paper("Paper Q", ("Ann Lee", "Di Fox"), date="Apr 4, 2022")
    r = Paper("Paper R", ("Bo Chen",), date="May 5, 2023")
    s = Paper("Paper S", ("Bo Chen",), date="Jun 6, 2023")
    pages = {
        "ann": (Page("Ann Lee", (p, q)), date(2026, 1, 1)),
        "bo": (Page("Bo Chen", (r, s)), date(2026, 2, 1)),
        "bo-later": (Page("Bo Chen", (r, s, q)), date(2026, 3, 1)),
    }
    landing = _pages_landing(tmp_path, pages)
    paths = sorted(landing.files["path"].to_list())
    _check_parts(landing, [paths[:2], paths[2:]])


def test_added_work_joins_two_papers_and_so_two_pages_of_one_name(tmp_path: Path) -> None:
    """Two pages of Ann Lee share no paper: two people. An OpenAlex work from before gives
    one page's "Deep Nets" (2020) a DOI; the added work has that DOI and the other page's
    year (2021), so the two papers are one, and the pages now share half their papers: one
    person. The added work names no author id, so only the renamed paper ties them."""

    def work(work_id: str, year: int) -> dict[str, object]:
        return {
            "id": f"https://openalex.org/{work_id}",
            "title": "Deep Nets",
            "publication_year": year,
            "doi": "https://doi.org/10.1/dn",
            "authorships": [{"author": {"display_name": "Ann Lee"}}],
        }

    pages = {
        "ann1": (Page("Ann Lee", (Paper("Deep Nets", ("Ann Lee",), date="Mar 3, 2021"), Paper("Y Paper", ("Ann Lee",)))), date(2026, 1, 1)),
        "ann2": (Page("Ann Lee", (Paper("Deep Nets", ("Ann Lee",), date="Mar 3, 2020"), Paper("Z Paper", ("Ann Lee",)))), date(2026, 1, 2)),
    }  # fmt: skip
    _write_json(
        tmp_path, {"2026-01-03/w1.json": work("W1", 2020), "2026-02-01/w2.json": work("W2", 2021)}
    )
    landing = _pages_landing(tmp_path, pages)
    paths = sorted(landing.files["path"].to_list())
    assert paths[-1] == "2026-02-01/w2.json"
    _check_parts(landing, [paths[:-1], paths[-1:]])
    tables = normalise(landing.frames, landing.files)
    owners = tables["profile_snapshot"]["author_id"]
    assert owners.n_unique() == 1, "the two pages are one person"


def test_added_work_joins_the_papers_of_two_listed_ids(tmp_path: Path) -> None:
    """OpenAlex lists A7 "Bo Chen" on "Deep Nets" (2020, with a DOI); Semantic Scholar lists
    its author 99 "Bo Chen" on "Deep Nets" (2021): two papers, two people. The added work
    has the DOI and the year 2021 and names no author id: the papers are one, so the two ids
    share all their papers and are one person."""

    def work(work_id: str, year: int, author: dict[str, str]) -> dict[str, object]:
        return {
            "id": f"https://openalex.org/{work_id}", "title": "Deep Nets",
            "publication_year": year, "doi": "https://doi.org/10.1/dn",
            "authorships": [{"author": author}],
        }  # fmt: skip

    listed = {
        "paperId": "s1", "title": "Deep Nets", "year": 2021,
        "authors": [{"authorId": "99", "name": "Bo Chen"}],
    }  # fmt: skip
    files = {
        "2026-01-01/w1.json": work("W1", 2020, {"id": "https://openalex.org/A7", "display_name": "Bo Chen"}),
        "2026-01-02/s1.json": listed,
        "2026-02-01/w2.json": work("W2", 2021, {"display_name": "Cy Diaz"}),
    }  # fmt: skip
    landing = _json_landing(tmp_path, files)
    paths = sorted(landing.files["path"].to_list())
    assert len(paths) == 3
    _check_parts(landing, [paths[:2], paths[2:]])
    ids = normalise(landing.frames, landing.files)["author_source_id"]
    assert ids.filter(pl.col("source_id").is_in(["A7", "99"]))["author_id"].n_unique() == 1


def test_no_content_added_gives_the_same_tables(synthetic: Landing) -> None:
    """A run whose new files are all duplicates or quarantined adds no content."""
    paths = synthetic.files["path"].to_list()
    _check_parts(synthetic, [paths, []])


def test_a_memo_is_used_only_whole_and_by_the_code_that_made_it(
    synthetic: Landing, tmp_path: Path
) -> None:
    paths = synthetic.files["path"].to_list()
    memo = Memo(tmp_path / "memo")
    files = synthetic.files.filter(pl.col("path").is_in(paths[:-3]))
    writing = MemoWriting(memo, "code1")
    first = normalise_kept(Memo(tmp_path / "none"), writing, synthetic.frames, files)
    assert memo.refusal("code1") == "no memo of the last normalisation", "not finished yet"
    writing.finish()
    assert first.how == "normalised in full: no memo of the last normalisation"
    assert first.partial == {}
    assert memo.refusal("code1") is None
    assert memo.refusal("code2") == "the code or the polars version changed"
    later = Memo(tmp_path / "later")
    writing = MemoWriting(later, "code1")
    added = normalise_kept(memo, writing, synthetic.frames, synthetic.files)
    writing.finish()
    assert added.how == "3 new contents added to the last normalisation"
    whole = normalise(synthetic.frames, synthetic.files)
    # The tables with a row per paper hold only the rows of the papers the addition changed,
    # the authors those of the owners and of the authors those papers spell.
    assert set(added.partial) == set(PARTIAL_TABLES)
    for name, keys in added.partial.items():
        key = partial_key(name)
        assert added.tables[name].height <= whole[name].height, name
        assert added.tables[name][key].is_in(keys.implode()).all(), name
    assert 0 < added.tables["paper"].height < whole["paper"].height
    # The snapshots of the added pages at least, not every snapshot again.
    assert 3 <= added.tables["profile_snapshot"].height < whole["profile_snapshot"].height
    kept = {name: later.frames()[name].collect() for name in PARTIAL_TABLES}
    _assert_equal(added.whole_tables(), whole, "added")
    for name, order in PARTIAL_TABLES.items():
        # The new memo holds each whole table (in its own row order).
        assert_frame_equal(kept[name].sort(order, maintain_order=True), whole[name])
    (memo.folder / "spellings.parquet").unlink()
    assert memo.refusal("code1") == "the memo of the last normalisation lacks spellings"


def test_an_addition_takes_the_memo_read_ahead_and_a_whole_normalisation_drops_it(
    synthetic: Landing, tmp_path: Path
) -> None:
    paths = synthetic.files["path"].to_list()
    memo = Memo(tmp_path / "memo")
    writing = MemoWriting(memo, "code")
    files = synthetic.files.filter(pl.col("path").is_in(paths[:-3]))
    normalise_kept(Memo(tmp_path / "none"), writing, synthetic.frames, files)
    writing.finish()
    # Read ahead only what an addition will likely use.
    assert ReadAhead.start(memo, "code", len(paths), len(paths) // 2) is None, "too many new"
    assert ReadAhead.start(memo, "other code", len(paths), 3) is None, "a memo refused"
    assert ReadAhead.start(Memo(tmp_path / "none"), "code", len(paths), 3) is None

    ahead = ReadAhead.start(memo, "code", len(paths), 3)
    assert ahead is not None
    writing = MemoWriting(Memo(tmp_path / "later"), "code")
    added = normalise_kept(memo, writing, synthetic.frames, synthetic.files, ahead)
    writing.finish()
    assert added.how == "3 new contents added to the last normalisation"
    _assert_equal(added.whole_tables(), normalise(synthetic.frames, synthetic.files), "added")
    with pytest.raises(RuntimeError, match="taken or dropped"):
        ahead.take()

    # A content now at another path: normalised whole, and the read-ahead is let go.
    moved = synthetic.files.with_columns(
        path=pl.when(pl.col("path") == paths[0]).then(pl.lit("moved.txt")).otherwise("path")
    )
    ahead = ReadAhead.start(memo, "code", len(paths), 3)
    assert ahead is not None
    writing = MemoWriting(Memo(tmp_path / "again"), "code")
    whole = normalise_kept(memo, writing, synthetic.frames, moved, ahead)
    writing.finish()
    assert whole.how.startswith("normalised in full"), whole.how
    with pytest.raises(RuntimeError, match="taken or dropped"):
        ahead.take()


def test_the_memo_grows_by_layers_and_is_written_whole_again(
    synthetic: Landing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each addition's memo links the last memo's layers and adds its own; a frame with
    `MAX_LAYERS` layers is written whole again. Read back, the memo always equals a whole
    normalisation's."""
    monkeypatch.setattr(flows.layers, "MAX_LAYERS", 3)
    parts = _split(synthetic.files["path"].to_list(), 5, seed=5)
    so_far = set(parts[0])

    def files() -> pl.DataFrame:
        return synthetic.files.filter(pl.col("path").is_in(sorted(so_far)))

    memo = Memo(tmp_path / "memo0")
    writing = MemoWriting(memo, "code")
    normalise_kept(Memo(tmp_path / "none"), writing, synthetic.frames, files())
    writing.finish()
    for step, part in enumerate(parts[1:], start=1):
        so_far |= set(part)
        later = Memo(tmp_path / f"memo{step}")
        writing = MemoWriting(later, "code")
        added = normalise_kept(memo, writing, synthetic.frames, files())
        writing.finish()
        assert added.how.endswith("added to the last normalisation"), added.how
        whole, whole_memo = _normalised(synthetic, so_far)
        _assert_equal(added.whole_tables(), whole, f"step {step}")
        kept = {name: frame.collect() for name, frame in later.frames().items()}
        _assert_same_memo(kept, whole_memo, list(whole_memo), f"step {step}")
        # 1 layer, then 2, then 3 (the most), then whole again: 1 + step % 3.
        for name in ("observations", "paper_keys", "spellings", "paper", "authorship"):
            layers = later.layers(name)
            assert layers is not None and len(layers) == 1 + step % 3, (step, name, layers)
            first = later.folder / layers[0].rows
            linked = (memo.folder / layers[0].rows).exists() and first.samefile(
                memo.folder / layers[0].rows
            )
            assert linked == (len(layers) > 1), (step, name)
        memo = later
