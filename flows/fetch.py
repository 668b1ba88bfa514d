"""Fetch raw API dumps of one author from OpenAlex or Semantic Scholar into the landing zone.

Each response body is written unchanged, one file per request, as
`<out_dir>/<source>/<YYYY-MM-DD>/<author id>_<kind>_<page>.json`; the dated folder is the
capture date the ingest reads. Files are written only once every page has arrived, so a
failed fetch leaves no partial paper list behind (it would understate the author's
h-index), and each file appears atomically (temp file + rename), so an ingest running at
the same time never sees half a file. The clients are polite: a minimum
interval between requests, and retries with exponential backoff on 429, 5xx and transport
errors, honouring `Retry-After`. The HTTP client, the sleep function and the clock are
injectable, so tests replay recorded responses without network and without waiting.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Final

import httpx

OPENALEX_BASE_URL: Final = "https://api.openalex.org"
SEMANTIC_SCHOLAR_BASE_URL: Final = "https://api.semanticscholar.org/graph/v1"

OPENALEX_WORKS_PER_PAGE: Final = 200  # the API's maximum page size
SEMANTIC_SCHOLAR_PAPERS_PER_PAGE: Final = 100
SEMANTIC_SCHOLAR_AUTHOR_FIELDS: Final = "name,hIndex,citationCount,paperCount,externalIds"
SEMANTIC_SCHOLAR_PAPER_FIELDS: Final = (
    "title,year,publicationDate,citationCount,authors,externalIds,fieldsOfStudy"
)

# OpenAlex allows 10 requests/s; with a mailto the request joins its "polite pool".
# Without one, stay well under the limit of the shared pool.
OPENALEX_POLITE_INTERVAL_S: Final = 0.1
OPENALEX_ANONYMOUS_INTERVAL_S: Final = 1.0
# Semantic Scholar: 1 request/s is both the default API key's limit and a fair share of the
# unauthenticated pool, which S2 throttles collectively.
SEMANTIC_SCHOLAR_INTERVAL_S: Final = 1.0

USER_AGENT: Final = "scholarhouse/0.1"
TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
# Transient by definition; any other 4xx is our request's fault and retrying cannot help.
_RETRY_STATUSES: Final = frozenset({408, 425, 429, 500, 502, 503, 504})
_OPENALEX_AUTHOR: Final = re.compile(r"^(?:https?://openalex\.org/)?([Aa]\d+)$")
_S2_AUTHOR: Final = re.compile(r"^\d+$")
_ERROR_BODY_SHOWN: Final = 300


class FetchError(RuntimeError):
    """A request failed for good: a non-retryable status, or every retry failed."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a request is retried."""

    attempts: int = 5
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    # A longer Retry-After means "come back later", not "retry now": fail clearly instead.
    retry_after_max_s: float = 600.0

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): 1, 2, 4, ..."""
        return min(self.backoff_base_s * 2 ** (attempt - 1), self.backoff_max_s)


DEFAULT_RETRY: Final = RetryPolicy()

Sleep = Callable[[float], None]
Clock = Callable[[], float]


def fetch_openalex_author(
    author_id: str,
    out_dir: Path,
    *,
    client: httpx.Client | None = None,
    mailto: str | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    today: date | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> list[Path]:
    """Dump an OpenAlex author and all their works (cursor-paged); return the files written."""
    short_id = _openalex_author_id(author_id)
    folder = _dated_folder(out_dir, "openalex", today)
    params: dict[str, str] = {"mailto": mailto} if mailto else {}
    interval = OPENALEX_POLITE_INTERVAL_S if mailto else OPENALEX_ANONYMOUS_INTERVAL_S
    headers = {"User-Agent": f"{USER_AGENT} mailto:{mailto}" if mailto else USER_AGENT}
    with _Session(client, headers, interval, sleep, clock, retry) as session:
        body, _ = session.get_json(f"{OPENALEX_BASE_URL}/authors/{short_id}", params)
        bodies = [(folder / f"{short_id}_author_1.json", body)]
        cursor: str | None = "*"
        seen: set[str] = set()
        page = 1
        while cursor is not None:
            body, data = session.get_json(
                f"{OPENALEX_BASE_URL}/works",
                {
                    "filter": f"authorships.author.id:{short_id}",
                    "per-page": str(OPENALEX_WORKS_PER_PAGE),
                    "cursor": cursor,
                    **params,
                },
            )
            results = data.get("results")
            if not isinstance(results, list):
                raise FetchError(f"OpenAlex works page {page} of {short_id} has no results list")
            # The page after the last one is empty; keep an empty first page as evidence.
            if results or page == 1:
                bodies.append((folder / f"{short_id}_works_{page}.json", body))
            if not results:
                break
            seen.add(cursor)
            cursor = _next_cursor(data)
            if cursor is not None and cursor in seen:
                raise FetchError(f"OpenAlex repeated cursor {cursor!r} for {short_id}")
            page += 1
    return [_write_atomic(path, body) for path, body in bodies]


def fetch_semantic_scholar_author(
    author_id: str,
    out_dir: Path,
    *,
    client: httpx.Client | None = None,
    api_key: str | None = None,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    today: date | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> list[Path]:
    """Dump a Semantic Scholar author and all their papers (offset-paged); return the files."""
    if not _S2_AUTHOR.match(author_id):
        raise ValueError(f"not a Semantic Scholar author id (digits only): {author_id!r}")
    folder = _dated_folder(out_dir, "semantic_scholar", today)
    headers = {"User-Agent": USER_AGENT}
    if api_key:
        headers["x-api-key"] = api_key
    base = f"{SEMANTIC_SCHOLAR_BASE_URL}/author/{author_id}"
    interval = SEMANTIC_SCHOLAR_INTERVAL_S
    with _Session(client, headers, interval, sleep, clock, retry) as session:
        body, _ = session.get_json(base, {"fields": SEMANTIC_SCHOLAR_AUTHOR_FIELDS})
        bodies = [(folder / f"{author_id}_author_1.json", body)]
        offset = 0
        page = 1
        while True:
            body, data = session.get_json(
                f"{base}/papers",
                {
                    "fields": SEMANTIC_SCHOLAR_PAPER_FIELDS,
                    "limit": str(SEMANTIC_SCHOLAR_PAPERS_PER_PAGE),
                    "offset": str(offset),
                },
            )
            if not isinstance(data.get("data"), list):
                raise FetchError(f"Semantic Scholar papers page {page} of {author_id} has no data")
            bodies.append((folder / f"{author_id}_papers_{page}.json", body))
            # `next` is absent on the last page.
            following = data.get("next")
            if following is None:
                break
            if not isinstance(following, int) or isinstance(following, bool) or following <= offset:
                raise FetchError(f"Semantic Scholar gave next={following!r} after offset {offset}")
            offset = following
            page += 1
    return [_write_atomic(path, body) for path, body in bodies]


class _Session:
    """One client, paced and retried; closes the client only if it made it."""

    def __init__(
        self,
        client: httpx.Client | None,
        headers: Mapping[str, str],
        interval_s: float,
        sleep: Sleep,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(timeout=TIMEOUT)
        self._headers = dict(headers)
        self._interval_s = interval_s
        self._sleep = sleep
        self._clock = clock
        self._retry = retry
        self._last_start: float | None = None

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._owns_client:
            self._client.close()

    def get_json(self, url: str, params: Mapping[str, str]) -> tuple[bytes, dict[str, Any]]:
        """GET with pacing and retries; the raw body and its decoded JSON object."""
        problem = "no attempt made"
        for attempt in range(1, self._retry.attempts + 1):
            self._pace()
            try:
                response = self._client.get(url, params=params, headers=self._headers)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
                wait = self._retry.backoff(attempt)
            else:
                if response.status_code == httpx.codes.OK:
                    return response.content, _json_object(response)
                if response.status_code not in _RETRY_STATUSES:
                    raise FetchError(
                        f"GET {response.request.url} failed with HTTP {response.status_code}: "
                        f"{response.text[:_ERROR_BODY_SHOWN]}"
                    )
                problem = f"HTTP {response.status_code}"
                told = _retry_after_s(response, datetime.now(UTC))
                wait = max(told or 0.0, self._retry.backoff(attempt))
                if told is not None and told > self._retry.retry_after_max_s:
                    raise FetchError(
                        f"GET {response.request.url}: HTTP {response.status_code} with "
                        f"Retry-After {told:.0f}s, longer than the "
                        f"{self._retry.retry_after_max_s:.0f}s this client waits"
                    )
            if attempt < self._retry.attempts:
                self._sleep(wait)
        raise FetchError(
            f"GET {url} failed after {self._retry.attempts} attempts; last error: {problem}"
        )

    def _pace(self) -> None:
        # Space request starts at least `interval_s` apart, including retries.
        now = self._clock()
        if self._last_start is not None:
            wait = self._last_start + self._interval_s - now
            if wait > 0:
                self._sleep(wait)
                now += wait
        self._last_start = now


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as error:
        raise FetchError(f"GET {response.request.url}: the body is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise FetchError(f"GET {response.request.url}: the body is not a JSON object")
    return data


def _retry_after_s(response: httpx.Response, now: datetime) -> float | None:
    # Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _next_cursor(data: Mapping[str, Any]) -> str | None:
    meta = data.get("meta")
    cursor = meta.get("next_cursor") if isinstance(meta, Mapping) else None
    return cursor if isinstance(cursor, str) and cursor else None


def _openalex_author_id(author_id: str) -> str:
    match = _OPENALEX_AUTHOR.match(author_id.strip())
    if not match:
        raise ValueError(
            f"not an OpenAlex author id (A… or https://openalex.org/A…): {author_id!r}"
        )
    return match.group(1).upper()


def _dated_folder(out_dir: Path, source: str, today: date | None) -> Path:
    day = today if today is not None else datetime.now(UTC).date()
    return out_dir / source / day.isoformat()


def _write_atomic(path: Path, body: bytes) -> Path:
    """Write `body` to `path` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp file sits in the target folder, on the same filesystem as the target.
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
            stream.flush()
            os.fsync(stream.fileno())
        temp.replace(path)  # os.replace: atomic within one filesystem
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
