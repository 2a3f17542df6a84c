"""Report kernels forked from a warm zygote (`kernels`): each a new kernel process that reads as one
jupyter_client launched, sharing nothing with the others but the modules imported."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from conftest import one_cell_notebook

from ctlib._publish import kernels, report

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.skipif(not kernels.IS_SUPPORTED, reason="kernels are forked on Linux only"),
]

FACTS = """
import gc, json, os, sys, threading
import ctlib._publish.report_sections as sections
print(json.dumps({
    "argv": [os.path.basename(sys.argv[0]), *sys.argv[1:-1]],
    "path": sys.path, "cwd": os.getcwd(), "flags": str(sys.flags),
    "env": sorted(k for k in os.environ if k != "JPY_SESSION_NAME"),
    "parent": os.getppid(), "own_session": os.getsid(0) == os.getpid(),
    "threads": sorted(t.name.split("-")[0] for t in threading.enumerate()),
    "gc": gc.isenabled(), "touched": getattr(sections, "touched", False),
}))
sections.touched = True
"""


def facts(tmp_path, name, zygote=None) -> dict:
    book = one_cell_notebook(tmp_path / f"{name}.ipynb", FACTS)
    out = tmp_path / f"{name}-out.ipynb"
    report.execute_notebook(book, out, {}, cwd=tmp_path, zygote=zygote)
    return json.loads(nbformat.read(out, as_version=4).cells[0].outputs[0]["text"])


def test_a_forked_kernel_reads_as_a_launched_one_and_shares_nothing(tmp_path):
    zygote = report.kernels()
    launched = facts(tmp_path, "launched")
    first, second = facts(tmp_path, "first", zygote), facts(tmp_path, "second", zygote)
    assert first["parent"] == second["parent"] == zygote.process.pid
    assert launched.pop("parent") == os.getpid()
    for forked in (first, second):
        forked.pop("parent")
        assert forked == launched  # argv, sys.path, cwd, flags, environment, threads, own session
    assert launched["own_session"] and launched["cwd"] == str(tmp_path)
    assert not second["touched"]  # what the first kernel did stays in it


def test_the_zygote_is_waited_for_after_its_kernels(tmp_path):
    """Closed, it exits once its kernels have: their CPU time counts for the process that
    started it (the batch benchmark's figure)."""
    zygote = kernels.StartedZygote(interpreter())
    facts(tmp_path, "one", zygote)
    zygote.close()
    assert zygote.process.returncode == 0


def test_a_connection_that_closes_takes_its_running_kernels_with_it(tmp_path):
    """A batch's workers share its zygote: a worker that dies (its connection closed) leaves
    none of its kernels running."""
    zygote = kernels.StartedZygote(interpreter())
    worker = kernels.Zygote(interpreter(), zygote.address)
    connection_file = tmp_path / "kernel.json"
    command = [*interpreter(), "-m", "ipykernel_launcher", "-f", str(connection_file)]
    kernel = worker.fork(command, dict(os.environ), str(tmp_path))
    for _ in range(200):  # the kernel writes its connection file once it runs
        if connection_file.exists():
            break
        time.sleep(0.05)
    assert kernel.poll() is None
    worker.close()
    kernel.wait(timeout=20)
    zygote.close()
    assert zygote.process.returncode == 0


def test_a_killed_kernel_has_exited_when_the_kill_returns(tmp_path):
    """jupyter_client polls a killed kernel every 0.1 s; the forking provisioner returns from
    the kill once the kernel's process has exited (a report's last step)."""
    zygote = kernels.StartedZygote(interpreter())
    connection_file = tmp_path / "kernel.json"
    command = [*interpreter(), "-m", "ipykernel_launcher", "-f", str(connection_file)]
    provisioner = kernels.ForkingProvisioner(kernel_id="k", kernel_spec=None, parent=None)
    provisioner.process = kernel = zygote.fork(command, dict(os.environ), str(tmp_path))
    provisioner.pid = provisioner.pgid = kernel.pid
    for _ in range(200):  # the kernel writes its connection file once it runs
        if connection_file.exists():
            break
        time.sleep(0.05)
    assert kernel.poll() is None
    with ThreadPoolExecutor(1) as thread:  # a loop of its own, whatever runs in this thread
        thread.submit(asyncio.run, provisioner.kill()).result()
    assert kernel.returncode == 0  # seen exited, no poll needed
    zygote.close()


def interpreter() -> list[str]:
    command = report.kernel_command()
    return command[: command.index("-m")]


def test_a_kernel_another_python_runs_is_launched_as_usual():
    zygote = report.kernels()
    assert zygote.launches([*interpreter(), "-m", "ipykernel_launcher", "-f", "x.json"])
    assert not zygote.launches([sys.executable + "-other", "-m", "ipykernel_launcher"])
    assert not zygote.launches(["/usr/bin/R", "--slave", "-e", "IRkernel::main()"])
