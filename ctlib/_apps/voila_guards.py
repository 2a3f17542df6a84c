"""Voilà 0.5 with the guards a server left running needs, and what each one changes.

`GuardedVoila` is Voilà's application with a few of its parts replaced by small subclasses:

- **Closed pages release their kernel** (`PageHandler`). On `beforeunload` the page posts to
  `/voila/api/shutdown/<kernel id>` with the `_xsrf` cookie's value, but Voilà never sets that
  cookie, so every shutdown was refused with 403 and each visit left its kernel running
  (voila-dashboards/voila#1458). The page handler sets the cookie.
- **Idle kernels are culled** (`GuardedKernelManager`). jupyter_server's culler (configured on
  the command line, `MappingKernelManager.cull_idle_timeout`) shuts down kernels that no page is
  connected to; this manager also shuts down those of pages left open and unused for
  `open_idle_timeout` seconds, and starts a pre-heated kernel's idle clock when a visitor takes
  it (it may have waited in the pool longer than the timeout).
- **A cap on kernels** (`GuardedKernelManager.max_kernels`, `PageHandler`). Voilà starts a kernel
  for every request of the page, so anyone who reaches the port could exhaust the memory. Beyond
  `max_kernels` visitors' kernels (pre-heated ones not counted), a request gets a short "busy,
  try again in a minute" page with HTTP 503 instead of a kernel.
- **Who may talk to it** (`voila_access`): requests from other names or other sites' pages are
  refused before any handler (`ForeignRequests`, the router's first rule), the token is taken
  out of the visit's query string before the kernel gets it (`PageHandler`), and the socket
  where pre-heated kernels learn their query string answers only the server's own kernels
  (`KernelQuerySocket`, with the key `GuardedKernelManager` gives each kernel it starts); a
  visit without the token gets a page that says where the token is (`TokenPageHandler`).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets

from jupyter_server.log import log_request
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from tornado.routing import Rule
from traitlets import Integer, List, Unicode
from voila.app import Voila
from voila.request_info_handler import RequestInfoSocketHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.voila_identity_provider import VoilaLoginHandler

from .server_pages import busy_page
from .voila_access import (
    KERNEL_KEY_ENV,
    Addresses,
    ForeignRequests,
    KernelQuerySocket,
    RefusedHandler,
    TokenPageHandler,
    without_token,
)

RETRY_AFTER_S = 60
PREHEATED = ("VOILA_PREHEAT", "True")  # in the environment of the kernels Voilà starts for its pool


class KernelLimit(web.HTTPError):
    """The cap on visitors' kernels is reached: the visitor gets the busy page (HTTP 503)."""

    def __init__(self, limit: int):
        super().__init__(503, "at the limit of %d kernels: the busy page was sent", limit)
        self.limit = limit


