"""Who may talk to a ctlib server: its own names and origins, its token, its own kernels.

- **Host and Origin** (`Addresses`, `ForeignRequests`). A server answers only requests whose Host
  is one of its names (127.0.0.1, localhost or [::1] with its port; for the dashboard also the
  public addresses a reverse proxy serves it at) and whose Origin, when the browser sends one,
  is one of its own pages. Anything else gets 403 before any handler runs: static files, the
  page, the login page, the kernel websockets. This closes DNS rebinding (a site whose name
  resolves to 127.0.0.1 sends its own name as Host, and as Origin on its websockets: jupyter_server
  compares the two and accepts them). jupyter_server's own check is switched on too
  (`allow_remote_access=False`); it covers its handlers only, and any loopback address.
- **The token stays with the server.** The page handler takes the token out of the visit's
  query string (`without_token`) before the kernel gets it, so no kernel, page or socket can
  show it back.
- **The token page** (`TokenPageHandler`): a visit without the token gets a short page that says
  where the token is and takes it, instead of jupyter_server's login page (which speaks of
  `jupyter server list` and passwords, neither of which applies here).
- **The kernels' query socket** (`KernelQuerySocket`). A pre-heated kernel learns its visit's
  query string over a websocket at `/voila/query/<kernel id>`; Voilà answers anyone there, and
  keeps every visit's query string for the next one who asks. Here only the server's own kernels
  are answered: each is started with the kernel manager's key in its environment
  (`KERNEL_KEY_ENV`) and presents it (`kernel_query_url`), and a query string is handed over once.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlsplit

from tornado import httputil, web
from tornado.escape import url_escape
from tornado.routing import Matcher
from voila.request_info_handler import RequestInfoSocketHandler
from voila.voila_identity_provider import VoilaLoginHandler

from .server_pages import token_page

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
KERNEL_KEY_ENV = "CTLIB_KERNEL_KEY"  # in the environment of the kernels a server starts
KERNEL_USER = "kernel"
DEFAULT_PORTS = {"http": 80, "https": 443}
log = logging.getLogger(__name__)


def _netloc(scheme: str, host: str, port: int | None) -> str:
    """host[:port] as a browser writes it in Host and Origin (no port when it is the default)."""
    return host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"


def public_origin(url: str) -> str:
    """`url` (https://name[:port], where a reverse proxy serves a server) as an Origin; a
    ValueError says what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"{url!r} is not an address such as https://dashboard.example.org")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{url!r}: give the address alone (the server is served from /)")
    return f"{parts.scheme}://{_netloc(parts.scheme, parts.hostname, parts.port)}"


@dataclass(frozen=True)
class Addresses:
    """The Origins of a server's pages, and the Host values it answers: its loopback names at
    its port, and the public addresses (https://name) a reverse proxy serves it at."""

    origins: frozenset[str]
    hosts: frozenset[str]

    @classmethod
    def of(cls, port: int, public_urls: Iterable[str] = ()) -> Addresses:
        local = (f"http://{_netloc('http', name, port)}" for name in LOOPBACK_NAMES)
        origins = frozenset([*local, *map(public_origin, public_urls)])
        return cls(origins, frozenset(origin.split("://", 1)[1] for origin in origins))

    def refuses(self, request: httputil.HTTPServerRequest) -> bool:
        """Whether `request` comes from elsewhere: a Host not among these, or an Origin
        (sent by browsers on websockets and on other sites' requests) not among these."""
        host = request.headers.get("Host", "").lower()
        origin = request.headers.get("Origin")
        return host not in self.hosts or (origin is not None and origin.lower() not in self.origins)

    def jupyter_settings(self) -> dict:
        """jupyter_server's own Host check, switched on (Voilà turns it off)."""
        names = sorted({urlsplit(origin).hostname for origin in self.origins})
        return {"allow_remote_access": False, "local_hostnames": names}


class ForeignRequests(Matcher):
    """The first rule of a server's router: it matches the requests `addresses` refuses."""

    def __init__(self, addresses: Addresses):
        self.addresses = addresses

    def match(self, request: httputil.HTTPServerRequest) -> dict | None:
        return {} if self.addresses.refuses(request) else None


class RefusedHandler(web.RequestHandler):
    """The answer to a request from elsewhere: 403, and a line in the server's log."""

    def prepare(self) -> None:
        headers = self.request.headers
        log.warning(
            "Refused a request for %s with Host %r and Origin %r: this server answers only "
            "its own names and pages",
            self.request.path,
            headers.get("Host", ""),
            headers.get("Origin"),
        )
        raise web.HTTPError(403)


class TokenPageHandler(VoilaLoginHandler):
    """Voilà's login form (`/login`, where a visit without the token is sent) as the token page."""

    def _render(self, message=None) -> None:
        after = url_escape(self.get_argument("next", default=self.base_url))
        page = token_page(
            f"{self.base_url}login?next={after}", self.xsrf_form_html(), bool(message)
        )
        self.write(page)


def without_token(request: httputil.HTTPServerRequest) -> None:
    """Take `token` out of the request's query string (its other parameters kept as written),
    once the token has been checked, so that what the kernel gets never holds it."""
    kept = [
        part
        for part in request.query.split("&")
        if part and unquote_plus(part.split("=", 1)[0]) != "token"
    ]
    request.query = "&".join(kept)
    request.uri = request.path + (f"?{request.query}" if request.query else "")
    for arguments in (request.arguments, request.query_arguments):
        arguments.pop("token", None)


def kernel_query_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """Kernel side: where a pre-heated kernel asks for its visit's query string, with the key its
    server gave it (sent as basic authentication); None when not started by a ctlib server."""
    key = environ.get(KERNEL_KEY_ENV)
    if not key:
        return None
    port = environ.get("VOILA_APP_PORT", "8866")
    server_url = environ.get("VOILA_SERVER_URL", "/")
    return f"ws://{KERNEL_USER}:{key}@127.0.0.1:{port}{server_url}voila/query"


class KernelQuerySocket(RequestInfoSocketHandler):
    """Voilà's `/voila/query/<kernel id>` socket, for the server's own kernels only; each visit's
    query string is handed over once, then forgotten."""

    def prepare(self) -> None:
        if not self._is_from_a_kernel():
            log.warning(
                "Refused a connection to %s: not one of this server's kernels", self.request.path
            )
            raise web.HTTPError(403)

    def _is_from_a_kernel(self) -> bool:
        scheme, _, credentials = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, key = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = self.settings["kernel_manager"].kernel_key
        return user == KERNEL_USER and hmac.compare_digest(key.encode(), expected.encode())

    def open(self, kernel_id: str) -> None:
        RequestInfoSocketHandler._waiters[kernel_id] = self
        payload = RequestInfoSocketHandler._cache.pop(kernel_id, None)
        if payload is not None:
            self.write_message(payload)
