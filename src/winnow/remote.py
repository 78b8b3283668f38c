"""Object storage through fsspec URLs (s3://, gs://, http(s)://, file://): list, copy, upload.

Reading: a URL source is listed once (sorted like local files, hidden names skipped) and each
object is streamed to a local copy under its own name in a temporary folder, read by the
same reader as a local file, and deleted as soon as that file is read. One code path for
every format means the same bytes give the same ids, line numbers, quarantine rows and
compression handling as a local run; formats that read a file twice or out of order
(Parquet footers, CSV headers, JSON array sniffing) do so on local disk instead of through
ranged requests; memory stays bounded because the copy is streamed in chunks, and the disk
needed is the size of the largest single file (under $TMPDIR). Engines' native URL readers
would cover only some formats, each with its own retry and error behaviour.

Writing: object stores have no atomic rename, so a file is put under a hidden temporary key
and moved into place (the final key is absent or complete, never half written), and a dataset
folder is uploaded with manifest.json last: a pushed version without manifest.json is
incomplete. Credentials come from each library's usual environment (AWS_* variables and
profiles for s3fs, GOOGLE_APPLICATION_CREDENTIALS for gcsfs) and fsspec's config
(~/.config/fsspec/, FSSPEC_<PROTOCOL>_<OPTION> variables).

Filesystems are made fresh for each listing and each read of a source, so neither fsspec's
instance cache nor its listing cache can serve a stale listing.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from glob import has_magic
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from winnow.errors import WinnowError

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
"""A URL's protocol prefix; Windows drive letters (C:\\) never match."""

LOCAL_PROTOCOLS = ("file", "local")
"""Protocols that name this machine's files, read as plain paths."""

STAMP_KEYS = ("ETag", "etag", "generation", "md5Hash", "mtime", "LastModified", "Last-Modified")
"""Info fields that change when an object's content changes, most specific first."""

GCS_HOST = "storage.googleapis.com"
DNS_SECONDS = 3.0
"""How long a gs:// host may take to resolve before the URL is declared unreachable."""

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")

ACCESS_WORDS = (
    "credentials",
    "forbidden",
    "access denied",
    "accessdenied",
    "invalidaccesskeyid",
    "signaturedoesnotmatch",
    "unauthorized",
)
"""Words in a library's error (lower case) that mean the credentials were refused or missing."""

CREDENTIAL_ADVICE = {
    "s3": "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), and "
    "AWS_ENDPOINT_URL for an S3-compatible store",
    "gs": "set GOOGLE_APPLICATION_CREDENTIALS to a key file or run "
    "'gcloud auth application-default login'",
}
"""What to do about credentials, per protocol family."""


@dataclass(frozen=True)
class RemoteFile:
    """One object of a URL source as listed: where it is and what identifies its content."""

    url: str
    path: str
    name: str
    """The name relative to the listed root, the same on every machine."""
    size: int | None
    stamp: str
    """ETag, generation or modification time: changes when the content does."""


@dataclass(frozen=True)
class Listing:
    """What a URL names: one object, every object under a prefix, or the matches of a glob."""

    kind: Literal["file", "prefix", "glob"]
    root: str
    files: list[RemoteFile]


def protocol(text: str) -> str | None:
    """The protocol of a URL (s3, gs, file, ...), None for a plain path."""
    match = SCHEME.match(text)
    return match.group(1).lower() if match else None


def is_url(text: str) -> bool:
    """Whether a location is written as a URL rather than a local path."""
    return protocol(text) is not None


def is_remote(text: str) -> bool:
    """Whether a location is a URL that is not on this machine (file:// is local)."""
    return protocol(text) not in (None, *LOCAL_PROTOCOLS)


def local_path(url: str) -> Path:
    """The local path a file:// URL names; only absolute ones are accepted."""
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
        raise WinnowError(
            f"{url}: a file URL must name an absolute path (file:///abs/path); write it so."
        )
    return Path(url2pathname(unquote(parsed.path)))


