"""Fresh kernels forked from a warm process, so that reports pay a kernel's imports once.

Each report still runs in a new kernel process of its own. `Zygote` is a child process that has
imported what a report's kernel imports (ipykernel, pandas, altair, scipy, ctlib), read the built-in
indicator catalogue, and done nothing more: it starts no thread of its own, no zmq context and no
vl-convert runtime (the libraries' own threads, numpy's and scipy's OpenBLAS pools and pyarrow's
jemalloc, are made again after a fork by their fork handlers). For each kernel it forks a child that
takes the environment, working folder and arguments jupyter_client's launcher would give a new
process (`python -m ipykernel_launcher -f CONNECTION_FILE`, a session of its own) and starts
ipykernel's application. What a kernel does (load, compute, write) starts after the fork, so two
kernels share nothing but the modules imported; a module imported then saw the zygote's environment,
not the kernel's additions (the kernel reads those, e.g. the ledger's URL, at run time), and what
the imports set in the environment (debugpy's, threadpoolctl's defaults) is set in each kernel's as
its own imports would have.

`ForkingProvisioner` is jupyter_client's local provisioner launching through a zygote when it is
given one and the kernel is this Python's ipykernel, else as usual. A process starts its own
zygote on first use (`zygote`, closed at exit); a batch starts one for all its workers
(`batch_zygote`; they connect at its Unix socket, `use`), closed when the batch ends. A zygote
dies with the process that started it (PR_SET_PDEATHSIG) and its kernels with it (ipykernel
polls its parent); a connection that closes (a worker that died) takes its running kernels with
it. Closed, a zygote exits once its kernels have and is waited for, so their CPU time counts for
the process that started it. Linux only: elsewhere kernels start as usual.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import importlib
import importlib.util
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator

from jupyter_client.provisioning import LocalProvisioner

# What a report's kernel imports, imported once in the zygote.
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",
    "IPython.core.completerlib",  # what the kernel's start-up imports
    "IPython.core.debugger",
    "IPython.core.oinspect",
    "IPython.extensions.storemagic",
    "sqlite3",
    "tornado.platform.asyncio",
    "ctlib._publish.report_sections",
    "ctlib._publish.charts",
    "scipy.optimize",  # privacy.protect imports linprog when it needs it
    "sqlalchemy.dialects.sqlite",  # the ledger's
    "narwhals._pandas_like.dataframe",  # altair reads a chart's data through it
    "narwhals._pandas_like.namespace",
    "narwhals._interchange.dataframe",
    "narwhals.stable.v1._namespace",
    "pyarrow.pandas_compat",
    "pyarrow.vendored.version",
    "pandas.io.formats.csvs",
    "pandas.io.formats.string",
    "pandas.core.methods.to_dict",
    "openpyxl.packaging.extended",  # written with iptt.xlsx
    "ruamel.yaml.mergevalue",  # read with project.yaml
    "ctlib._fresh_stack",
)
START_SECONDS = 60
KILL_SECONDS = 5  # as jupyter_client waits for a killed kernel
IS_SUPPORTED = sys.platform.startswith("linux") and hasattr(os, "pidfd_open")


class ForkedKernel:
    """The zygote's child as jupyter_client sees a kernel process (`subprocess.Popen`'s part it
    uses); the zygote reaps it, so its exit status is not known here (0)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        try:  # a handle on this very process: its number may be reused once it is reaped
            self._handle = os.pidfd_open(pid)
        except ProcessLookupError:
            self._handle, self.returncode = None, 0

    def poll(self) -> int | None:
        if self.returncode is None:
            import select

            if select.select([self._handle], [], [], 0)[0]:  # readable once the process exited
                self.returncode = 0
                os.close(self._handle)
        return self.returncode

    async def exited(self, timeout: float) -> None:
        """Until the process has exited (its handle readable), at most `timeout` seconds: what
        jupyter_client would learn polling every 0.1 s, as soon as it happens."""
        if self.poll() is not None:
            return
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        loop.add_reader(self._handle, lambda: done.done() or done.set_result(None))
        try:
            await asyncio.wait_for(done, timeout)
        except TimeoutError:
            pass  # jupyter_client's own wait goes on
        finally:
            loop.remove_reader(self._handle)
        self.poll()

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self._handle, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """A connection to a zygote (see the module's docstring): it forks kernels on request. The
    zygote answers once its imports are done."""

    def __init__(self, interpreter: list[str], address: str):
        self.interpreter = interpreter  # the kernel command up to `-m`: Python and its options
        self._channel = socket.socket(socket.AF_UNIX)
        self._channel.settimeout(START_SECONDS)  # the first answer waits for the imports
        self._channel.connect(address)
        self._replies = self._channel.makefile("rb")
        self._lock = threading.Lock()
        self._broken = False

    def launches(self, cmd: list[str]) -> bool:
        """Whether a kernel command is one the zygote can fork: ipykernel on its own Python."""
        prefix = [*self.interpreter, "-m", "ipykernel_launcher"]
        return cmd[: len(prefix)] == prefix and self.is_alive()

    def is_alive(self) -> bool:
        return not self._broken

    def fork(self, cmd: list[str], env: dict[str, str], cwd: str | None) -> ForkedKernel:
        """A new kernel running `cmd` (jupyter_client's kernel command) in `env` and `cwd`."""
        request = {"argv": cmd[len(self.interpreter) + 2 :], "env": env, "cwd": cwd or os.getcwd()}
        with self._lock:
            try:
                self._channel.sendall(json.dumps(request).encode() + b"\n")
                reply = self._replies.readline()
            except OSError as error:  # no answer in time: the next use starts another zygote
                reply, self._broken = b"", True
                raise RuntimeError(f"the kernel zygote did not answer: {error}") from error
        if not reply:
            self._broken = True
            raise RuntimeError("the kernel zygote exited")
        return ForkedKernel(int(reply))

    def close(self) -> None:
        """Closed, the zygote kills the kernels this connection asked for that still run."""
        self._broken = True
        self._replies.close()
        self._channel.close()


