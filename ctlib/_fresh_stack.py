"""Importing a module on a fresh thread stack, for code running deep in a Jupyter kernel.

CPython 3.11 maps and unmaps a 16 KiB frame-stack chunk whenever a call crosses a chunk boundary.
Altair's import builds jsonschema's IRI grammar (lark, deeply recursive); deep in a Jupyter
kernel's main-thread stack that thrashes (~20,000 mmap/munmap a second, 2.5x the CPU time). A new
thread starts on an empty stack; the module is then cached for everyone.
"""

from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType


def import_module(name: str) -> ModuleType:
    """`importlib.import_module(name)`, run on a new thread the first time."""
    if name not in sys.modules:
        worker = threading.Thread(target=importlib.import_module, args=(name,))
        worker.start()
        worker.join()  # a failed import is raised again, with its traceback, below
    return importlib.import_module(name)
