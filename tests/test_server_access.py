"""Who may talk to ctlib's servers, attacked over real HTTP and websockets.

Each test is an attack on a server started for it (`ctlib dashboard`, `ctlib workbook`): a page
of a DNS-rebinding site (a foreign Host, and its own Origin on the kernel's websocket), a page of
another site opening a kernel's websocket, requests without the token, a stranger on the socket
where pre-heated kernels learn their visit's query string, and crafted widget messages sent to
make a kernel raise.
"""

from __future__ import annotations

import asyncio
import base64
import html as html_text
import http.client
import json
import re
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from conftest import (
    REPO,
    SAMPLE_DIR,
    ctlib_server_process,
    free_port,
    one_cell_notebook,
    released_samples,
    server_process,
)
from test_dashboard_browser import FILE_PATHS, final_status, get
from test_kernels_browser import kernel_ids, page_kernel_id
from tornado import httpclient, websocket

from ctlib._cli import main

DASHBOARD_TOKEN = "dashboard-token-for-the-tests"
WORKBOOK_TOKEN = "workbook-token-for-the-tests"
PUBLIC_URL = "https://dashboard.example.org"  # where a reverse proxy serves the dashboard
STATIC = "/voila/static/voila.js"  # a file every page loads
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


@dataclass
class Server:
    url: str
    process: object
    log: Path
    token: str
    query: str  # what a page of this server is opened with (after the token)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def page(self) -> tuple[str, str]:
        """Open a page with the token, as its user does: (its kernel id, its HTML)."""
        status, _, html = get(self.url, f"/?token={self.token}&{self.query}")
        assert status == 200, html[-2000:]
        return page_kernel_id(html), html


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    log = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    released = released_samples(tmp_path_factory.mktemp("released"), ["coast_outreach"])
    options = ("--token", DASHBOARD_TOKEN, "--public-url", PUBLIC_URL)
    with ctlib_server_process(log, "dashboard", str(released), *options) as (url, process):
        yield Server(url, process, log, DASHBOARD_TOKEN, "")


@pytest.fixture(scope="module")
def explore(tmp_path_factory):
    log = tmp_path_factory.mktemp("explore") / "explore.log"
    options = ("--token", WORKBOOK_TOKEN, "--max-kernels", "6")
    with ctlib_server_process(log, "workbook", "explore", *options) as (url, process):
        yield Server(url, process, log, WORKBOOK_TOKEN, f"data_dir={quote(str(SAMPLE_DIR))}")


@pytest.fixture(scope="module", params=["dashboard", "explore"])
def server(request) -> Server:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def kernel(server) -> str:
    """The kernel of one page of `server`, opened with the token."""
    return server.page()[0]


@pytest.fixture(scope="module")
def explore_kernel(explore) -> str:
    return explore.page()[0]