class StartedZygote(Zygote):
    """A zygote this process starts, and its first connection. Others (a batch's workers)
    connect at `address`; when one closes, its kernels still running are killed."""

    def __init__(self, interpreter: list[str]):
        self._folder = tempfile.mkdtemp(prefix="ctlib-zygote-")  # this user's alone (0700)
        self.address = os.path.join(self._folder, "socket")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(self.address)
        listener.listen()
        self.process = subprocess.Popen(
            [*interpreter, "-m", __name__, str(listener.fileno())],
            stdin=subprocess.PIPE,  # its life: closed, it exits once its kernels have
            pass_fds=(listener.fileno(),),
        )
        listener.close()
        super().__init__(interpreter, self.address)

    def is_alive(self) -> bool:
        return super().is_alive() and self.process.poll() is None

    def close(self) -> None:
        """Stop the zygote: it exits once its kernels have, and is waited for (so that their CPU
        time counts for this process)."""
        super().close()
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self._folder, ignore_errors=True)


_running: dict[tuple[str, ...], Zygote] = {}


def _interpreter(kernel_command: list[str]) -> tuple[str, ...] | None:
    """Python and its options in a kernelspec's command (`python [options] -m ipykernel_launcher
    ...`); None where kernels are not forked (not Linux, or not a Python module)."""
    if not IS_SUPPORTED or "-m" not in kernel_command:
        return None
    return tuple(kernel_command[: kernel_command.index("-m")])


def zygote(kernel_command: list[str]) -> Zygote | None:
    """This process's zygote for a kernelspec's command: the one it was given (`use`), else one
    started on first use and kept until exit; None where kernels are not forked."""
    interpreter = _interpreter(kernel_command)
    if interpreter is None:
        return None
    running = _running.get(interpreter)
    if running is None or not running.is_alive():
        running = _running[interpreter] = StartedZygote(list(interpreter))
        atexit.register(running.close)
    return running if running.launches(kernel_command) else None


@contextlib.contextmanager
def batch_zygote(kernel_command: list[str]) -> Iterator[str | None]:
    """The address of a zygote for a batch's workers (`use`), stopped when the batch ends, its
    kernels waited for; None where kernels are not forked."""
    interpreter = _interpreter(kernel_command)
    started = None if interpreter is None else StartedZygote(list(interpreter))
    try:
        yield None if started is None else started.address
    finally:
        if started is not None:
            started.close()


def use(kernel_command: list[str], address: str) -> None:
    """Fork this process's kernels with the zygote at `address` (a batch's, for its workers)."""
    interpreter = _interpreter(kernel_command)
    connected = _running[interpreter] = Zygote(list(interpreter), address)
    atexit.register(connected.close)


