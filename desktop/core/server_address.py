"""A server the user chose (a ComfyUI URL and its optional Bearer token), checked before anything is sent.

The URL must be plain http(s) to a host, with no user name or password in it (the token field is for
that) and no query or fragment. The token is visible ASCII only, so it cannot smuggle a header line,
and it never appears in a repr, a log line or an error message (`redact`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_URL = 2000
MAX_TOKEN = 4096
_TOKEN = re.compile(r"^[\x21-\x7e]+$")


class AddressError(ValueError):
    """A server URL or token that cannot be used; the message says what to write instead."""


def check_url(text: str) -> str:
    """The URL without a trailing slash, or AddressError saying what is wrong with it."""
    url = (text or "").strip()
    if not url:
        raise AddressError("enter the server's address, e.g. http://192.168.1.20:8188")
    if len(url) > MAX_URL or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise AddressError("the address has spaces or control characters in it: paste just the URL, "
                           "e.g. http://192.168.1.20:8188")
    if "://" not in url:
        raise AddressError(f"{url[:80]!r} has no http:// or https:// in front: write e.g. http://{url[:60]}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise AddressError(f"{url[:80]!r} is not a valid address ({error}); write e.g. http://host:8188") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise AddressError(f"the address must start with http:// or https://, not {parts.scheme}://")
    if not parts.hostname:
        raise AddressError(f"{url[:80]!r} names no host: write e.g. http://192.168.1.20:8188")
    if parts.username is not None or parts.password is not None:
        raise AddressError("leave the user name and password out of the address: put a token in the token field")
    if parts.query or parts.fragment:
        raise AddressError("the address must not have a ?query or #fragment: use just http://host:port")
    if port == 0:
        raise AddressError("port 0 is not a port: use the one the server listens on (ComfyUI's default is 8188)")
    return f"{parts.scheme.lower()}://{parts.netloc}{parts.path.rstrip('/')}"


def check_token(text: str) -> str:
    token = (text or "").strip()
    if not token:
        return ""
    if len(token) > MAX_TOKEN:
        raise AddressError(f"the token is longer than {MAX_TOKEN} characters: paste only the token")
    if not _TOKEN.match(token):
        raise AddressError("the token may hold only visible ASCII characters (no spaces or line breaks): "
                           "paste only the token, without 'Bearer'")
    return token


@dataclass(frozen=True)
class ServerAddress:
    """Where a remote engine is and how long to wait for it; the token never shows in repr()."""

    url: str
    token: str = field(default="", repr=False)
    connect_timeout_s: float = 10.0  # to open a connection
    read_timeout_s: float = 60.0  # for an answer to one request
    keepalive_s: float = 20.0  # a job's live connection must answer a ping within this

    @classmethod
    def checked(cls, url: str, token: str = "", **timeouts) -> "ServerAddress":
        return cls(check_url(url), check_token(token), **timeouts)

    @property
    def name(self) -> str:
        return f"the ComfyUI server at {self.url}"

    def redact(self, text: str) -> str:
        """`text` with the token (if any) blanked out, for messages and logs."""
        return text.replace(self.token, "[token]") if self.token else text