def run_apart(coroutine):
    """Run a coroutine to its end on its own event loop, in a thread of its own: the browser
    tests (Playwright's sync API) leave an event loop running in the tests' thread."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def connect(server: Server, path: str, headers: dict[str, str]):
    """Open a websocket on `server` with these headers (Host and Origin as given); returns
    the connection, or the HTTP status that refused it."""
    request = httpclient.HTTPRequest(
        f"ws://127.0.0.1:{server.port}{path}", headers=headers, connect_timeout=60
    )
    try:
        return await websocket.websocket_connect(request)
    except httpclient.HTTPClientError as refused:
        return refused.code


def accepted(server: Server, path: str, **headers: str) -> bool | int:
    """True when the websocket at `path` opens with these headers; else the refusing status."""

    async def trying():
        answer = await connect(server, path, headers)
        if isinstance(answer, int):
            return answer
        answer.close()
        return True

    return run_apart(trying())


# -- Host ------------------------------------------------------------------------------------------


FOREIGN_HOSTS = [
    "attacker.example",  # a rebinding page on port 80 of its own name
    "attacker.example:{port}",  # the rebinding page at the server's port
    "localhost.attacker.example:{port}",
    "127.0.0.1:{other}",  # a loopback name with another port
    "127.0.0.2:{port}",  # loopback, but not one of the names this server answers
    "dashboard.example.org:8443",  # the public name at another port
]


@pytest.mark.parametrize("path", ["/", "/?token={token}", STATIC, "/login", "/api/kernels/x"])
@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_is_refused_on_every_path(server, host, path):
    host = host.format(port=server.port, other=server.port + 1)
    status, _, body = get(server.url, path.format(token=server.token), {"Host": host})
    assert status == 403, (host, path, status)
    assert "Traceback" not in body and server.token not in body
    assert (
        f"Refused a request for {path.split('?')[0]} with Host {host!r}" in server.log.read_text()
    )


@pytest.mark.parametrize("name", [*LOOPBACK, "LOCALHOST"])
def test_the_loopback_names_with_the_servers_port_are_answered(server, name):
    assert get(server.url, STATIC, {"Host": f"{name}:{server.port}"})[0] == 200


def test_the_dashboards_public_name_is_answered_and_no_other(dashboard):
    assert get(dashboard.url, STATIC, {"Host": "dashboard.example.org"})[0] == 200
    assert get(dashboard.url, STATIC, {"Host": "other.example.org"})[0] == 403


def test_a_workbook_has_no_public_name():
    result = CliRunner().invoke(main, ["workbook", "explore", "--public-url", PUBLIC_URL])
    assert result.exit_code == 2 and "No such option '--public-url'" in result.output


# -- Origin ----------------------------------------------------------------------------------------


def test_a_kernel_websocket_from_another_site_is_refused(server, kernel):
    channels = f"/api/kernels/{kernel}/channels?token={server.token}"
    here = f"127.0.0.1:{server.port}"
    refused = [
        {"Host": here, "Origin": "http://attacker.example"},  # a page of another site
        # DNS rebinding: the attacker's page, at the server's port, as the browser sends it
        {
            "Host": f"attacker.example:{server.port}",
            "Origin": f"http://attacker.example:{server.port}",
        },
        {"Host": here, "Origin": "null"},  # a file:// page or a sandboxed frame
        {"Host": here, "Origin": f"http://127.0.0.1:{server.port + 1}"},  # another local server
        {"Host": here, "Origin": f"https://{here}"},
    ]
    for headers in refused:
        assert accepted(server, channels, **headers) == 403, headers
    assert accepted(server, channels, Host=here, Origin=f"http://{here}") is True  # its own page
    loopback = f"localhost:{server.port}"
    assert accepted(server, channels, Host=loopback, Origin=f"http://{loopback}") is True
    assert accepted(server, channels, Host=here) is True  # a script (a browser always sends Origin)


def test_the_dashboards_public_origin_is_accepted_behind_its_proxy(dashboard):
    kernel, _ = dashboard.page()
    channels = f"/api/kernels/{kernel}/channels?token={dashboard.token}"
    public = "dashboard.example.org"
    assert accepted(dashboard, channels, Host=public, Origin=PUBLIC_URL) is True
    assert accepted(dashboard, channels, Host=public, Origin=f"http://{public}") == 403


# -- the token -------------------------------------------------------------------------------------


def refused(answer: tuple[int, dict, str]) -> bool:
    status, headers, _ = answer
    return status in (401, 403) or (status == 302 and "/login" in headers.get("Location", ""))


def request(server: Server, method: str, path: str, headers: dict | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        connection.request(
            method, path, body=b"" if method == "POST" else None, headers=headers or {}
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_workbook_refuses_every_request_without_its_token(explore, explore_kernel):
    kernel = explore_kernel
    query = f"/?{explore.query}"
    before = kernel_ids(explore.process)
    assert refused(get(explore.url, query))
    assert refused(get(explore.url, f"/?token=wrong&{explore.query}"))
    assert kernel_ids(explore.process) == before  # a refused visit starts no kernel

    assert request(explore, "GET", f"/api/kernels/{kernel}") == 403
    assert request(explore, "GET", f"/api/kernels/{kernel}?token=wrong") == 403
    assert request(explore, "POST", f"/voila/api/shutdown/{kernel}") == 403
    assert accepted(explore, f"/api/kernels/{kernel}/channels") == 403
    assert kernel in kernel_ids(explore.process)

    with_token = {"Authorization": f"token {explore.token}"}
    assert request(explore, "GET", f"/api/kernels/{kernel}", with_token) == 200
    assert accepted(explore, f"/api/kernels/{kernel}/channels", **with_token) is True


def test_the_token_is_not_in_the_page(server):
    _, html = server.page()
    assert server.token not in html


@pytest.mark.parametrize("name", ["explore", "pick_indicators"])
def test_a_workbook_started_without_a_token_prints_its_address_with_a_new_one(tmp_path, name):
    log = tmp_path / f"{name}.log"
    with ctlib_server_process(log, "workbook", name) as (url, _):
        printed = re.search(rf"{re.escape(url)}/\?token=([\w-]+)", log.read_text())
        assert printed, log.read_text()
        token = printed.group(1)
        assert len(token) >= 40  # secrets.token_urlsafe(32)
        assert refused(get(url, "/"))
        server = Server(url, None, log, token, "")
        nowhere = f"/api/kernels/{uuid.uuid4()}"  # no such kernel: 404 once past the token
        assert request(server, "GET", nowhere) == 403
        assert request(server, "GET", nowhere, {"Authorization": f"token {token}"}) == 404


def test_the_dashboard_prints_its_address_and_its_log_hides_a_given_token(dashboard):
    dashboard.page()
    get(dashboard.url, f"/?token={dashboard.token}", {"Host": "attacker.example"})  # refused
    text = dashboard.log.read_text()
    assert f"Open {dashboard.url}/?token=…" in text and dashboard.token not in text
    assert "403 GET /?token=[secret]" in text


# -- the kernels' query socket ---------------------------------------------------------------------


def test_the_query_socket_answers_the_servers_kernels_only(dashboard):
    kernel, _ = dashboard.page()  # the visit's query string now waits there for its kernel
    socket = f"/voila/query/{kernel}"
    stranger = base64.b64encode(b"kernel:guessed").decode()
    for headers in (
        {},
        {"Authorization": f"token {dashboard.token}"},
        {"Authorization": f"Basic {stranger}"},
        {"Origin": f"http://127.0.0.1:{dashboard.port}", "Cookie": "anything=1"},
    ):
        assert accepted(dashboard, socket, **headers) == 403, headers
    assert accepted(dashboard, f"{socket}?token={dashboard.token}") == 403
    assert "Refused a connection to /voila/query/" in dashboard.log.read_text()


@pytest.mark.parametrize("preheat", [True, False], ids=["pre-heated", "started for the visit"])
def test_the_kernel_gets_the_visits_query_string_without_the_token(tmp_path, preheat):
    book = one_cell_notebook(
        tmp_path / "query.ipynb",
        "import os\nfrom ctlib._apps.common import page_parameters\n"
        "print('parameters:', page_parameters(x='', token='none'))\n"
        "print('query string:', os.environ.get('QUERY_STRING'))\n"
        "print('request url:', os.environ.get('VOILA_REQUEST_URL'))\n",
    )
    port, token = free_port(), "query-test-token"
    launch = (
        "import sys; from pathlib import Path; from ctlib._apps.voila_server import serve; "
        "serve(Path(sys.argv[1]), int(sys.argv[2]), token=sys.argv[3], "
        "preheat=sys.argv[4] == 'yes')"
    )
    command = [sys.executable, "-c", launch, str(book), str(port), token, "yes" if preheat else ""]
    with server_process(tmp_path / "server.log", command, port):
        status, _, html = get(f"http://127.0.0.1:{port}", f"/?x=1&token={token}&y=%2Ftwo")
    assert status == 200, html[-2000:]
    text = html_text.unescape(html)
    assert "parameters: {'x': '1', 'token': 'none'}" in text
    assert "query string: x=1&y=%2Ftwo" in text
    assert token not in text


# -- crafted widget messages -----------------------------------------------------------------------


def message(msg_type: str, content: dict) -> str:
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "session": "attacker"}
    header |= {"username": "", "version": "5.3", "date": ""}
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }  # fmt: skip
    )


def crafted_messages(comm_ids: list[str], marker: Path) -> list[str]:
    """Messages a page never sends: bad widget states, a widget of no known kind, code to run."""
    messages = [
        message(
            "comm_open",
            {
                "comm_id": uuid.uuid4().hex,
                "target_name": "jupyter.widget",
                "data": {"state": {"_model_name": "Nope"}},
            },
        ),  # fmt: skip
        message(
            "comm_open", {"comm_id": uuid.uuid4().hex, "target_name": "jupyter.widget", "data": 5}
        ),
        message(
            "execute_request",
            {
                "code": f"open({str(marker)!r}, 'w').write('ran')",
                "silent": False,
                "store_history": False,
            },
        ),  # fmt: skip
    ]
    for comm_id in comm_ids:
        state = {"index": 9999, "value": {"not": "a value"}, "children": ["IPY_MODEL_nope"]}
        messages.append(message("comm_msg", {"comm_id": comm_id, "data": {"method": "update",
                                "state": state, "buffer_paths": []}}))  # fmt: skip
        messages.append(message("comm_msg", {"comm_id": comm_id, "data": 7}))
    return messages


def kernel_answers(server: Server, kernel: str, marker: Path) -> list[dict]:
    """Everything the kernel sends back to crafted messages over its websocket."""

    async def attack():
        channels = f"/api/kernels/{kernel}/channels?token={server.token}"
        connection = await connect(server, channels, {"Origin": f"http://127.0.0.1:{server.port}"})
        await connection.write_message(message("comm_info_request", {}))
        while (answer := json.loads(await connection.read_message()))["header"][
            "msg_type"
        ] != "comm_info_reply":
            pass
        comm_ids = list(answer["content"]["comms"])
        assert len(comm_ids) > 10
        for crafted in crafted_messages(comm_ids, marker):
            await connection.write_message(crafted)
        answers, quiet_since = [], time.monotonic()
        while time.monotonic() - quiet_since < 10:
            try:
                text = await asyncio.wait_for(connection.read_message(), 1)
            except TimeoutError:
                continue
            answers.append(json.loads(text))
            quiet_since = time.monotonic()
        connection.close()
        return answers

    return run_apart(attack())


def test_crafted_widget_messages_get_no_traceback_and_run_no_code(server, kernel, tmp_path):
    marker = tmp_path / "ran.txt"
    answers = kernel_answers(server, kernel, marker)
    errors = [a["content"] for a in answers if a["header"]["msg_type"] == "error"]
    assert len(errors) > 10  # the crafted messages did raise
    assert all(e["traceback"] == [] for e in errors)
    assert {e["evalue"] for e in errors} == {"This could not be done; the server's log says why."}
    sent = json.dumps(answers)
    assert "Traceback" not in sent and "site-packages" not in sent and str(REPO) not in sent
    assert "TraitError" in server.log.read_text()  # whoever runs the server sees the traceback

    # Voilà's filter: a page may not run code in its kernel
    assert not {a["header"]["msg_type"] for a in answers} & {"execute_reply", "execute_result"}
    assert not marker.exists()
    assert 'Received message of type "execute_request", which is not allowed' in (
        server.log.read_text()
    )


# -- no file API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILE_PATHS)
def test_no_file_or_folder_is_served_by_a_workbook_even_with_its_token(explore, path):
    status, body = final_status(explore.url, path, {"Authorization": f"token {explore.token}"})
    assert status in (403, 404), (path, status)
    assert "case_id" not in body and "min_cell_size" not in body
