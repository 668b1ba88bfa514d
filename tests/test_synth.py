"""Synthetic profile pages: reproducible, in the real page layout, with a coherent world behind."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from flows.synth import (
    DEFAULT_CAPTURE_DATE,
    META_LINE,
    MONTHS,
    UNKNOWN_CATEGORY,
    SynthSummary,
    naive_floor,
    write_synthetic_profiles,
)

REAL_SAMPLE = Path(__file__).parents[1] / "data/raw/2026-11-25/000_615cb040fee88da4.txt"
FILE_NAME = re.compile(r"\d{6}_[0-9a-f]{16}\.txt")
META_PARTS = re.compile(
    r"(?P<score>\d+(?:\.\d+)?)?(?P<category>[A-Z][A-Z-]*?)(?P<month>[A-Z][a-z]{2}) (?P<day>\d{1,2})"
    r"(?:, (?P<year>\d{4}))?(?P<code>Code)?"
)
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Block:
    meta: str
    title: str
    author_line: str
    abstract: str | None
    compact: bool

    @property
    def names(self) -> list[str]:
        shown = self.author_line.split(" · ")[0].removesuffix(" et al.")
        return shown.split(", ")

    @property
    def meta_without_score(self) -> str:
        return re.sub(r"^\d+(?:\.\d+)?", "", self.meta)


@dataclass(frozen=True)
class ProfilePage:
    name: str
    header: dict[str, str]
    n_heading: int
    blocks: list[Block]


def parse_page(text: str) -> ProfilePage:
    """A strict reading of the documented layout; any deviation fails an assertion."""
    assert "\r" not in text and not text.endswith("\n")
    lines = text.split("\n")
    assert lines[0] and lines[0] == lines[0].strip() and lines[1] == ""
    header: dict[str, str] = {}
    at = 2
    optional_before = [("category", r"[A-Z]{2}")]
    required = [("h_index", r"h-index(\d+)"), ("papers", r"(\d+)papers")]
    optional_after = [
        ("citations", r"(\d{1,3}(?:,\d{3})*)citations"),
        ("novelty", r"Novelty(\d+)%"),
        ("ai_score", r"AI Score(\d+)"),
    ]
    for key, pattern in optional_before + required + optional_after:
        match = re.fullmatch(pattern, lines[at])
        if match:
            header[key] = match.group(match.lastindex or 0)
            at += 1
        else:
            assert (key, pattern) not in required, f"missing {key} line: {lines[at]!r}"
    assert lines[at] == ""
    heading = re.fullmatch(r"(\d+) Papers", lines[at + 1])
    assert heading, lines[at + 1]
    assert lines[at + 2] == ""
    body = "\n".join(lines[at + 3 :])
    starts = [match.start() for match in META_LINE.finditer(body)]
    assert starts and starts[0] == 0
    blocks = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(body)
        chunk = body[start:end]
        if number + 1 < len(starts):
            # Exactly one blank line between blocks: the chunk ends "<text>\n\n".
            assert chunk.endswith("\n\n") and not chunk.endswith("\n\n\n"), repr(chunk[-80:])
            chunk = chunk[:-2]
        blocks.append(_parse_block(chunk.split("\n")))
    return ProfilePage(lines[0], header, int(heading.group(1)), blocks)


def _parse_block(lines: list[str]) -> Block:
    assert all(line == line.strip() for line in lines), lines
    if "  " in lines[1]:
        title, author_line = lines[1].split("  ")
        rest, compact = lines[2:], True
    else:
        assert lines[2] == "", lines
        title, author_line, rest, compact = lines[1], lines[3], lines[4:], False
    abstract = None
    if rest:
        assert len(rest) == 2 and rest[0] == "" and rest[1], rest
        abstract = rest[1]
    assert title and author_line and META_LINE.fullmatch(lines[0])
    return Block(lines[0], title, author_line, abstract, compact)


def read_pages(root: Path) -> dict[str, dict[str, ProfilePage]]:
    """Folder name -> file name -> page."""
    pages: dict[str, dict[str, ProfilePage]] = defaultdict(dict)
    for path in sorted(root.rglob("*.txt")):
        pages[path.parent.name][path.name] = parse_page(path.read_bytes().decode("utf-8"))
    return pages


def resolved_date(block: Block, captured: date) -> date:
    parts = META_PARTS.fullmatch(block.meta)
    assert parts
    year = int(parts["year"]) if parts["year"] else captured.year
    return date(year, MONTHS.index(parts["month"]) + 1, int(parts["day"]))


def citations(page: ProfilePage) -> int | None:
    value = page.header.get("citations")
    return int(value.replace(",", "")) if value else None


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth")
    return out, write_synthetic_profiles(400, out, seed=11)


@pytest.fixture(scope="module")
def pages(world: tuple[Path, SynthSummary]) -> dict[str, dict[str, ProfilePage]]:
    return read_pages(world[0])


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    first = write_synthetic_profiles(50, tmp_path / "a", seed=5)
    second = write_synthetic_profiles(50, tmp_path / "b", seed=5)
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")
    assert (first.n_files, first.n_papers_distinct, first.n_bytes) == (
        second.n_files,
        second.n_papers_distinct,
        second.n_bytes,
    )


def test_another_seed_writes_other_pages(tmp_path: Path) -> None:
    write_synthetic_profiles(50, tmp_path / "a", seed=5)
    write_synthetic_profiles(50, tmp_path / "b", seed=6)
    first, second = snapshot(tmp_path / "a"), snapshot(tmp_path / "b")
    assert set(first.values()).isdisjoint(second.values())


def test_profile_count_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        write_synthetic_profiles(0, tmp_path)


def test_the_layout_checker_accepts_the_real_sample() -> None:
    if not REAL_SAMPLE.exists():
        pytest.skip("the committed sample is not in this checkout")
    page = parse_page(REAL_SAMPLE.read_text(encoding="utf-8"))
    assert page.name == "Yaxin Li"
    assert page.n_heading == len(page.blocks) == 22
    assert sum(1 for block in page.blocks if page.name not in block.names) == 8


def test_files_are_named_and_foldered_by_capture_date(world: tuple[Path, SynthSummary]) -> None:
    root, summary = world
    folders = sorted(p.name for p in root.iterdir())
    assert folders[0] == DEFAULT_CAPTURE_DATE.isoformat()
    assert all(date.fromisoformat(name) > DEFAULT_CAPTURE_DATE for name in folders[1:])
    files = [p for p in root.rglob("*") if p.is_file()]
    assert all(FILE_NAME.fullmatch(p.name) for p in files)
    assert len(list((root / folders[0]).iterdir())) == 400
    assert summary.n_files == len(files)
    assert summary.n_bytes == sum(p.stat().st_size for p in files)


def test_every_page_follows_the_profile_layout(pages: dict[str, dict[str, ProfilePage]]) -> None:
    for folder in pages.values():
        for page in folder.values():
            assert page.n_heading == len(page.blocks) == int(page.header["papers"])
            assert 0 <= int(page.header["h_index"]) <= len(page.blocks)
            assert len({block.compact for block in page.blocks}) == 1
            for block in page.blocks:
                shown = block.author_line.split(" · ")[0]
                assert len(block.names) <= 3
                assert not shown.endswith(" et al.") or len(block.names) == 3
                assert block.author_line.count(" · ") <= 1
                # A complete list names the owner; only "et al." can hide them.
                assert shown.endswith(" et al.") or page.name in block.names


def test_pages_list_papers_newest_first_within_the_feed_years(
    pages: dict[str, dict[str, ProfilePage]],
) -> None:
    for folder_name, folder in pages.items():
        captured = date.fromisoformat(folder_name)
        for page in folder.values():
            dates = [resolved_date(block, captured) for block in page.blocks]
            assert dates == sorted(dates, reverse=True)
            assert all(date(2005, 1, 1) <= day <= captured for day in dates)
            for block, day in zip(page.blocks, dates, strict=True):
                assert (", " in block.meta) == (day.year != captured.year)


def test_a_shared_paper_looks_the_same_on_every_coauthors_page(
    pages: dict[str, dict[str, ProfilePage]],
) -> None:
    seen: dict[str, set[tuple[str, str, str | None]]] = defaultdict(set)
    n_pages: dict[str, int] = defaultdict(int)
    for page in pages[DEFAULT_CAPTURE_DATE.isoformat()].values():
        for block in page.blocks:
            seen[block.title].add((block.meta_without_score, block.author_line, block.abstract))
            n_pages[block.title] += 1
    assert all(len(versions) == 1 for versions in seen.values())
    assert sum(1 for count in n_pages.values() if count >= 2) >= 10


def test_summary_counts_distinct_papers_by_their_unique_titles(
    world: tuple[Path, SynthSummary], pages: dict[str, dict[str, ProfilePage]]
) -> None:
    titles = {
        block.title for folder in pages.values() for p in folder.values() for block in p.blocks
    }
    assert len(titles) == world[1].n_papers_distinct
    assert len({title.lower() for title in titles}) == len(titles)


def test_the_requested_variants_all_appear(pages: dict[str, dict[str, ProfilePage]]) -> None:
    first = list(pages[DEFAULT_CAPTURE_DATE.isoformat()].values())
    blocks = [(page, block) for page in first for block in page.blocks]
    names = [page.name for page in first]
    assert any(set(page.header) == {"h_index", "papers"} for page in first)
    assert any(
        set(page.header) >= {"category", "citations", "novelty", "ai_score"} for page in first
    )
    assert any(META_PARTS.fullmatch(block.meta)["score"] for _, block in blocks)  # type: ignore[index]
    assert 0 < sum(page.blocks[0].compact for page in first) <= 0.05 * len(first)
    assert any(page.name not in block.names for page, block in blocks)
    assert any(block.author_line.split(" · ")[0].endswith(" et al.") for _, block in blocks)
    assert any(" · " in block.author_line for _, block in blocks)
    assert any(block.abstract is None for _, block in blocks)
    assert any(block.meta.endswith("Code") for _, block in blocks)
    assert any(", " not in block.meta for _, block in blocks)
    categories = {META_PARTS.fullmatch(b.meta)["category"] for _, b in blocks}  # type: ignore[index]
    assert {"CV", "LG", "CL", "AI"} <= categories
    assert categories & {"DS", "IT", "NA"}
    assert UNKNOWN_CATEGORY in categories
    assert len(names) > len(set(names)), "two different people share a display name"
    assert any(CJK.search(name) for name in names)
    assert any(re.search(r"[^\x00-\x7f]", name) and not CJK.search(name) for name in names)
    assert any("-" in name for name in names)
    assert max(len(page.blocks) for page in first) >= 30


def test_recaptured_profiles_gain_papers_and_metrics_in_a_later_folder(
    pages: dict[str, dict[str, ProfilePage]],
) -> None:
    first = list(pages[DEFAULT_CAPTURE_DATE.isoformat()].values())
    later = [
        page for name, folder in pages.items() if name != "2026-11-25" for page in folder.values()
    ]
    assert later
    for page in later:
        titles = {block.title for block in page.blocks}
        (earlier,) = [
            old
            for old in first
            if old.name == page.name and {block.title for block in old.blocks} <= titles
        ]
        assert 1 <= len(page.blocks) - len(earlier.blocks) <= 3
        assert int(page.header["h_index"]) >= int(earlier.header["h_index"])
        assert set(page.header) == set(earlier.header)
        if "citations" in page.header:
            assert citations(page) > citations(earlier)  # type: ignore[operator]


def test_naive_floor_counts_every_block(
    world: tuple[Path, SynthSummary], pages: dict[str, dict[str, ProfilePage]]
) -> None:
    root, summary = world
    floor = naive_floor(root)
    assert floor.n_files == summary.n_files
    assert floor.n_bytes == summary.n_bytes
    assert floor.n_blocks == sum(p.n_heading for folder in pages.values() for p in folder.values())
    assert floor.seconds >= 0


def test_naive_floor_splits_the_real_sample_into_its_22_blocks(tmp_path: Path) -> None:
    if not REAL_SAMPLE.exists():
        pytest.skip("the committed sample is not in this checkout")
    (tmp_path / REAL_SAMPLE.name).write_bytes(REAL_SAMPLE.read_bytes())
    floor = naive_floor(tmp_path)
    assert (floor.n_files, floor.n_blocks) == (1, 22)
