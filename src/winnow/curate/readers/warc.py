"""WARC files: HTML responses turned into main-content text with trafilatura.

A record shorter than its Content-Length (a truncated file), or a .warc.gz whose gzip data
breaks, never becomes a document: the records before are read, and the cut record (or the
place of the damage) is one quarantined row naming the record and the byte.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from winnow.curate.readers.base import RawBatch, Reader, quarantine_rows
from winnow.curate.readers.compressed import open_stream
from winnow.errors import WinnowError

SCHEMA = {
    "text": pl.Utf8,
    "url": pl.Utf8,
    "warc_record_id": pl.Utf8,
    "date": pl.Utf8,
    "content_type": pl.Utf8,
    "__line": pl.Int64,
}
"""Columns of a WARC batch; `__line` is the record's 1-based position among all records."""


def extract_text(html: bytes, url: str | None) -> str | None:
    """Main text of an HTML page, without menus and boilerplate, or None when there is none.

    trafilatura (and lxml under it) is imported here, on the first page, not by every run."""
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False, include_tables=True)


SHORT = "the record is cut short"
"""How the error of a record shorter than its Content-Length starts."""


def _missing(record: Any) -> int:
    """How many bytes of a record's declared Content-Length the file did not hold."""
    return int(getattr(record.raw_stream, "limit", 0) or 0)


def _short_error(record: Any) -> str:
    """The error of a record cut short by the end of the file."""
    declared = int(record.length or 0)
    return (
        f"{SHORT}: its Content-Length is {declared:,} bytes but the file ends after "
        f"{declared - _missing(record):,} (a truncated file); fetch the file again"
    )


def _url(record: Any) -> str:
    """A record's target URL, or empty."""
    return record.rec_headers.get_header("WARC-Target-URI") or ""


class WarcReader(Reader):
    """.warc and .warc.gz; response records only, request and metadata records are skipped."""

    formats = ("warc",)

    def __init__(self, **_options: Any) -> None:
        pass

    def read(self, path: Path, batch_rows: int) -> Iterator[RawBatch]:
        """Yield extracted pages in batches; pages that yield no text are quarantined."""
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        source = str(path)
        rows: list[dict[str, Any]] = []
        bad: list[tuple[int, str, str]] = []
        number, record, failure = 0, None, None
        with open_stream(path) as stream:
            try:
                for number, record in enumerate(ArchiveIterator(stream), start=1):
                    if record.rec_type != "response":
                        continue
                    page = self._page(record, number, bad)
                    if page is not None:
                        rows.append(page)
                    # a short record is the file's last; it stays for the damage to join
                    if len(rows) + len(bad) >= batch_rows and not _missing(record):
                        yield self._batch(source, rows, bad)
                        rows, bad = [], []
            except ArchiveLoadFailed as exc:
                if not number and stream.damage is None:
                    raise WinnowError(
                        f"{path}: is not a readable WARC file ({exc}); check the file or pass "
                        "--format."
                    ) from exc
                failure = str(exc)
        damage = stream.damage
        cut = number if record is not None and _missing(record) else None
        if cut is not None and not (bad and bad[-1][0] == cut):
            bad.append((cut, _short_error(record), _url(record)))
        if damage is not None or failure is not None:
            where = cut if cut is not None else number + 1
            if damage is not None:
                damage.line = where
                error = damage.describe("record")
            else:
                error = (
                    f"the WARC data breaks here ({failure}); the records before were read, "
                    "nothing after could be; fetch the file again"
                )
            if cut is not None:
                bad[-1] = (where, error, bad[-1][2])
            else:
                bad.append((where, error, ""))
        if rows or bad:
            yield self._batch(source, rows, bad)

    @staticmethod
    def _page(record: Any, number: int, bad: list[tuple[int, str, str]]) -> dict[str, Any] | None:
        """One response record as a row, or None after quarantining it with the reason."""
        headers = record.rec_headers
        url = headers.get_header("WARC-Target-URI")
        http = record.http_headers
        content_type = (http.get_header("Content-Type") if http else None) or ""
        body = record.content_stream().read()
        if _missing(record):
            bad.append((number, _short_error(record), url or ""))
            return None
        if "html" not in content_type.lower() and body.lstrip()[:1] != b"<":
            bad.append((number, f"response is '{content_type or 'unknown'}', not HTML", url or ""))
            return None
        text = extract_text(body, url)
        if not text:
            bad.append((number, "no text could be extracted from the HTML", url or ""))
            return None
        return {
            "text": text,
            "url": url,
            "warc_record_id": headers.get_header("WARC-Record-ID"),
            "date": headers.get_header("WARC-Date"),
            "content_type": content_type or None,
            "__line": number,
        }

    @staticmethod
    def _batch(
        source: str, rows: list[dict[str, Any]], bad: list[tuple[int, str, str]]
    ) -> RawBatch:
        """Build a batch with a fixed schema, so every shard has the same columns."""
        return RawBatch(source, pl.DataFrame(rows, schema=SCHEMA), quarantine_rows(source, bad))