def _family(proto: str) -> str:
    """s3 or gs for their aliases, else the protocol itself, to pick advice."""
    return {"s3a": "s3", "gcs": "gs"}.get(proto, proto)


def _detail(exc: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _access_denied(exc: BaseException) -> bool:
    """Whether a library's error means the credentials were missing, wrong or not allowed."""
    status = getattr(exc, "status", None) or getattr(exc, "code", None)
    if isinstance(exc, PermissionError) or status in (401, 403):
        return True
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in ACCESS_WORDS)


def _unreachable(exc: BaseException) -> bool:
    """Whether a library's error means the service could not be reached at all."""
    return isinstance(exc, OSError) or "connect" in type(exc).__name__.lower()


def _behind(exc: BaseException) -> BaseException:
    """The network or access error that fsspec's HTTP filesystem hides in a FileNotFoundError."""
    cause = exc.__cause__
    hidden = cause is not None and (_access_denied(cause) or _unreachable(cause))
    return cause if isinstance(exc, FileNotFoundError) and hidden else exc


def explain(url: str, exc: BaseException) -> WinnowError:
    """One sentence for what a storage library raised: missing object, access refused, network."""
    proto = protocol(url) or "file"
    exc = _behind(exc)
    detail = _detail(exc)
    if isinstance(exc, FileNotFoundError):
        why = "" if detail in url else f" ({detail})"
        return WinnowError(
            f"{url}: no such bucket, object or prefix{why}; check the URL and that the "
            "credentials in use can see it."
        )
    if _access_denied(exc):
        advice = CREDENTIAL_ADVICE.get(
            _family(proto), f"set credentials in fsspec's config (FSSPEC_{proto.upper()}_...)"
        )
        return WinnowError(f"{url}: access was refused ({detail}); {advice}.")
    if _unreachable(exc):
        where = "the endpoint (AWS_ENDPOINT_URL)" if _family(proto) == "s3" else "the URL's host"
        return WinnowError(
            f"{url}: the storage service could not be reached ({detail}); check the network "
            f"and {where}."
        )
    return WinnowError(
        f"{url}: {type(exc).__name__} ({detail}); check the URL, the credentials and the network."
    )


def _missing_package(url: str, proto: str) -> WinnowError:
    """The error for a protocol fsspec does not know, or whose implementation is not installed."""
    from fsspec.registry import known_implementations

    known = known_implementations.get(proto)
    if known is None:
        return WinnowError(
            f"{url}: '{proto}://' is not a protocol fsspec knows; use s3://, gs://, "
            "http(s):// or file://."
        )
    package = known["class"].split(".")[0]
    return WinnowError(
        f"{url}: reading {proto}:// needs the '{package}' package, which is not installed; "
        f"install it (pip install {package}, or winnow-llm[scale] for s3fs and gcsfs)."
    )


@contextmanager
def remote_errors(url: str) -> Iterator[None]:
    """Turn what fsspec and its libraries raise into one WinnowError sentence naming the URL."""
    try:
        yield
    except WinnowError:
        raise
    except Exception as exc:
        raise explain(url, exc) from exc


def _resolves(host: str) -> bool:
    """Whether a host name resolves within DNS_SECONDS (a hung resolver counts as no)."""
    found: list[bool] = []

    def look_up() -> None:
        with suppress(OSError):
            socket.getaddrinfo(host, None)
            found.append(True)

    thread = threading.Thread(target=look_up, daemon=True)
    thread.start()
    thread.join(DNS_SECONDS)
    return bool(found)


def _gcs_host() -> str:
    """The host gcsfs talks to: the emulator or configured endpoint, else Google's."""
    import fsspec.config

    configured = os.environ.get("STORAGE_EMULATOR_HOST", "")
    for proto in ("gs", "gcs"):
        configured = configured or fsspec.config.conf.get(proto, {}).get("endpoint_url", "")
    if configured in ("", "default"):
        return GCS_HOST
    return urlparse(configured if "://" in configured else f"http://{configured}").hostname or ""


