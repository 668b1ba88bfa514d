"""Landing-zone safety of discovery and reading, file by file (no flow, no Prefect).

The whole-run view of the same rules (every entry in `ingest_file`, names queried with
parameters, nothing outside read) is in `test_bad_input_corpus.py`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows import landing
from flows.formats import MAX_FILE_BYTES
from flows.formats.profile_page import MAX_LINE_CHARS
from flows.formats.records import ParsedFile, Quarantine
from flows.ingest import RunSummary
from flows.landing import RawFile, discover, file_stats, read_raw_file
from tests.conftest import SAMPLE
from tests.reliability.pages import page

LINK_REASON = "symbolic link: not followed"


@pytest.fixture(autouse=True, params=["one stat a file", "stats in bulk"])
def stats(request, monkeypatch) -> str:
    """Every rule holds whichever way the files' sizes and times are asked: one `lstat` a
    file (small landing zones) or pyarrow's, across threads (from `_STAT_IN_BULK_FROM`)."""
    if request.param == "stats in bulk":
        monkeypatch.setattr(landing, "_STAT_IN_BULK_FROM", 1)
    return request.param


def _by_path(raw: Path) -> dict[str, RawFile]:
    return {found.path: found for found in discover(raw)}


def test_discovery_is_recursive_sorted_and_names_files_relative_to_the_landing_zone(tmp_path: Path):
    deep = tmp_path / "raw" / "a" / "b" / "c" / "d" / "2026-11-25"
    deep.mkdir(parents=True)
    (deep / "page.txt").write_text(page(1), encoding="utf-8")
    (tmp_path / "raw" / "top.txt").write_text(page(2), encoding="utf-8")
    (tmp_path / "raw" / "empty folder").mkdir()
    found = discover(tmp_path / "raw")
    assert [f.path for f in found] == ["a/b/c/d/2026-11-25/page.txt", "top.txt"]
    assert all(f.skip_reason is None and f.size_bytes > 0 for f in found)