class GuardedKernelManager(AsyncMappingKernelManager):
    """jupyter_server's kernel manager with a cap on visitors' kernels and a timeout for open pages.

    Voilà builds its pool of pre-heated kernels on top of this class. A visitor's kernel is any
    kernel not waiting in that pool (a pool kernel still starting counts as a visitor's for the
    second it takes, so the cap errs on the safe side). Every kernel it starts gets
    `kernel_key` in its environment, to be answered on the kernels' query socket.
    """

    max_kernels = Integer(
        8, config=True, help="Most visitors' kernels at once; beyond it, the busy page."
    )
    open_idle_timeout = Integer(
        0,
        config=True,
        help="Seconds without activity after which a kernel is shut down even though a page "
        "is connected to it (0: never).",
    )

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._starting: set[str] = set()  # visitors' kernels being started
        self.kernel_key = secrets.token_urlsafe(32)

    def waiting_kernel_ids(self) -> set[str]:
        """The pre-heated kernels waiting in Voilà's pool for a visitor."""
        return {
            task.result()["kernel_id"]
            for pool in getattr(self, "_pools", {}).values()  # set by Voilà's pool subclass
            for task in pool
            if task.done() and not task.cancelled() and task.exception() is None
        }

    def visitor_kernel_count(self) -> int:
        return len((set(self.list_kernel_ids()) | self._starting) - self.waiting_kernel_ids())

    def is_full(self) -> bool:
        return self.visitor_kernel_count() >= self.max_kernels

    def start_idle_clocks(self, kernel_ids: set[str]) -> None:
        """Count the idle time of these kernels (just taken from the pool) from now."""
        now = dt.datetime.now(dt.UTC)
        for kernel_id in kernel_ids & set(self.list_kernel_ids()):
            self.get_kernel(kernel_id).last_activity = now

    async def start_kernel(self, *, kernel_id: str | None = None, **kwargs) -> str:
        """Start a kernel; a visitor's raises KernelLimit when the cap is reached."""
        kwargs["env"] = {**kwargs.get("env", os.environ), KERNEL_KEY_ENV: self.kernel_key}
        if PREHEATED in kwargs["env"].items():
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        if self.is_full():
            raise KernelLimit(self.max_kernels)
        kernel_id = kernel_id or self.new_kernel_id()
        self._starting.add(kernel_id)
        try:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._starting.discard(kernel_id)

    async def cull_kernel_if_idle(self, kernel_id: str) -> None:
        """jupyter_server's culling (kernels without a page), and that of pages left unused."""
        kernel = self.get_kernel(kernel_id)
        idle = dt.datetime.now(dt.UTC) - kernel.last_activity
        if (
            self.open_idle_timeout > 0
            and idle > dt.timedelta(seconds=self.open_idle_timeout)
            and kernel.execution_state != "busy"
        ):
            self.log.warning(
                "Shutting down kernel %s: its page has not been used for %d s",
                kernel_id,
                idle.total_seconds(),
            )
            await self.shutdown_kernel(kernel_id)
        else:
            await super().cull_kernel_if_idle(kernel_id)


class PageHandler(TornadoVoilaHandler):
    """Voilà's page, sent with the `_xsrf` cookie its shutdown beacon needs, or the busy page;
    its kernel gets the visit's query string without the token."""

    @web.authenticated
    async def get(self, path=None):
        if path:  # Voilà redirects other paths to /voila/files/, which serves nothing here
            return await super().get(path)
        if self.kernel_manager.is_full():
            raise KernelLimit(self.kernel_manager.max_kernels)
        self.xsrf_token  # noqa: B018 (setting the cookie is the point)
        without_token(self.request)  # checked by now (prepare), and no business of the kernel
        waiting = self.kernel_manager.waiting_kernel_ids()
        try:
            await super().get(path)
        finally:
            self.kernel_manager.start_idle_clocks(
                waiting - self.kernel_manager.waiting_kernel_ids()
            )

    def write_error(self, status_code: int, **kwargs) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        if not isinstance(error, KernelLimit):
            return super().write_error(status_code, **kwargs)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Retry-After", str(RETRY_AFTER_S))
        self.finish(busy_page(error.limit, RETRY_AFTER_S))


class GuardedVoila(Voila):
    """Voilà with the guarded kernel manager, page handler and query socket, answering only its
    own names and pages."""

    public_urls = List(
        Unicode(),
        config=True,
        help="Addresses a reverse proxy serves this server at (https://name): their Host and "
        "Origin are answered too.",
    )

    def initialize(self, argv=None):
        super().initialize(argv)
        self.voila_configuration.multi_kernel_manager_class = GuardedKernelManager

    def init_handlers(self) -> list:
        replaced = {
            TornadoVoilaHandler: PageHandler,
            RequestInfoSocketHandler: KernelQuerySocket,
            VoilaLoginHandler: TokenPageHandler,
        }
        return [
            (pattern, replaced.get(handler, handler), *rest)
            for pattern, handler, *rest in super().init_handlers()
        ]

    def listen(self):
        """Refuse requests from other names and sites (before any handler), log requests with
        their secrets scrubbed (jupyter_server's access log: `?token=[secret]`), then listen."""
        addresses = Addresses.of(self.port, self.public_urls)
        self.app.settings.update(addresses.jupyter_settings())
        self.app.settings["log_function"] = functools.partial(
            log_request, record_prometheus_metrics=False
        )
        self.app.default_router.rules.insert(0, Rule(ForeignRequests(addresses), RefusedHandler))
        super().listen()