def _check_reachable(url: str, proto: str) -> None:
    """Fail at once when gs:// cannot be reached, before gcsfs spends ~15 s probing for
    credentials and ~30 s retrying; skipped behind a proxy, where DNS may not answer."""
    if _family(proto) != "gs" or any(os.environ.get(v) for v in PROXY_VARIABLES):
        return
    host = _gcs_host()
    if host and not _resolves(host):
        raise WinnowError(
            f"{url}: the storage host {host} cannot be resolved (offline or no DNS); connect to "
            "the network, or copy the data to a local folder and read that."
        )


def filesystem(url: str) -> tuple[AbstractFileSystem, str]:
    """A fresh filesystem for a URL (no cached instance or listing) and the path within it."""
    import fsspec

    proto = protocol(url) or "file"
    try:
        fsspec.get_filesystem_class(proto)
    except (ImportError, ValueError) as exc:
        raise _missing_package(url, proto) from exc
    _check_reachable(url, proto)
    with remote_errors(url):
        return fsspec.core.url_to_fs(url, skip_instance_cache=True)


def _stamp(info: dict[str, Any]) -> str:
    """What identifies an object's content version in its info (ETag first)."""
    for key in STAMP_KEYS:
        if info.get(key) not in (None, ""):
            return str(info[key])
    return ""


def _relative(path: str, root: str) -> str:
    """A path relative to a listing root, or its last part when it is not under the root."""
    prefix = root.rstrip("/") + "/"
    return path[len(prefix) :] if root and path.startswith(prefix) else path.rsplit("/", 1)[-1]


def _glob_root(pattern: str) -> str:
    """The part of a glob before its first wildcard, which relative names start from."""
    parts = pattern.split("/")
    plain = parts[: next(i for i, p in enumerate(parts) if has_magic(p))]
    return "/".join(plain)


def _remote_file(fs: AbstractFileSystem, path: str, info: dict[str, Any], root: str) -> RemoteFile:
    """One listed object, named relative to the listing root; asked for its size and stamp
    when the listing lacks them (links scraped from an HTTP index page)."""
    if info.get("size") is None or not _stamp(info):
        info = {**info, **fs.info(path)}
    url = fs.unstrip_protocol(path)
    return RemoteFile(url, path, _relative(path, root), info.get("size"), _stamp(info))


def _files(fs: AbstractFileSystem, found: dict[str, dict[str, Any]], root: str) -> list[RemoteFile]:
    """Listed objects that are files, hidden names skipped, sorted as local paths sort."""
    files = [_remote_file(fs, p, i, root) for p, i in found.items() if i.get("type") == "file"]
    shown = [f for f in files if not any(part.startswith(".") for part in f.name.split("/"))]
    return sorted(shown, key=lambda f: f.path.split("/"))


def list_url(url: str) -> Listing:
    """List what a URL names: one object, every object under a prefix, or a glob's matches."""
    fs, path = filesystem(url)
    with remote_errors(url):
        if has_magic(path):
            root = _glob_root(path)
            return Listing("glob", root, _files(fs, fs.glob(path, detail=True), root))
        info = fs.info(path)
        if info.get("type") == "file" and not path.endswith("/"):
            root = path.rsplit("/", 1)[0] if "/" in path else ""
            return Listing("file", root, [_remote_file(fs, path, info, root)])
        return Listing("prefix", path, _files(fs, fs.find(path, detail=True), path))


def _protocols(fs: AbstractFileSystem) -> tuple[str, ...]:
    """Every protocol name a filesystem answers to."""
    return tuple(fs.protocol) if isinstance(fs.protocol, tuple | list) else (fs.protocol,)


def _is_local(fs: AbstractFileSystem) -> bool:
    """Whether a filesystem writes this machine's files, where folders must exist first."""
    return any(p in LOCAL_PROTOCOLS for p in _protocols(fs))


