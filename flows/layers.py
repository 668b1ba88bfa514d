"""Frames kept on disk as layers: a first file written whole, then, for each later change,
the rows it brings and the keys whose earlier rows they replace.

A run that changes 1% of a large frame writes that 1% and links the earlier layers from the
last run's folder, instead of writing the whole frame again. The normalisation memo
(`flows.incremental`) and the row digests (`flows.delta`) are kept this way; each writes a
frame whole again once it has `MAX_LAYERS` layers, so reading stays about one pass over it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final, NamedTuple

import polars as pl

# A frame with this many layers is written whole again: an addition's layer is about 1% of a
# frame, so reading the layers costs about as much as reading the frame once.
MAX_LAYERS: Final = 8


class Layer(NamedTuple):
    """One layer of a frame: the file of its rows, and the file of the keys (in column `key`)
    whose earlier rows they replace (None for the first layer, or rows only added)."""

    rows: str
    drop: str | None = None
    key: str | None = None


def takes_a_layer(layers: list[Layer] | None) -> bool:
    """Whether a frame of `layers` gets one more layer (it has some, and fewer than
    `MAX_LAYERS`) rather than being written whole."""
    return bool(layers) and len(layers) < MAX_LAYERS


def replaced(
    old: pl.DataFrame | pl.LazyFrame, new: pl.DataFrame | pl.LazyFrame, keys: pl.Series, key: str
) -> pl.LazyFrame:
    """`old` without the rows whose `key` is one of `keys`, then `new`."""
    return pl.concat([old.lazy().filter(~pl.col(key).is_in(keys.implode())), new.lazy()])


def scan_layers(folder: Path, layers: list[Layer]) -> pl.LazyFrame:
    """The frame the `layers` in `folder` make, first layer first."""
    first, *later = layers
    frame = pl.scan_parquet(folder / first.rows)
    for layer in later:
        rows = pl.scan_parquet(folder / layer.rows)
        if layer.drop is None or layer.key is None:
            frame = pl.concat([frame, rows])
        else:
            keys = pl.read_parquet(folder / layer.drop)[layer.key]
            frame = replaced(frame, rows, keys, layer.key)
    return frame


def named_layers(about: dict | None, name: str) -> list[Layer] | None:
    """The layers `about` (a folder's `about.json`, under "layers") lists for frame `name`;
    None when it lists none."""
    layers = ((about or {}).get("layers") or {}).get(name)
    return [Layer(*layer) for layer in layers] if layers else None


def add_layer(
    source: Path,
    target: Path,
    earlier: list[Layer],
    name: str,
    rows: pl.DataFrame,
    keys: pl.Series | None,
    key: str,
) -> list[Layer]:
    """Frame `name` in `target` as the `earlier` layers in `source` (linked) and one more:
    `rows`, replacing the earlier rows of `keys` (see `write_layer`)."""
    linked = link_layers(source, target, earlier)
    return [*linked, write_layer(target, name, len(earlier), rows, keys, key)]


def link_layers(source: Path, target: Path, layers: list[Layer]) -> list[Layer]:
    """Hard links in `target` to the files of `layers` in `source` (copies where links
    fail); returns `layers`."""
    for layer in layers:
        for file in filter(None, (layer.rows, layer.drop)):
            try:
                os.link(source / file, target / file)
            except OSError:
                shutil.copyfile(source / file, target / file)
    return layers


def write_layer(
    folder: Path, name: str, number: int, rows: pl.DataFrame, keys: pl.Series | None, key: str
) -> Layer:
    """Write layer `number` of frame `name`: `rows`, replacing the earlier rows of `keys`
    (in column `key`; None: rows only added)."""
    layer = Layer(f"{name}.{number}.parquet")
    rows.write_parquet(folder / layer.rows, compression="lz4")
    if keys is None:
        return layer
    layer = layer._replace(drop=f"{name}.{number}.drop.parquet", key=key)
    keys.rename(key).unique().to_frame().write_parquet(folder / layer.drop, compression="lz4")
    return layer