class ForkingProvisioner(LocalProvisioner):
    """The local provisioner, launching through `zygote` when it can fork the kernel."""

    zygote: Zygote | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs):
        if self.zygote is None or not self.zygote.launches(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        self.process = self.zygote.fork(
            cmd, kwargs.get("env") or dict(os.environ), kwargs.get("cwd")
        )
        self.pid = self.pgid = self.process.pid  # the child made a session of its own first
        self.cwd = kwargs.get("cwd") or os.getcwd()
        return self.connection_info

    async def kill(self, restart: bool = False) -> None:
        """Kill the kernel, and return once a forked one has exited (a report's last step)."""
        process = self.process
        await super().kill(restart)
        if isinstance(process, ForkedKernel):
            await process.exited(timeout=KILL_SECONDS)


# -- in the zygote -------------------------------------------------------------------------------
_kernels: dict[int, socket.socket] = {}  # the kernels still running, by the connection asking


def _serve(fd: int) -> None:
    """Import the kernel's modules, then fork a kernel for each request of each connection until
    standard input closes; then wait for the kernels."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    del sys.path[0]  # as ipykernel_launcher does: the folder a kernel starts in is not on the path
    environment = dict(os.environ)
    for name in KERNEL_MODULES:
        with contextlib.suppress(ImportError):  # a kernel that needs it says why it is missing
            importlib.import_module(name)
    from .._catalogue import load_catalogue
    from .._errors import CtlibError

    with contextlib.suppress(CtlibError):  # a kernel that needs it says what is wrong
        load_catalogue()  # the built-in one, read once for every kernel
    imports_set = {k: v for k, v in os.environ.items() if environment.get(k) != v}
    gc.freeze()  # what is imported stays: a kernel's collections skip it (and leave it shared)
    listener = socket.socket(fileno=fd)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    pending: dict[socket.socket, bytes] = {}
    signal.signal(signal.SIGCHLD, _reap)
    while sys.stdin in (key.fileobj for key in selector.get_map().values()):
        for key, _ in selector.select():
            if key.fileobj is sys.stdin:
                if not os.read(sys.stdin.fileno(), 1024):
                    selector.unregister(sys.stdin)
            elif key.fileobj is listener:
                connection = listener.accept()[0]
                selector.register(connection, selectors.EVENT_READ)
                pending[connection] = b""
            else:
                connection, data = key.fileobj, key.fileobj.recv(1 << 20)
                if not data:  # closed: its kernels still running are killed
                    selector.unregister(connection)
                    for pid in [p for p, c in _kernels.items() if c is connection]:
                        with contextlib.suppress(ProcessLookupError):
                            os.killpg(pid, signal.SIGKILL)
                    del pending[connection]
                    connection.close()
                    continue
                pending[connection] += data
                while b"\n" in pending[connection]:
                    line, pending[connection] = pending[connection].split(b"\n", 1)
                    ready, made = os.pipe()
                    pid = os.fork()
                    if pid == 0:
                        for opened in (selector, listener, *pending):
                            opened.close()
                        os.close(ready)
                        sys.exit(_kernel(json.loads(line), made, imports_set, set(environment)))
                    _kernels[pid] = connection
                    os.close(made)
                    os.read(ready, 1)  # its session exists: signals to its group reach it alone
                    os.close(ready)
                    connection.sendall(f"{pid}\n".encode())
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    with contextlib.suppress(ChildProcessError):
        while True:
            os.waitpid(-1, 0)


def _reap(signum, frame) -> None:
    with contextlib.suppress(ChildProcessError):
        while (pid := os.waitpid(-1, os.WNOHANG)[0]) != 0:
            _kernels.pop(pid, None)


def _kernel(request: dict, made: int, imports_set: dict[str, str], had: set[str]) -> int:
    """In the forked child: become the kernel jupyter_client asked for."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    os.write(made, b"1")
    os.close(made)
    with open(os.devnull, "rb") as nothing:  # the zygote's life stays the zygote's
        os.dup2(nothing.fileno(), sys.stdin.fileno())
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for name, value in imports_set.items():  # what the imports set (most only where unset)
        if name in had or name not in os.environ:
            os.environ[name] = value
    parent = os.getppid()  # ipykernel exits when the zygote is gone
    os.environ["JPY_PARENT_PID"] = str(parent)
    from ipykernel.kernelapp import IPKernelApp

    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["argv"]]
    IPKernelApp.launch_instance(parent_handle=parent)  # its default was read in the zygote
    return 0


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