def test_links_to_files_and_folders_inside_and_outside_are_listed_and_never_followed(
    tmp_path: Path,
):
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    (raw / "pages").mkdir(parents=True)
    outside.mkdir()
    (raw / "pages" / "p.txt").write_text(page(1), encoding="utf-8")
    (outside / "secret.txt").write_text(page(2), encoding="utf-8")
    (raw / "file_inside.txt").symlink_to(raw / "pages" / "p.txt")
    (raw / "file_outside.txt").symlink_to(outside / "secret.txt")
    (raw / "folder_inside").symlink_to(raw / "pages", target_is_directory=True)
    (raw / "folder_outside").symlink_to(outside, target_is_directory=True)
    (raw / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (raw / "etc_passwd").symlink_to("/etc/passwd")
    found = _by_path(raw)
    links = ("file_inside.txt", "file_outside.txt", "folder_inside", "folder_outside")
    for name in (*links, "dangling.txt", "etc_passwd"):
        assert found[name].skip_reason == LINK_REASON, name
    assert set(found) == {"pages/p.txt", *links, "dangling.txt", "etc_passwd"}
    for name in links:
        result = read_raw_file(raw, found[name], frozenset())
        assert result.sha256 == "" and isinstance(result.parsed, Quarantine)
        assert result.parsed.reason == LINK_REASON


def test_a_folder_swapped_for_a_link_to_outside_after_discovery_is_not_read(tmp_path: Path):
    raw, outside = tmp_path / "raw", tmp_path / "outside"
    (raw / "sub").mkdir(parents=True)
    outside.mkdir()
    (raw / "sub" / "page.txt").write_text(page(1), encoding="utf-8")
    (outside / "page.txt").write_text(page(2), encoding="utf-8")
    (found,) = discover(raw)
    (raw / "sub").rename(tmp_path / "moved")
    (raw / "sub").symlink_to(outside, target_is_directory=True)
    result = read_raw_file(raw, found, frozenset())
    assert result.sha256 == "" and isinstance(result.parsed, Quarantine)
    assert "outside the raw folder" in result.parsed.reason


def test_a_file_swapped_for_a_link_after_discovery_is_not_read(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "page.txt").write_text(page(1), encoding="utf-8")
    (found,) = discover(raw)
    (raw / "page.txt").unlink()
    (raw / "page.txt").symlink_to("/etc/passwd")
    result = read_raw_file(raw, found, frozenset())
    assert result.sha256 == "" and isinstance(result.parsed, Quarantine)
    assert result.parsed.reason.startswith("cannot be read")


def test_names_with_quotes_semicolons_spaces_and_line_breaks_are_plain_data(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    names = [
        "it's; drop table ingest_file; --.txt",
        'say "hello" (1).txt',
        "  spaces  around  .txt",
        "line\nbreak.txt",
        "tab\there.txt",
        "résumé – 履歴書.txt",
        "$(rm -rf ~).txt",
        "%s %d {0}.txt",
    ]
    for number, name in enumerate(names):
        (raw / name).write_text(page(number), encoding="utf-8")
    found = discover(raw)
    assert sorted(f.path for f in found) == sorted(names)
    for raw_file in found:
        result = read_raw_file(raw, raw_file, frozenset())
        assert isinstance(result.parsed, ParsedFile) and result.parsed.papers


def test_a_file_name_that_is_not_utf8_is_listed_escaped_and_not_read(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with open(os.fsencode(raw) + b"/caf\xe9.txt", "wb") as handle:  # noqa: PTH123
        handle.write(SAMPLE.read_bytes())
    (found,) = discover(raw)
    assert found.path == "caf\\xe9.txt"
    assert found.skip_reason is not None and "not valid UTF-8" in found.skip_reason
    found.path.encode("utf-8")  # storable as text


def test_size_limit_quarantines_before_reading_and_while_reading(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    with (raw / "huge.txt").open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    (raw / "grows.txt").write_text(page(1), encoding="utf-8")
    found = _by_path(raw)
    assert found["huge.txt"].skip_reason == (
        f"file is {MAX_FILE_BYTES + 1:,} bytes (limit {MAX_FILE_BYTES:,})"
    )
    # Still being written: small when listed, over the limit when read.
    with (raw / "grows.txt").open("r+b") as handle:
        handle.truncate(MAX_FILE_BYTES + 10 * 1024 * 1024)
    result = read_raw_file(raw, found["grows.txt"], frozenset())
    assert isinstance(result.parsed, Quarantine)
    assert f"(limit {MAX_FILE_BYTES:,})" in result.parsed.reason
    assert result.size_bytes <= MAX_FILE_BYTES + (1 << 20)  # stopped reading past the limit


def test_line_length_limit_quarantines_with_the_line_and_its_length(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    text = page(1)
    head, _, rest = text.partition(" Papers\n\n")
    meta, _, after = rest.partition("\n")
    _, _, after_title = after.partition("\n")
    line = head.count("\n") + 4  # the heading, a blank line, the meta line, the title
    for name, length in (("at_limit.txt", MAX_LINE_CHARS), ("over_limit.txt", MAX_LINE_CHARS + 1)):
        long_title = "T" * length
        (raw / name).write_text(f"{head} Papers\n\n{meta}\n{long_title}\n{after_title}", "utf-8")
    found = _by_path(raw)
    at_limit = read_raw_file(raw, found["at_limit.txt"], frozenset())
    over = read_raw_file(raw, found["over_limit.txt"], frozenset())
    assert isinstance(at_limit.parsed, ParsedFile)
    assert isinstance(over.parsed, Quarantine)
    assert over.parsed.reason == (
        f"line {line} is {MAX_LINE_CHARS + 1:,} characters long "
        f"(limit {MAX_LINE_CHARS:,} for a profile page)"
    )


def test_raw_files_are_opened_read_only_and_left_as_they_were(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    target = raw / "page.txt"
    target.write_text(page(1), encoding="utf-8")
    target.chmod(0o444)
    os.utime(target, ns=(1_000_000_000, 2_000_000_000))
    before = (target.read_bytes(), target.stat().st_mtime_ns, target.stat().st_mode)
    (found,) = discover(raw)
    result = read_raw_file(raw, found, frozenset())
    assert isinstance(result.parsed, ParsedFile)
    assert (target.read_bytes(), target.stat().st_mtime_ns, target.stat().st_mode) == before


def test_file_names_cannot_forge_rows_of_the_run_summary():
    forged = "notes.txt\n| loaded | 999 |\n| x"
    summary = RunSummary(
        warehouse="w.duckdb",
        files={"quarantined": 1},
        quarantined=[(forged, "not a profile page | really")],
    )
    lines = summary.to_markdown().splitlines()
    assert "| loaded | 999 |" not in lines
    (row,) = [line for line in lines if line.startswith("| notes.txt")]
    # One row, two cells: the bars inside the name and the reason are escaped.
    assert len(row.replace("\\|", "").split("|")) == 4 and "999" in row


def test_a_file_gone_or_replaced_after_its_folder_was_listed_has_no_size(tmp_path: Path):
    """Between a folder's listing and the files' `stat`s an entry can go, or become a folder
    or a pipe: it is then not a regular file to list (the next run sees it as it is)."""
    (tmp_path / "page.txt").write_text(page(1), encoding="utf-8")
    (tmp_path / "empty.txt").touch()
    (tmp_path / "now a folder").mkdir()
    os.mkfifo(tmp_path / "now a pipe")
    names = ["page.txt", "gone.txt", "now a folder", "now a pipe", "empty.txt"]
    sizes, mtimes = file_stats([str(tmp_path / name) for name in names])
    info = (tmp_path / "page.txt").stat()
    assert sizes == [info.st_size, None, None, None, 0]
    assert mtimes == [
        info.st_mtime_ns,
        None,
        None,
        None,
        (tmp_path / "empty.txt").stat().st_mtime_ns,
    ]


def test_bulk_stats_agree_with_one_stat_a_file_on_many_files(tmp_path: Path, monkeypatch):
    """pyarrow's, over several parts (one per core), in the order asked; and, with a name
    among them that is not UTF-8 (which pyarrow refuses), all of them one by one."""
    for i in range(300):
        folder = tmp_path / f"{i % 7:02d}"
        folder.mkdir(exist_ok=True)
        (folder / f"{i}.txt").write_bytes(b"x" * i)
    paths = sorted(str(path) for path in tmp_path.rglob("*.txt"))
    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/bad\xff.txt")
    Path(bad).write_bytes(b"abc")
    monkeypatch.setattr(landing, "_STAT_IN_BULK_FROM", 10**9)
    one_by_one = file_stats(paths)
    assert one_by_one[0] == [os.lstat(path).st_size for path in paths]
    assert landing._bulk_stats(paths) == one_by_one
    with_bad = [*paths[:150], bad, *paths[150:]]
    with pytest.raises(UnicodeError):
        landing._bulk_stats(with_bad)
    expected = file_stats(with_bad)
    assert expected[0][150] == 3
    monkeypatch.setattr(landing, "_STAT_IN_BULK_FROM", 1)
    assert file_stats(with_bad) == expected
