"""A sequence whose items are loaded the first time it is read.

A domain's description names its projections, but a command (`eventscope exec`)
never reads them: loading their modules at start-up cost `exec deposit` about 3 ms
(issue 14). A description may hand over its projections as a `DeferredSequence`;
whoever reads them first (the timeline, the projector, the app) loads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class DeferredSequence(Sequence[T]):
    """The sequence `load()` returns, called once, on first use."""

    def __init__(self, load: Callable[[], Sequence[T]]) -> None:
        self._load = load
        self._items: Sequence[T] | None = None

    def _loaded(self) -> Sequence[T]:
        if self._items is None:
            self._items = self._load()
        return self._items

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._loaded()[index]

    def __len__(self) -> int:
        return len(self._loaded())

    def __repr__(self) -> str:
        return (
            f"DeferredSequence({self._items!r})"
            if self._items is not None
            else ("DeferredSequence(<not loaded>)")
        )
