"""The import table of architecture.md, enforced by walking every module's imports.

The pure core (x12, stages) must never reach the edges (ledger, transports, files, the CLI), the
X12 layer knows nothing of rheumatology, and coding knows nothing of X12.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "edi_pipeline"

EDGES = (
    "edi_pipeline.ledger",
    "edi_pipeline.transports",
    "edi_pipeline.app",
    "edi_pipeline.cli",
    "edi_pipeline.commands",
    "edi_pipeline.watch",
    "edi_pipeline.deliver",
    "edi_pipeline.report",
    "edi_pipeline.validate",
)
STAGES = (
    "edi_pipeline.intake",
    "edi_pipeline.coding",
    "edi_pipeline.scrub",
    "edi_pipeline.claim837",
    "edi_pipeline.acks",
    "edi_pipeline.remit",
)

# layer (module prefix) -> prefixes it may not import
FORBIDDEN = {
    "edi_pipeline.models": ("edi_pipeline.",),
    "edi_pipeline.x12": (*EDGES, *STAGES, "edi_pipeline.maps"),
    "edi_pipeline.coding": (
        *EDGES,
        "edi_pipeline.x12",
        "edi_pipeline.scrub",
        "edi_pipeline.remit",
        "edi_pipeline.acks",
    ),
    "edi_pipeline.intake": (*EDGES, "edi_pipeline.x12", "edi_pipeline.scrub"),
    "edi_pipeline.scrub": (*EDGES, "edi_pipeline.x12"),
    "edi_pipeline.claim837": EDGES,
    "edi_pipeline.acks": EDGES,
    "edi_pipeline.remit": tuple(e for e in EDGES if e != "edi_pipeline.ledger"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_module_respects_the_layer_table(path: Path) -> None:
    name = module_name(path)
    for layer, banned in FORBIDDEN.items():
        if name == layer or name.startswith(layer + "."):
            bad = sorted(
                imp
                for imp in imports_of(path)
                if any(
                    imp == b.rstrip(".")
                    or imp.startswith(b if b.endswith(".") else b + ".")
                    or imp == b
                    for b in banned
                )
            )
            assert not bad, f"{name} ({layer} layer) imports {bad}"
