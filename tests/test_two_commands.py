"""The README's two commands on a fresh machine: what the tests need comes from one script.

`make test` runs the suite through scripts/test-environment, which installs Debian's chromium and
postgresql when it can and starts a throwaway PostgreSQL server. Without a browser the browser
tests skip with one line that says why and how to run them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import BROWSER_SKIP, REPO, working_tree_copy

SCRIPT = REPO / "scripts" / "test-environment"


def test_a_fresh_clone_without_chromium_skips_the_browser_tests_in_one_line(tmp_path):
    clone = working_tree_copy(tmp_path / "clone")
    browser_files = sorted(str(p.relative_to(clone)) for p in clone.glob("tests/test_*_browser.py"))
    assert browser_files, "no browser test files found"
    environment = {
        "PATH": str(Path(sys.executable).parent),  # no /usr/bin: no chromium on PATH
        "HOME": str(tmp_path),
        "PYTHONPATH": str(clone),
        "CTLIB_TEST_INSTALL": "no",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_environment.py",
        ]
        + browser_files,
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    closing = re.search(r"^(\d+) passed, (\d+) skipped in ", output, re.MULTILINE)
    assert closing, output
    skip_lines = [line for line in output.splitlines() if line.startswith(BROWSER_SKIP)]
    assert skip_lines == [f"{BROWSER_SKIP} ({closing.group(2)} skipped)"], output
    assert int(closing.group(2)) >= 10 and int(closing.group(1)) >= 5


def test_the_script_runs_the_command_and_returns_its_exit_code(tmp_path):
    environment = {**os.environ, "CTLIB_TEST_INSTALL": "no"}
    done = subprocess.run(
        [str(SCRIPT), "sh", "-c", "exit 3"], env=environment, capture_output=True, timeout=120
    )
    assert done.returncode == 3
    usage = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "usage: scripts/test-environment COMMAND" in usage.stderr


def test_the_script_stops_its_postgres_server_after_the_command():
    environment = {**os.environ, "CTLIB_TEST_INSTALL": "no"}
    environment.pop("CTLIB_TEST_POSTGRES_URL", None)
    done = subprocess.run(
        [str(SCRIPT), "sh", "-c", 'echo "$CTLIB_TEST_POSTGRES_URL"'],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    url = done.stdout.strip()
    if not url:  # no PostgreSQL on this machine: the script said so in one line
        assert "the database tests will be skipped" in done.stderr
        return
    socket_dir = Path(url.partition("?host=")[2])
    assert socket_dir.name.startswith("ctlib-test-postgres.") and not socket_dir.exists()


def test_the_postgres_server_of_the_run_answers_on_a_private_socket(postgres_url):
    """Run through the script (as `make test` does)."""
    psql = shutil.which("psql")
    assert psql, "the postgresql package brings psql"
    answer = subprocess.run(
        [psql, postgres_url, "-Atc", "select current_setting('listen_addresses')"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == ""  # no TCP listener: only the Unix socket of this run
