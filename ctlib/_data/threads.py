"""Work on a few threads at once: a part's columns are converted, and a table's columns derived,
a few at a time. Most of that work is Arrow's and numpy's, which release the GIL."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

THREADS = min(4, os.cpu_count() or 1)


def in_threads(function: Callable, calls: Iterable[tuple], threads: int = THREADS) -> Iterator:
    """(arguments, function(*arguments)) of each of `calls` in order, `threads` computed at a time;
    `calls` (an iterator) is read as the work goes."""
    with ThreadPoolExecutor(threads) as pool:
        pending = deque()
        for arguments in calls:
            pending.append((arguments, pool.submit(function, *arguments)))
            if len(pending) > threads:
                arguments, future = pending.popleft()
                yield arguments, future.result()
        for arguments, future in pending:
            yield arguments, future.result()
