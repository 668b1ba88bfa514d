"""Tests for flows.normalise: name and title keys, dates, categories, authorship, snapshots.

Each test states one rule. Inputs are tiny profile pages written as text and run through the
real reader and `normalise` (see `normalise_helpers`); the last tests check the facts of the
committed sample.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.categories import category_table, resolve_category
from flows.formats.keys import fold_key, with_key
from flows.landing import capture_times
from flows.normalise import _HASHED_BY_HASHLIB_BELOW, _assign_paper_ids, stable_ids
from tests.normalise_helpers import (
    Page,
    Paper,
    author_id_of,
    authors_of,
    normalise_pages,
    normalise_texts,
    one_paper,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data/raw/2026-11-25/000_615cb040fee88da4.txt"


def keys(*texts: str) -> list[str]:
    return pl.select(key=fold_key(pl.Series(texts, dtype=pl.String)))["key"].to_list()


def single(frame: pl.DataFrame, column: str) -> object:
    assert frame.height == 1, frame
    return frame[column][0]


# Name keys


def test_name_key_is_one_for_nfc_and_nfd_spellings() -> None:
    nfc = unicodedata.normalize("NFC", "José Müller")
    nfd = unicodedata.normalize("NFD", "José Müller")
    assert nfc != nfd
    assert keys(nfc, nfd) == ["jose muller", "jose muller"]


def test_name_key_folds_full_width_letters() -> None:
    assert keys("Ｙａｘｉｎ　Ｌｉ") == keys("Yaxin Li") == ["yaxin li"]


def test_name_key_collapses_hyphens_and_runs_of_spaces() -> None:
    assert keys("Yi-Ping Hsu", "Yi Ping  Hsu", " yi.ping   HSU ") == ["yi ping hsu"] * 3


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09 \t-.,:;'()/&é"), max_size=24))
def test_every_run_of_other_characters_than_letters_and_digits_is_one_space(text: str) -> None:
    """Both folds (the batch reader folds ASCII text its own way) against Python's: lower
    case, each run of other characters one space, stripped; a text of them only is kept."""
    expected = re.sub(r"\W+", " ", text.lower()).strip().replace("é", "e") or text.strip().lower()
    assert keys(text) == [expected]
    frame = pl.DataFrame({"name": [text]})
    assert with_key(frame, "name", "name_key")["name_key"].to_list() == [expected]


def test_name_key_folds_case_and_latin_greek_cyrillic_accents() -> None:
    assert keys("ÉMILE ZOLÀ", "émile zola") == ["emile zola"] * 2
    assert keys("Nguyễn Văn Đức")[0].startswith("nguyen van")
    assert keys("İlker Çelik") == ["ilker celik"]
    assert keys("Ἀλέξανδρος") == keys("αλεξανδρος")


def test_name_key_folds_letters_that_romanised_spellings_write_plainly() -> None:
    assert keys("Łukasz Søren", "Lukasz Soren") == ["lukasz soren"] * 2
    assert keys("Đặng Þór Ærø")[0] == "dang thor aero"


def test_name_key_folds_sharp_s_and_final_sigma() -> None:
    assert keys("Weiß", "WEISS", "WEIẞ") == ["weiss"] * 3
    assert keys("ΟΔΥΣΣΕΥΣ") == keys("οδυσσευσ")


def test_name_key_of_cjk_names_is_non_empty_and_kept() -> None:
    assert keys("李雅欣", "김민준", "やまだ たろう") == ["李雅欣", "김민준", "やまだ たろう"]


def test_name_key_keeps_marks_that_are_letters_of_their_script() -> None:
    # Kana voicing marks and Indic vowel signs change the name; only accents are folded.
    ga, ka = keys("がく", "かく")
    assert ga != ka
    assert keys("प्रिया")[0] != keys("पर")[0]
    assert keys(unicodedata.normalize("NFD", "김민준")) == ["김민준"]


def test_name_key_of_punctuation_only_name_is_not_empty() -> None:
    assert all(key for key in keys("—", "?", "·"))


def test_nfc_and_nfd_spellings_on_two_pages_are_one_author() -> None:
    shared = Paper("Shared Work", ("Ann Lee", unicodedata.normalize("NFC", "José Müller")))
    other = Paper("Shared Work", ("Ann Lee", unicodedata.normalize("NFD", "José Müller")))
    tables = normalise_pages(
        [
            (Page("Ann Lee", (shared,)), date(2026, 1, 1)),
            (Page("Bo Chen", (other,)), date(2026, 1, 1)),
        ]
    )
    names = tables["author"].filter(pl.col("name_key") == "jose muller")
    assert names.height == 1


# Title keys


def test_title_key_ignores_case_inside_words() -> None:
    first = Paper("Stylesinger: Style Transfer for Singing", ("Ann Lee",))
    second = Paper("StyleSinger: Style Transfer for Singing", ("Ann Lee",))
    tables = normalise_pages(
        [
            (Page("Ann Lee", (first,)), date(2026, 1, 1)),
            (Page("Ann Lee", (second,)), date(2026, 2, 1)),
        ]
    )
    assert tables["paper"].height == 1
    assert single(tables["paper"], "title_key") == "stylesinger style transfer for singing"


def test_title_key_ignores_punctuation_and_accents() -> None:
    assert (
        keys("Café-Net: a “naïve” approach!", "Cafe Net — A naive Approach")
        == ["cafe net a naive approach"] * 2
    )


# Dates


def sha_id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:16]


def test_ids_are_the_first_16_hex_digits_of_the_sha256_of_the_identity_key() -> None:
    """Ids are public and kept from run to run: they must not depend on how they are hashed."""
    page = Page("Ann Lee", (Paper("Deep Nets, Revisited", ("Ann Lee", "Bo Chen"), "Mar 3, 2023"),))
    tables = normalise_pages([(page, date(2024, 1, 2))])
    assert single(tables["paper"], "paper_id") == sha_id("P", "t:deep nets revisited|2023")
    coauthor = tables["author"].filter(pl.col("kind") == "name_only")
    assert single(coauthor, "author_id") == sha_id("A", "name:bo chen")


def test_paper_id_comes_from_the_smallest_key_of_the_observations_sharing_keys() -> None:
    """Observations sharing any key are one paper, its id hashed from the group's smallest
    key, whichever observation holds it; every key is kept with that id."""
    observations = pl.DataFrame(
        {
            "sha256": ["a", "b", "c"],
            "paper_index": [0, 0, 0],
            "doi": [None, None, None],
            "arxiv_id": [None, "2301.00001", None],
            "source": ["openalex", "openalex", "scholarfeed"],
            "source_paper_id": ["W1", "W1", None],
            "title_key": ["zeta nets", None, "other"],
            "published_year": [2023, None, 2020],
        },
        schema_overrides={"paper_index": pl.Int32, "published_year": pl.Int32},
    )
    kept: dict[str, pl.DataFrame] = {}
    assigned = _assign_paper_ids(observations, kept.__setitem__)
    group, other = sha_id("P", "arxiv:2301.00001"), sha_id("P", "t:other|2020")
    assert assigned["paper_id"].to_list() == [group, group, other]
    assert sorted(kept["paper_keys"].iter_rows()) == [
        ("arxiv:2301.00001", group),
        ("obs:b:0", group),  # an untitled observation's own key
        ("openalex:W1", group),
        ("t:other|2020", other),
        ("t:zeta nets|2023", group),
    ]


def test_stable_ids_keep_order_and_nulls_and_hash_any_text() -> None:
    texts = ["b", None, "a", "Weiß · 東京", "b", ""]
    ids = stable_ids(pl.Series(texts, dtype=pl.String), "X").to_list()
    assert ids == [None if text is None else sha_id("X", text) for text in texts]
    assert stable_ids(pl.Series([], dtype=pl.String), "X").to_list() == []


def test_stable_ids_are_the_same_whether_few_or_many_keys_are_hashed() -> None:
    # Few keys are hashed by hashlib, many by DuckDB: an id must not depend on how many
    # keys were hashed with it.
    keys = [None, "", "Weiß · 東京", *(f"key {i}" for i in range(_HASHED_BY_HASHLIB_BELOW))]
    many = stable_ids(pl.Series(keys, dtype=pl.String), "P")
    few = stable_ids(pl.Series(keys[:50], dtype=pl.String), "P")
    assert few.to_list() == many.head(50).to_list()
    assert many.to_list() == [None if key is None else sha_id("P", key) for key in keys]
    # Keys of another type are hashed as their text, either way.
    numbers = pl.Series(range(_HASHED_BY_HASHLIB_BELOW + 1))
    assert stable_ids(numbers.head(3), "A").to_list() == stable_ids(numbers, "A").head(3).to_list()


def test_stated_date_is_kept_as_given() -> None:
    paper = one_paper("Oct 10, 2023", date(2026, 11, 25))
    assert single(paper, "published_on") == date(2023, 10, 10)
    assert single(paper, "published_year") == 2023
    assert single(paper, "is_year_inferred") is False


def test_yearless_date_later_in_the_year_than_capture_is_last_year() -> None:
    paper = one_paper("Dec 29", date(2027, 1, 5))
    assert single(paper, "published_on") == date(2026, 12, 29)
    assert single(paper, "is_year_inferred") is True


def test_yearless_date_earlier_in_the_year_than_capture_is_capture_year() -> None:
    assert single(one_paper("May 29", date(2026, 11, 25)), "published_on") == date(2026, 5, 29)


def test_yearless_date_on_the_capture_day_is_that_day() -> None:
    paper = one_paper("May 29", datetime(2026, 5, 29, 23, 59))
    assert single(paper, "published_on") == date(2026, 5, 29)
    assert single(paper, "published_year") == 2026


@pytest.mark.parametrize(
    ("captured", "expected"),
    [
        (date(2027, 3, 1), date(2024, 2, 29)),
        (date(2028, 2, 28), date(2024, 2, 29)),
        (date(2028, 2, 29), date(2028, 2, 29)),
        (date(2101, 1, 1), date(2096, 2, 29)),
        (date(2105, 1, 1), date(2104, 2, 29)),
    ],
)
def test_yearless_feb_29_is_the_latest_leap_day_not_after_capture(
    captured: date, expected: date
) -> None:
    assert single(one_paper("Feb 29", captured), "published_on") == expected


def test_impossible_stated_date_is_null_flagged_and_keeps_its_year() -> None:
    tables = normalise_pages(
        [(Page("Ann Lee", (Paper("P", ("Ann Lee",), date="Feb 30, 2023"),)), date(2026, 1, 1))]
    )
    assert single(tables["paper"], "published_on") is None
    assert single(tables["paper"], "published_year") == 2023
    assert "impossible_date" in single(tables["paper_observation"], "flags")


def test_impossible_yearless_date_is_null_and_flagged_with_no_year() -> None:
    tables = normalise_pages(
        [(Page("Ann Lee", (Paper("P", ("Ann Lee",), date="Apr 31"),)), date(2026, 6, 1))]
    )
    assert single(tables["paper"], "published_on") is None
    assert single(tables["paper"], "published_year") is None
    assert "impossible_date" in single(tables["paper_observation"], "flags")


def test_stated_date_after_capture_is_kept_and_flagged() -> None:
    tables = normalise_pages(
        [(Page("Ann Lee", (Paper("P", ("Ann Lee",), date="Dec 1, 2027"),)), date(2026, 11, 25))]
    )
    assert single(tables["paper"], "published_on") == date(2027, 12, 1)
    assert single(tables["paper_observation"], "flags").to_list() == ["date_after_capture"]


def test_dates_on_or_before_capture_carry_no_date_flag() -> None:
    papers = (
        Paper("A", ("Ann Lee",), date="Nov 25, 2026"),
        Paper("B", ("Ann Lee",), date="Nov 25"),
        Paper("C", ("Ann Lee",), date="Nov 26"),
    )
    tables = normalise_pages([(Page("Ann Lee", papers), date(2026, 11, 25))])
    flags = tables["paper_observation"]["flags"].to_list()
    assert all(not set(f) & {"date_after_capture", "impossible_date"} for f in flags)


def test_capture_date_comes_from_the_dated_folder_of_the_path() -> None:
    files = pl.DataFrame(
        {"path": ["2026-11-25/a.txt", "x/2025-01-02/y/b.txt", "c.txt"], "mtime": [0, 0, 0]}
    )
    captured = files.select(capture_times(pl.col("path"), pl.col("mtime")))
    assert captured.to_series().to_list() == [
        datetime(2026, 11, 25),
        datetime(2025, 1, 2),
        datetime(1970, 1, 1),
    ]


def test_capture_date_is_the_innermost_valid_dated_folder_of_each_file() -> None:
    # Many files share a folder and each path is in its own row: the dates must follow their
    # own folder whatever the order of the rows.
    paths = [
        "2026-01-02/2026-01-03/x/a.txt",  # the innermost date folder
        "2026-01-02/2026-13-01/a.txt",  # not a date: the outer folder's
        "2026-02-30/b.txt",  # not a date, and no other folder
        "x/2026-01-04",  # a file named like a date is not a folder
        "2026-1-05/c.txt",  # not the YYYY-MM-DD form
        "12026-01-06/c.txt",
        "2026-01-02/2026-01-03/x/b.txt",
        "2026-01-07/",
        "top.txt",
        "2026-01-02/2026-13-01/c.txt",
        "2026-01-08",  # a file at the top, named like a date
    ]
    files = pl.DataFrame({"path": paths, "mtime": [86_400 * 10**9] * len(paths)})
    captured = files.select(capture_times(pl.col("path"), pl.col("mtime"))).to_series()
    mtime = datetime(1970, 1, 2)
    assert captured.to_list() == [
        datetime(2026, 1, 3),
        datetime(2026, 1, 2),
        mtime,
        mtime,
        mtime,
        mtime,
        datetime(2026, 1, 3),
        datetime(2026, 1, 7),
        mtime,
        datetime(2026, 1, 2),
        mtime,
    ]


# Categories


def test_every_taxonomy_short_code_resolves_as_resolve_category_says() -> None:
    codes = sorted(
        code
        for code in category_table()["code"].to_list()
        if code.isupper() and "." not in code and code.replace("-", "").isalpha()
    )
    papers = tuple(
        Paper(f"Paper about {code.lower()} number {i}", ("Ann Lee",), category=code)
        for i, code in enumerate(codes)
    )
    paper = normalise_pages([(Page("Ann Lee", papers), date(2026, 1, 1))])["paper"]
    got = {
        row["category_raw"]: (
            row["category"],
            row["is_category_known"],
            row["is_category_ambiguous"],
        )
        for row in paper.iter_rows(named=True)
    }
    assert len(got) == len(codes) > 100
    for code in codes:
        expected = resolve_category(code)
        assert expected is not None
        assert got[code] == (expected.category, True, expected.is_ambiguous), code


def test_unknown_category_code_is_kept_verbatim_and_not_known() -> None:
    paper = one_paper("Jan 5, 2024", date(2026, 1, 1), category="QQ")
    assert single(paper, "category") == "QQ"
    assert single(paper, "category_raw") == "QQ"
    assert single(paper, "is_category_known") is False


def test_ambiguous_category_code_prefers_cs_and_is_flagged() -> None:
    paper = one_paper("Jan 5, 2024", date(2026, 1, 1), category="DS")
    assert single(paper, "category") == "cs.DS"
    assert single(paper, "is_category_ambiguous") is True
    stat = one_paper("Jan 5, 2024", date(2026, 1, 1), category="AP")
    assert single(stat, "category") == "stat.AP"


def test_category_is_a_topic_of_the_arxiv_scheme() -> None:
    tables = normalise_pages(
        [(Page("Ann Lee", (Paper("P", ("Ann Lee",), category="IV"),)), date(2026, 1, 1))]
    )
    assert tables["paper_topic"].select("scheme", "topic").rows() == [("arxiv", "eess.IV")]


# Author lists


def test_author_list_is_truncated_only_when_every_observation_is_truncated() -> None:
    cut = Paper("Shared Work", ("Ann Lee", "Bo Chen", "Cy Diaz"), et_al=True)
    full = Paper("Shared Work", ("Ann Lee", "Bo Chen", "Cy Diaz"))
    only_cut = Paper("Other Work", ("Ann Lee", "Bo Chen", "Cy Diaz"), et_al=True)
    tables = normalise_pages(
        [
            (Page("Ann Lee", (cut, only_cut)), date(2026, 1, 1)),
            (Page("Bo Chen", (full, only_cut)), date(2026, 1, 1)),
        ]
    )
    truncated = dict(tables["paper"].select("title", "is_author_list_truncated").rows())
    assert truncated == {"Shared Work": False, "Other Work": True}


def test_owner_hidden_behind_et_al_is_an_inferred_author_without_position() -> None:
    paper = Paper("Hidden", ("Bo Chen", "Cy Diaz", "Di Fox"), et_al=True)
    tables = normalise_pages([(Page("Ann Lee", (paper,)), date(2026, 1, 1))])
    rows = authors_of(tables, "Hidden").select("display_name", "author_position", "is_inferred")
    assert rows.rows() == [
        ("Ann Lee", None, True),
        ("Bo Chen", 1, False),
        ("Cy Diaz", 2, False),
        ("Di Fox", 3, False),
    ]


def test_paper_listed_twice_on_a_page_is_one_profile_paper_row_at_its_first_line() -> None:
    twice = Paper("Twice Listed", ("Ann Lee", "Bo Chen"))
    page = Page("Ann Lee", (twice, Paper("Between", ("Ann Lee",)), twice))
    tables = normalise_pages([(page, date(2026, 1, 1))])
    rows = tables["profile_paper"].join(tables["paper"].select("paper_id", "title"), on="paper_id")
    lines = dict(rows.select("title", "line").rows())
    assert rows.height == 2
    # The page's header takes lines 1-7; each block is a meta line, the title, a blank line,
    # the author line, a blank line, the abstract and a blank line.
    assert lines == {"Twice Listed": 8, "Between": 15}
    assert tables["paper_observation"].filter(pl.col("title") == "Twice Listed")[
        "line"
    ].sort().to_list() == [8, 22]


def test_owner_shown_in_the_list_is_a_listed_author_not_inferred() -> None:
    paper = Paper("Shown", ("Bo Chen", "ann  LEE", "Cy Diaz"), et_al=True)
    tables = normalise_pages([(Page("Ann Lee", (paper,)), date(2026, 1, 1))])
    rows = authors_of(tables, "Shown").select("display_name", "author_position", "is_inferred")
    assert rows.filter(pl.col("display_name") == "Ann Lee").rows() == [("Ann Lee", 2, False)]
    assert rows.height == 3


def test_affiliation_after_the_middle_dot_is_kept_on_the_observation() -> None:
    papers = (
        Paper("With", ("Ann Lee", "Bo Chen"), et_al=True, affiliation="stanford"),
        Paper("Without", ("Ann Lee",)),
    )
    tables = normalise_pages([(Page("Ann Lee", papers), date(2026, 1, 1))])
    observed = dict(tables["paper_observation"].select("title", "affiliation").rows())
    assert observed == {"With": "stanford", "Without": None}
    assert "stanford" not in authors_of(tables, "With")["display_name"].to_list()


def test_snapshot_keeps_declared_heading_and_read_paper_counts() -> None:
    papers = (Paper("One", ("Ann Lee",)), Paper("Two", ("Ann Lee",)))
    page = Page("Ann Lee", papers, h_index=7, n_papers=30, heading=3)
    snapshot = normalise_pages([(page, date(2026, 1, 1))])["profile_snapshot"]
    assert snapshot.select("h_index", "n_papers", "n_papers_listed", "n_papers_read").rows() == [
        (7, 30, 3, 2)
    ]


def test_quarantined_text_adds_no_rows() -> None:
    tables = normalise_texts([("just some prose\nwith no header\n", date(2026, 1, 1))])
    assert all(frame.is_empty() for frame in tables.values())


# The committed sample


@pytest.fixture(scope="module")
def sample() -> dict[str, pl.DataFrame]:
    path = SAMPLE.relative_to(SAMPLE.parents[2]).as_posix()
    captured = pl.select(capture_times(pl.lit(path), pl.lit(0, pl.Int64))).item()
    assert captured == datetime(2026, 11, 25)
    return normalise_texts([(SAMPLE.read_text(encoding="utf-8"), captured)])


def test_sample_has_22_papers_34_authors_74_authorships(sample: dict[str, pl.DataFrame]) -> None:
    assert sample["paper"].height == 22
    assert sample["author"].height == 34
    assert sample["authorship"].height == 74


def test_sample_infers_the_owner_on_the_8_papers_that_hide_her(
    sample: dict[str, pl.DataFrame],
) -> None:
    inferred = sample["authorship"].filter(pl.col("is_inferred"))
    assert inferred.height == 8
    assert inferred["author_position"].null_count() == 8
    assert inferred["author_id"].unique().to_list() == author_id_of(sample, "Yaxin Li")


def test_sample_has_6_papers_with_code(sample: dict[str, pl.DataFrame]) -> None:
    assert sample["paper"]["has_code"].sum() == 6


def test_sample_yearless_unipinrec_is_2026_05_29(sample: dict[str, pl.DataFrame]) -> None:
    paper = sample["paper"].filter(pl.col("title").str.starts_with("UniPinRec"))
    assert single(paper, "published_on") == date(2026, 5, 29)
    assert single(paper, "is_year_inferred") is True


def test_sample_categories_are_the_seven_arxiv_ids(sample: dict[str, pl.DataFrame]) -> None:
    assert set(sample["paper"]["category"]) == {
        "cs.AI", "cs.CL", "cs.CV", "cs.IR", "cs.LG", "cs.NE", "eess.IV",
    }  # fmt: skip
    assert sample["paper"]["is_category_known"].all()


def test_sample_snapshot_metrics_are_as_reported(sample: dict[str, pl.DataFrame]) -> None:
    snapshot = sample["profile_snapshot"]
    assert snapshot.select(
        "display_name", "h_index", "n_papers", "n_papers_listed", "n_papers_read",
        "n_citations", "novelty_pct", "ai_score", "captured_at",
    ).rows() == [("Yaxin Li", 16, 22, 22, 22, 1248, 41, 49, datetime(2026, 11, 25))]  # fmt: skip


def test_sample_unipinrec_affiliation_is_stanford(sample: dict[str, pl.DataFrame]) -> None:
    observation = sample["paper_observation"].filter(pl.col("title").str.starts_with("UniPinRec"))
    assert single(observation, "affiliation") == "stanford"
