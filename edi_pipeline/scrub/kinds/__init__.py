"""One module per rule kind; importing this package registers them all with the engine.

A new kind is a new module here defining a frozen dataclass decorated with ``@rule_kind(name)``
and a pure ``check(claim, ctx)``; nothing else changes (the map loader reads its schema from the
dataclass fields).
"""

from __future__ import annotations

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")
