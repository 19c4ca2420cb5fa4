"""Reference data under ``maps/``: loaded, schema-checked and typed before anything runs.

Each table is a module in this package that registers a loader with ``@table("name")``; the
loader reads its files from the maps root and returns a typed, immutable table, or records
problems. ``load_maps()`` runs every loader, collects *all* problems and raises one ``MapError``
listing each as ``file: row/rule: field: what is wrong (got …)``, so a billing lead sees every
mistake at once. A map with an unknown key is an error: a mistyped field would silently switch a
rule off.

The data ships inside the wheel as ``edi_pipeline/_data/maps``; from a checkout the top-level
``maps/`` is read. Tests and practices may pass their own directory.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from edi_pipeline.errors import MapError
from edi_pipeline.maps.schema import Problems

Loader = Callable[[Traversable, Problems], Any]
_LOADERS: dict[str, Loader] = {}


def table(name: str) -> Callable[[Loader], Loader]:
    """Register the loader of one table under ``name`` (the attribute on ``Maps``)."""

    def register(fn: Loader) -> Loader:
        _LOADERS[name] = fn
        return fn

    return register


def default_root() -> Traversable:
    """The maps shipped in the wheel, or the checkout's ``maps/`` when running from source."""
    packaged = files("edi_pipeline") / "_data" / "maps"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "maps"


class Maps:
    """All reference tables, by name (``maps.drugs``, ``maps.payers`` …)."""

    def __init__(self, root: Traversable, tables: dict[str, Any]):
        self.root = root
        self._tables = tables

    def __getattr__(self, name: str) -> Any:
        try:
            return self._tables[name]
        except KeyError:
            raise AttributeError(f"no map table named {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._tables


def _discover() -> None:
    for info in pkgutil.iter_modules(__path__):
        if info.name != "schema":
            importlib.import_module(f"{__name__}.{info.name}")


def load_maps(root: Traversable | Path | str | None = None) -> Maps:
    """Load and check every table; the default root is cached for the life of the process."""
    if root is None:
        return _load_default()
    return _load(Path(root) if isinstance(root, str) else root)


@functools.cache
def _load_default() -> Maps:
    return _load(default_root())


def _load(root: Traversable) -> Maps:
    _discover()
    problems = Problems()
    tables = {name: loader(root, problems) for name, loader in sorted(_LOADERS.items())}
    if problems:
        raise MapError(list(problems))
    return Maps(root, tables)
