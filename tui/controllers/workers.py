"""The one way controllers run blocking work: a thread worker of the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.dom import DOMNode


def in_thread(
    node: DOMNode, work: Callable[[], Any], *, group: str, exclusive: bool = False
) -> None:
    """Run `work` in a thread worker of `node` (`@work(thread=True)` for plain objects).

    `exclusive` cancels the group's earlier workers (a newer request supersedes them).
    Errors never end the app: each piece of work reports its own failures.
    """
    node.run_worker(work, thread=True, exclusive=exclusive, group=group, exit_on_error=False)
