"""The replay memory: at most ``per_class`` training images of each class, chosen by reservoir sampling over
the images of the tasks seen so far (Vitter's algorithm R, per class), so that every image seen of a class is
equally likely to be kept, however many tasks brought it. Each task's images are seen in an order drawn from
the run's seed and the task's number: the memory is a function of the seed and the data, and a resumed run
has the one it had."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Rows:
    """Training rows: image paths and label indices, in order."""

    paths: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    def take(self, indices) -> Rows:
        """The rows at ``indices``, in that order."""
        return Rows([self.paths[i] for i in indices], np.asarray(self.labels, np.int32)[list(indices)])

    @staticmethod
    def joined(parts: list[Rows]) -> Rows:
        """The rows of ``parts``, one after the other."""
        return Rows(
            [p for part in parts for p in part.paths],
            np.concatenate([np.asarray(part.labels, np.int32) for part in parts]) if parts else np.zeros(0, np.int32),
        )


def reservoir(streams: list[Rows], per_class: int, seed: int) -> Rows:
    """The memory after the images of ``streams`` (one per task, in task order): up to ``per_class`` of each
    class, each image seen kept with probability ``per_class / seen`` of its class. In class order, then in
    the order the slots were filled."""
    slots: dict[int, list[tuple[int, int]]] = {}
    seen: dict[int, int] = {}
    for task, stream in enumerate(streams):
        rng = np.random.default_rng([seed, task])
        for row in rng.permutation(len(stream)):
            label = int(stream.labels[row])
            seen[label] = seen.get(label, 0) + 1
            kept = slots.setdefault(label, [])
            if len(kept) < per_class:
                kept.append((task, row))
                continue
            slot = int(rng.integers(seen[label]))
            if slot < per_class:
                kept[slot] = (task, row)
    chosen = [entry for label in sorted(slots) for entry in slots[label]]
    return Rows(
        [streams[t].paths[r] for t, r in chosen],
        np.array([streams[t].labels[r] for t, r in chosen], np.int32),
    )


def replay_repeats(new: int, memory: int, ratio: float) -> int:
    """How many times the memory's ``memory`` images are listed beside a task's ``new`` ones so that they make
    up about ``ratio`` of what the task trains on (at least once when there is a memory)."""
    if memory == 0:
        return 0
    return max(1, round(ratio * new / ((1 - ratio) * memory)))
