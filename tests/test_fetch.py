"""The API fetch clients, replaying recorded real responses through httpx.MockTransport."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from flows import fetch
from flows.fetch import FetchError, fetch_openalex_author, fetch_semantic_scholar_author
from flows.formats.jsondump import read_json_dump

MEARMAN: Final = "openalex/mearman_ego/authors/A5017898742.json"
MEARMAN_WORKS: Final = (
    "openalex/mearman_ego/works_filter_authorships.author.id_A5017898742_per_page50.json"
)
DAY: Final = date(2026, 11, 25)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


class Recorder:
    """Wraps a handler and keeps each request with the fake time it was sent at."""

    def __init__(self, handler: Handler, time: FakeTime) -> None:
        self.handler = handler
        self.time = time
        self.requests: list[httpx.Request] = []
        self.sent_at: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.sent_at.append(self.time.now)
        return self.handler(request)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


def h_index(counts: Iterable[int | None]) -> int:
    """Largest h such that h papers have at least h citations."""
    ranked = sorted((count for count in counts if count is not None), reverse=True)
    return sum(1 for rank, count in enumerate(ranked, start=1) if count >= rank)


def _json(body: bytes | str, status: int = 200, **headers: str) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.Response(
        status, content=content, headers={"Content-Type": "application/json", **headers}
    )


def _openalex_handler(realdata: Path, works_pages: dict[str, bytes] | None = None) -> Handler:
    author = (realdata / MEARMAN).read_bytes()
    works = works_pages or {"*": (realdata / MEARMAN_WORKS).read_bytes()}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/authors/A5017898742":
            return _json(author)
        if request.url.path == "/works":
            return _json(works[request.url.params["cursor"]])
        return _json('{"error": "not found"}', 404)

    return handler


def _fetch_openalex(
    tmp_path: Path, recorder: Recorder, time: FakeTime, **options: Any
) -> list[Path]:
    return fetch_openalex_author(
        "https://openalex.org/A5017898742",
        tmp_path,
        client=recorder.client(),
        mailto="data@example.org",
        sleep=time.sleep,
        clock=time.clock,
        today=DAY,
        **options,
    )


def test_openalex_author_and_works_are_written_unchanged(realdata, tmp_path):
    time = FakeTime()
    recorder = Recorder(_openalex_handler(realdata), time)
    written = _fetch_openalex(tmp_path, recorder, time)
    folder = tmp_path / "openalex" / "2026-11-25"
    assert written == [folder / "A5017898742_author_1.json", folder / "A5017898742_works_1.json"]
    assert written[0].read_bytes() == (realdata / MEARMAN).read_bytes()
    assert written[1].read_bytes() == (realdata / MEARMAN_WORKS).read_bytes()
    assert sorted(path.name for path in folder.iterdir()) == [path.name for path in written]
    author_request, works_request = recorder.requests
    assert str(author_request.url).startswith(f"{fetch.OPENALEX_BASE_URL}/authors/A5017898742")
    assert author_request.url.params["mailto"] == "data@example.org"
    assert dict(works_request.url.params) == {
        "filter": "authorships.author.id:A5017898742",
        "per-page": "200",
        "cursor": "*",
        "mailto": "data@example.org",
    }


def test_fetched_openalex_files_read_back_with_the_reported_h_index(realdata, tmp_path):
    time = FakeTime()
    author_file, works_file = _fetch_openalex(
        tmp_path, Recorder(_openalex_handler(realdata), time), time
    )
    (profile,) = read_json_dump(author_file.read_text(encoding="utf-8")).profiles
    papers = read_json_dump(works_file.read_text(encoding="utf-8")).papers
    assert profile.h_index == h_index(paper.n_citations for paper in papers) == 2


def test_openalex_works_are_paged_by_cursor_until_an_empty_page(realdata, tmp_path):
    # The recorded list was fetched in one page; split its real results over two cursor pages.
    recorded = json.loads((realdata / MEARMAN_WORKS).read_text(encoding="utf-8"))
    first = {"meta": {**recorded["meta"], "next_cursor": "c2"}, "results": recorded["results"][:5]}
    second = {"meta": {**recorded["meta"], "next_cursor": "c3"}, "results": recorded["results"][5:]}
    last = {"meta": {**recorded["meta"], "next_cursor": None}, "results": []}
    pages = {"*": json.dumps(first), "c2": json.dumps(second), "c3": json.dumps(last)}
    time = FakeTime()
    recorder = Recorder(
        _openalex_handler(realdata, {key: body.encode() for key, body in pages.items()}), time
    )
    written = _fetch_openalex(tmp_path, recorder, time)
    assert [path.name for path in written] == [
        "A5017898742_author_1.json",
        "A5017898742_works_1.json",
        "A5017898742_works_2.json",
    ]
    assert [request.url.params.get("cursor") for request in recorder.requests] == [
        None,
        "*",
        "c2",
        "c3",
    ]
    papers = [paper for path in written[1:] for paper in read_json_dump(path.read_text()).papers]
    assert len(papers) == 9


def test_a_repeated_cursor_is_an_error_not_a_loop(realdata, tmp_path):
    page = json.dumps({"meta": {"next_cursor": "same"}, "results": [{"id": "x"}]}).encode()
    time = FakeTime()
    recorder = Recorder(_openalex_handler(realdata, {"*": page, "same": page}), time)
    with pytest.raises(FetchError, match="repeated cursor"):
        _fetch_openalex(tmp_path, recorder, time)


def test_openalex_requests_are_spaced_by_the_polite_interval(realdata, tmp_path):
    time = FakeTime()
    recorder = Recorder(_openalex_handler(realdata), time)
    _fetch_openalex(tmp_path, recorder, time)
    gaps = [later - earlier for earlier, later in pairwise(recorder.sent_at)]
    assert gaps == [pytest.approx(fetch.OPENALEX_POLITE_INTERVAL_S)]


def test_a_429_is_retried_after_the_time_retry_after_asks(realdata, tmp_path):
    answers = iter([_json('{"error": "slow down"}', 429, **{"Retry-After": "7"})])
    inner = _openalex_handler(realdata)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/works":
            return next(answers, None) or inner(request)
        return inner(request)

    time = FakeTime()
    recorder = Recorder(handler, time)
    written = _fetch_openalex(tmp_path, recorder, time)
    assert [request.url.path for request in recorder.requests] == ["/authors/A5017898742"] + [
        "/works"
    ] * 2
    assert 7.0 in time.sleeps
    assert recorder.sent_at[2] - recorder.sent_at[1] == pytest.approx(7.0)
    assert written[1].read_bytes() == (realdata / MEARMAN_WORKS).read_bytes()


def test_server_errors_and_transport_errors_back_off_exponentially(realdata, tmp_path):
    failures: list[Any] = [httpx.ConnectError("refused"), 503, 502]
    inner = _openalex_handler(realdata)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/authors") and failures:
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return _json("{}", failure)
        return inner(request)

    time = FakeTime()
    recorder = Recorder(handler, time)
    written = _fetch_openalex(tmp_path, recorder, time)
    # Three failed attempts wait 1, 2 and 4 seconds before trying again.
    assert time.sleeps[:3] == [1.0, 2.0, 4.0]
    assert len(written) == 2


def test_the_last_failed_retry_raises_a_clear_error(tmp_path):
    time = FakeTime()
    recorder = Recorder(lambda request: _json('{"error": "down"}', 500), time)
    with pytest.raises(FetchError) as caught:
        _fetch_openalex(tmp_path, recorder, time)
    assert str(caught.value) == (
        f"GET {fetch.OPENALEX_BASE_URL}/authors/A5017898742 failed after 5 attempts;"
        " last error: HTTP 500"
    )
    assert len(recorder.requests) == 5
    assert time.sleeps == [1.0, 2.0, 4.0, 8.0]


def test_a_fetch_that_fails_on_a_later_page_writes_no_file(realdata, tmp_path):
    inner = _openalex_handler(realdata)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/works":
            return _json('{"error": "down"}', 503)
        return inner(request)

    time = FakeTime()
    with pytest.raises(FetchError, match="last error: HTTP 503"):
        _fetch_openalex(tmp_path, Recorder(handler, time), time)
    assert list(tmp_path.rglob("*")) == []


def test_a_client_error_is_not_retried(tmp_path):
    time = FakeTime()
    recorder = Recorder(lambda request: _json('{"error": "Not found"}', 404), time)
    with pytest.raises(FetchError, match="HTTP 404"):
        _fetch_openalex(tmp_path, recorder, time)
    assert len(recorder.requests) == 1


def test_a_retry_after_beyond_the_limit_fails_instead_of_waiting(tmp_path):
    time = FakeTime()
    recorder = Recorder(lambda request: _json("{}", 429, **{"Retry-After": "86400"}), time)
    with pytest.raises(FetchError, match="Retry-After 86400s"):
        _fetch_openalex(tmp_path, recorder, time)
    assert len(recorder.requests) == 1


def test_a_retry_after_date_is_honoured():
    response = _json("{}", 503, **{"Retry-After": "Wed, 25 Nov 2026 10:00:30 GMT"})
    now = fetch.datetime(2026, 11, 25, 10, 0, 0, tzinfo=fetch.UTC)
    assert fetch._retry_after_s(response, now) == 30.0


def test_an_injected_client_is_left_open(realdata, tmp_path):
    time = FakeTime()
    client = httpx.Client(transport=httpx.MockTransport(_openalex_handler(realdata)))
    fetch_openalex_author(
        "A5017898742", tmp_path, client=client, sleep=time.sleep, clock=time.clock, today=DAY
    )
    assert not client.is_closed
    client.close()


def test_author_ids_are_checked_before_any_request(tmp_path):
    with pytest.raises(ValueError, match="not an OpenAlex author id"):
        fetch_openalex_author("W2250748100", tmp_path, client=httpx.Client())
    with pytest.raises(ValueError, match="not a Semantic Scholar author id"):
        fetch_semantic_scholar_author("../../etc", tmp_path, client=httpx.Client())


def test_a_rewritten_file_is_replaced_whole_and_no_temp_file_is_left(realdata, tmp_path):
    time = FakeTime()
    for _ in range(2):
        written = _fetch_openalex(tmp_path, Recorder(_openalex_handler(realdata), time), time)
    folder = written[0].parent
    assert sorted(path.name for path in folder.iterdir()) == sorted(path.name for path in written)


def _s2_handler(author_body: bytes, pages: dict[int, bytes]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/graph/v1")
        if path.endswith("/papers"):
            return _json(pages[int(request.url.params["offset"])])
        if path.startswith("/author/"):
            return _json(author_body)
        return _json('{"error": "not found"}', 404)

    return handler


def _cassette_pages(realdata: Path) -> dict[int, bytes]:
    yaml = pytest.importorskip("yaml")
    cassette = yaml.safe_load(
        (realdata / "semantic_scholar/test_get_author_papers.yaml").read_text(encoding="utf-8")
    )
    pages = {}
    for interaction in cassette["interactions"]:
        body = interaction["response"]["content"]
        pages[json.loads(body)["offset"]] = body.encode()
    return pages


def test_semantic_scholar_papers_are_paged_through_the_recorded_next_offsets(realdata, tmp_path):
    pages = _cassette_pages(realdata)
    # The cassette recorded only the papers pages of author 1723755; the author
    # request gets a minimal stand-in body.
    author_body = b'{"authorId": "1723755", "name": "author 1723755"}'
    time = FakeTime()
    recorder = Recorder(_s2_handler(author_body, pages), time)
    written = fetch_semantic_scholar_author(
        "1723755",
        tmp_path,
        client=recorder.client(),
        api_key="secret-key",
        sleep=time.sleep,
        clock=time.clock,
        today=DAY,
    )
    folder = tmp_path / "semantic_scholar" / "2026-11-25"
    assert written == [folder / "1723755_author_1.json"] + [
        folder / f"1723755_papers_{page}.json" for page in range(1, 10)
    ]
    assert [path.read_bytes() for path in written[1:]] == [
        pages[offset] for offset in sorted(pages)
    ]
    offsets = [request.url.params.get("offset") for request in recorder.requests[1:]]
    assert offsets == [str(offset) for offset in range(0, 900, 100)]
    assert all(request.headers["x-api-key"] == "secret-key" for request in recorder.requests)
    first_page = recorder.requests[1].url.params
    assert first_page["fields"] == fetch.SEMANTIC_SCHOLAR_PAPER_FIELDS
    assert first_page["limit"] == "100"
    assert recorder.requests[0].url.params["fields"] == fetch.SEMANTIC_SCHOLAR_AUTHOR_FIELDS
    gaps = [later - earlier for earlier, later in pairwise(recorder.sent_at)]
    assert all(gap >= fetch.SEMANTIC_SCHOLAR_INTERVAL_S for gap in gaps)
    papers = [paper for path in written[1:] for paper in read_json_dump(path.read_text()).papers]
    assert len(papers) == 875


def test_fetched_semantic_scholar_files_read_back_with_the_reported_h_index(realdata, tmp_path):
    # Turing's recorded author response, split as the API would page it: author fields in
    # one body, the real paper objects in pages of 25 with offset/next.
    recorded = json.loads((realdata / "semantic_scholar/Author.json").read_text(encoding="utf-8"))
    author = {key: value for key, value in recorded.items() if key != "papers"}
    papers = recorded["papers"]
    pages = {}
    for offset in range(0, len(papers), 25):
        page: dict[str, Any] = {"offset": offset, "data": papers[offset : offset + 25]}
        if offset + 25 < len(papers):
            page["next"] = offset + 25
        pages[offset] = json.dumps(page).encode()
    time = FakeTime()
    recorder = Recorder(_s2_handler(json.dumps(author).encode(), pages), time)
    written = fetch_semantic_scholar_author(
        "2262347", tmp_path, client=recorder.client(), sleep=time.sleep, clock=time.clock, today=DAY
    )
    assert len(written) == 1 + 3
    assert "x-api-key" not in recorder.requests[0].headers
    (profile,) = read_json_dump(written[0].read_text()).profiles
    read_papers = [
        paper for path in written[1:] for paper in read_json_dump(path.read_text()).papers
    ]
    assert len(read_papers) == profile.n_papers_declared == 60
    assert profile.h_index == h_index(paper.n_citations for paper in read_papers) == 23


def test_a_next_offset_that_does_not_advance_is_an_error(tmp_path):
    pages = {0: b'{"offset": 0, "next": 0, "data": []}'}
    time = FakeTime()
    recorder = Recorder(_s2_handler(b'{"authorId": "1", "name": "X"}', pages), time)
    with pytest.raises(FetchError, match="next=0 after offset 0"):
        fetch_semantic_scholar_author(
            "1", tmp_path, client=recorder.client(), sleep=time.sleep, clock=time.clock, today=DAY
        )


def test_a_body_that_is_not_json_is_an_error(tmp_path):
    time = FakeTime()
    recorder = Recorder(lambda request: httpx.Response(200, content=b"<html>busy</html>"), time)
    with pytest.raises(FetchError, match="the body is not JSON"):
        fetch_semantic_scholar_author(
            "1", tmp_path, client=recorder.client(), sleep=time.sleep, clock=time.clock, today=DAY
        )
