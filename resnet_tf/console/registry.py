"""Named entries of one kind of thing (networks, schedules, augmentations), each registered once by a
decorated function, as timm's ``register_model`` and big_vision's ``Registry`` do: the name a user types is the
key that configurations and checkpoints store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """The entries of one ``kind``: functions registered under their own name, called to make the entry."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable[[], T]] = {}

    def register(self, make: Callable[[], T]) -> Callable[[], T]:
        """Registers ``make`` under its function name; returns it unchanged (a decorator). ValueError when the
        name is taken."""
        if make.__name__ in self._entries:
            raise ValueError(f"{self.kind} {make.__name__!r} is registered twice")
        self._entries[make.__name__] = make
        return make

    def names(self) -> tuple[str, ...]:
        """The registered names, in the order they were registered."""
        return tuple(self._entries)

    def describe(self) -> str:
        """Every entry as ``name: description``, in the order registered, for a ``--help`` text: the entries
        carry their own ``description``, so a new one is listed where its option is explained."""
        return "; ".join(f"{name}: {make().description}" for name, make in self._entries.items())

    def get(self, name: str) -> T:
        """The entry called ``name``; ValueError naming the registered ones otherwise."""
        if name not in self._entries:
            raise ValueError(f"unknown {self.kind} {name!r}; registered: {', '.join(self._entries)}")
        return self._entries[name]()
