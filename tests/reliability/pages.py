"""Synthetic profile pages cut from the real sample: many owners, varied titles, shared papers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Final

from tests.conftest import SAMPLE

_META: Final = re.compile(
    r"^(?:\d+(?:\.\d+)?)?[A-Z][A-Z-]*?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{1,2}(?:, \d{4})?(?:Code)?$",
    re.M,
)
_OWNER: Final = "Yaxin Li"
_FIRST: Final = (
    "Ana", "Bo", "Chen", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kofi",
    "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rafael", "Sun", "Tomás", "Uma", "Véra",
)  # fmt: skip
_LAST: Final = (
    "Abe", "Berg", "Costa", "Duarte", "Eze", "Fischer", "Garcia", "Huang", "Ito", "Jensen",
    "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quiroga", "Rossi",
)  # fmt: skip
_TOPICS: Final = (
    "Graphs", "Retrieval", "Spiking Networks", "Point Clouds", "Language Models", "Pruning",
    "Robustness", "Recommendation", "Distillation", "Segmentation", "Privacy", "Federated Data",
)  # fmt: skip


@dataclass(frozen=True)
class SampleParts:
    """The sample page cut into its header and its paper blocks (text as in the file)."""

    header: str
    blocks: tuple[str, ...]


def sample_parts() -> SampleParts:
    text = SAMPLE.read_text(encoding="utf-8")
    starts = [match.start() for match in _META.finditer(text)]
    blocks = tuple(
        text[start:end].strip("\n")
        for start, end in zip(starts, [*starts[1:], len(text)], strict=True)
    )
    return SampleParts(text[: starts[0]], blocks)


def owner_name(index: int) -> str:
    first = _FIRST[index % len(_FIRST)]
    last = _LAST[(index // len(_FIRST)) % len(_LAST)]
    return f"{first} {last}" + (f" {chr(65 + index // 400)}." if index >= 400 else "")


def page(index: int, *, version: int = 0, seed: int = 0) -> str:
    """Profile page number `index`: an owner of its own, 8 to 22 of the sample's papers with
    titles of its own, and a few papers shared with neighbouring pages. `version` > 0 is a
    later capture with more citations and one more paper."""
    parts = sample_parts()
    rng = Random(f"{seed}-{index}")
    name = owner_name(index)
    chosen = rng.sample(range(len(parts.blocks)), rng.randint(8, len(parts.blocks)))
    blocks = []
    for position, block_index in enumerate(sorted(chosen)):
        meta, title, rest = parts.blocks[block_index].split("\n", 2)
        if position % 5 == 0:
            # Shared with the neighbouring page: the same paper on two owners' pages.
            title = f"{title} — {_TOPICS[(index // 2) % len(_TOPICS)]} Edition {index // 2}"
        else:
            title = f"{title} for {_TOPICS[rng.randrange(len(_TOPICS))]} ({index}.{position})"
        blocks.append("\n".join((meta, title, rest.replace(_OWNER, name))))
    for extra in range(version):
        blocks.insert(
            0,
            f"LGNov {20 + extra}\nA Later Paper {extra} of {name}\n\n{name}, Han Xu\n\nAbstract.",
        )
    header = (
        parts.header.replace(_OWNER, name)
        .replace("22papers", f"{len(blocks)}papers")
        .replace("22 Papers", f"{len(blocks)} Papers")
        .replace("1,248citations", f"{1248 + 37 * index + 11 * version:,}citations")
    )
    return header + "\n\n".join(blocks)


def write_pages(raw_dir: Path, indices: range | list[int], folder: str = "2026-11-25") -> None:
    target = raw_dir / folder
    target.mkdir(parents=True, exist_ok=True)
    for index in indices:
        (target / f"{index:04d}_{owner_name(index).replace(' ', '_')}.txt").write_text(
            page(index), encoding="utf-8"
        )
