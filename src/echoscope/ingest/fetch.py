"""The one way echoscope fetches a URL.

Feed lists and URLs come from documents and users we do not control, so a fetch must not
become a way into the machine's own network (SSRF): only http(s), only public addresses
(checked after DNS resolution, on the address actually connected to, and again on every
redirect), bounded in size and time, and announced by a clear user agent.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from echoscope import __version__

USER_AGENT = (
    f"echoscope/{__version__} (text provenance research; +https://pypi.org/project/echoscope/)"
)
MAX_BYTES = 20 * 1024 * 1024
TIMEOUT_S = 20.0
MAX_REDIRECTS = 5


class FetchError(RuntimeError):
    """A URL that was refused or could not be fetched; the message says why."""


@dataclass
class FetchPolicy:
    allow_private: bool = False
    max_bytes: int = MAX_BYTES
    timeout_s: float = TIMEOUT_S
    max_redirects: int = MAX_REDIRECTS
    user_agent: str = USER_AGENT


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)

    @property
    def charset(self) -> str | None:
        for part in self.content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip("\"' ")
        return None


def check_address(ip: str, allow_private: bool) -> None:
    """Raise FetchError unless ``ip`` is a public unicast address.

    ``allow_private`` admits loopback and private ranges (a feed on your own machine or
    office network) but never link-local addresses, where cloud metadata services live.
    """
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address):
        embedded = addr.ipv4_mapped or addr.sixtofour or (addr.teredo[1] if addr.teredo else None)
        if embedded is not None:
            addr = embedded
    if addr.is_loopback:
        if allow_private:
            return
        raise FetchError(
            f"refused: {addr} is a loopback address (pass --allow-private to fetch it)"
        )
    if addr.is_link_local:
        raise FetchError(f"refused: {addr} is a link-local address (never fetched)")
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved:
        raise FetchError(f"refused: {addr} is not a unicast address")
    if addr.is_private or not addr.is_global:
        if allow_private:
            return
        raise FetchError(f"refused: {addr} is a private address (pass --allow-private to fetch it)")


def _resolve(host: str, port: int, allow_private: bool) -> list[tuple]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host!r}: {exc.strerror or exc}") from exc
    if not infos:
        raise FetchError(f"cannot resolve {host!r}")
    # Every address the name resolves to must pass, so DNS cannot smuggle one in.
    for info in infos:
        check_address(info[4][0], allow_private)
    return infos


def _guarded_connector(allow_private: bool):
    def connect(address, timeout=None, source_address=None):
        host, port = address
        last: OSError | None = None
        for family, socktype, proto, _, sockaddr in _resolve(host, port, allow_private):
            sock = socket.socket(family, socktype, proto)
            try:
                if timeout is not None:
                    sock.settimeout(timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                last = exc
        raise FetchError(f"cannot connect to {host}:{port}: {last}")

    return connect


def fetch(url: str, policy: FetchPolicy | None = None) -> FetchResult:
    """GET ``url`` under ``policy``. Raises FetchError with a readable reason."""
    policy = policy or FetchPolicy()
    deadline = time.monotonic() + policy.timeout_s
    redirects: list[str] = []
    current = url
    for _ in range(policy.max_redirects + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"refused: only http and https URLs are fetched, not {current!r}")
        if not parts.hostname:
            raise FetchError(f"refused: no host in {current!r}")
        if parts.username or parts.password:
            raise FetchError("refused: URLs with credentials are not fetched")
        try:
            ipaddress.ip_address(parts.hostname)
        except ValueError:
            pass
        else:
            check_address(parts.hostname, policy.allow_private)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchError(f"timed out after {policy.timeout_s:.0f} s")
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=remaining)
        conn._create_connection = _guarded_connector(policy.allow_private)  # type: ignore[attr-defined]
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn.request(
                "GET",
                path,
                headers={
                    "User-Agent": policy.user_agent,
                    "Accept": "*/*",
                    "Accept-Encoding": "identity",
                },
            )
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                conn.close()
                if not location:
                    raise FetchError(f"redirect {resp.status} without a Location from {current}")
                redirects.append(current)
                current = urljoin(current, location)
                continue
            length = resp.getheader("Content-Length")
            if length and length.isdigit() and int(length) > policy.max_bytes:
                raise FetchError(
                    f"refused: {current} is {int(length)} bytes, over the {policy.max_bytes} limit"
                )
            chunks: list[bytes] = []
            total = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {policy.timeout_s:.0f} s reading {current}")
                chunk = resp.read(65536)
                if not chunk:
                    break
                total += len(chunk)
                if total > policy.max_bytes:
                    raise FetchError(
                        f"refused: {current} is over the {policy.max_bytes} byte limit"
                    )
                chunks.append(chunk)
            if resp.status >= 400:
                raise FetchError(f"HTTP {resp.status} {resp.reason} from {current}")
            return FetchResult(
                url=current,
                status=resp.status,
                content_type=resp.getheader("Content-Type") or "",
                body=b"".join(chunks),
                headers={k.lower(): v for k, v in resp.getheaders()},
                redirects=redirects,
            )
        except FetchError:
            raise
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"cannot fetch {current}: {exc}") from exc
        finally:
            conn.close()
    raise FetchError(f"too many redirects (over {policy.max_redirects}) from {url}")