def _streamed(fs: AbstractFileSystem) -> dict[str, int]:
    """Transfer options that keep memory small: s3fs otherwise moves a large object as 10
    parallel 50 MiB parts held in memory (a 300 MiB download peaked at 428 MiB RSS, 81 MiB
    streamed)."""
    return {"max_concurrency": 1} if "s3" in _protocols(fs) else {}


@contextmanager
def local_copy(fs: AbstractFileSystem, file: RemoteFile) -> Iterator[Path]:
    """A streamed local copy of one object under its own name, deleted when the caller is done."""
    folder = Path(tempfile.mkdtemp(prefix="winnow-remote-"))
    try:
        target = folder / file.name.rsplit("/", 1)[-1]
        with remote_errors(file.url):
            fs.get_file(file.path, str(target), **_streamed(fs))
        if file.size is not None and target.stat().st_size != file.size:
            raise WinnowError(
                f"{file.url}: changed while it was being read ({target.stat().st_size} bytes, "
                f"listed as {file.size}); run the command again."
            )
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def upload_file(fs: AbstractFileSystem, local: Path, path: str) -> None:
    """Put a file under a hidden temporary key, then move it into place: the final key is
    either absent or complete, whatever the store and whenever the upload stops."""
    parent, _, name = path.rpartition("/")
    temporary = f"{parent}/.{name}.{secrets.token_hex(4)}.partial"
    if _is_local(fs):
        fs.makedirs(parent, exist_ok=True)
    try:
        fs.put_file(str(local), temporary, **_streamed(fs))
        fs.mv(temporary, path)
    except BaseException:
        with suppress(Exception):
            fs.rm(temporary)
        raise


def upload(local: Path, url: str) -> None:
    """Upload one local file to a URL (see `upload_file`)."""
    fs, path = filesystem(url)
    with remote_errors(url):
        upload_file(fs, local, path)


@contextmanager
def staged_upload(url: str) -> Iterator[Path]:
    """A local path named like the URL's last part; the file or folder the caller writes there
    is uploaded to the URL once the caller is done, and nothing is uploaded if it fails."""
    filesystem(url)
    with tempfile.TemporaryDirectory(prefix="winnow-upload-") as folder:
        local = Path(folder) / url.rstrip("/").rsplit("/", 1)[-1]
        yield local
        if local.is_dir():
            upload_folder(local, url)
        else:
            upload(local, url)


def read_bytes(url: str) -> bytes | None:
    """The content of an object, or None when there is none."""
    fs, path = filesystem(url)
    with remote_errors(url):
        return fs.cat_file(path) if fs.exists(path) else None


def has_files(url: str) -> bool:
    """Whether any object lives at or under a URL."""
    fs, path = filesystem(url)
    with remote_errors(url):
        return fs.exists(path) and (fs.isfile(path) or bool(fs.find(path)))


def upload_folder(folder: Path, url: str, last: str | None = None) -> int:
    """Upload every file of a folder under a URL prefix, checking all arrived before the file
    named `last` goes up, so its presence means the rest is complete; returns the file count."""
    fs, root = filesystem(url)
    root = root.rstrip("/")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    names = [p.relative_to(folder).as_posix() for p in files]
    with remote_errors(url):
        for local, name in zip(files, names, strict=True):
            if name != last:
                upload_file(fs, local, f"{root}/{name}")
        fs.invalidate_cache()
        listed = {_relative(p, root): i.get("size") for p, i in fs.find(root, detail=True).items()}
        for local, name in zip(files, names, strict=True):
            if name != last and listed.get(name) != local.stat().st_size:
                raise WinnowError(
                    f"{url}/{name}: did not arrive complete ({listed.get(name)} of "
                    f"{local.stat().st_size} bytes); run the command again."
                )
        if last in names:
            upload_file(fs, folder / last, f"{root}/{last}")
    return len(files)
