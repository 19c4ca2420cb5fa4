"""One module per rule kind; importing this package registers them all with the engine.

A new kind is a new module here defining a frozen dataclass (``kw_only=True, slots=True``,
subclassing ``Rule`` or ``LineRule``) decorated with ``@rule_kind(name)``, whose parameters are
fields documented with ``field(metadata=meta("what it means"))``, and a pure
``check(claim, ctx)`` yielding ``self.hold(detail)``; nothing else changes (the map loader reads
its schema from the dataclass fields, the README table lists it).
"""

from __future__ import annotations

import importlib
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_info.name}")
