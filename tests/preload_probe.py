"""Run in a process forked by the lab's fork server: report which modules it has loaded already.

Kept free of imports so that unpickling the probe in the child loads nothing else.
"""

from __future__ import annotations

import sys


def loaded(queue, names: list[str]) -> None:  # noqa: ANN001 - a multiprocessing queue
    """Put each name's presence in sys.modules on the queue."""
    queue.put({name: name in sys.modules for name in names})
