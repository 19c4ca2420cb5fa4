"""Intake: encounter exports (JSON, JSON Lines, CSV) in, typed encounters or rejections out.

``read_file(path, maps, known_ids=…)`` streams one ``Encounter`` or ``Rejection`` per record;
``write_quarantine(out_dir, input_name, rejections)`` keeps the rejected records, unchanged and
with their reasons, for fixing and re-submission; ``Tally``/``IntakeCounts`` count a run so that
records read = accepted + rejected. The input contract is ``encounter-format.md`` and the
published schema ``edi_pipeline/schemas/encounter.schema.json`` (``schema_text()``).
"""

from edi_pipeline.intake.counts import IntakeCounts, Tally, summarize
from edi_pipeline.intake.quarantine import quarantine_path, write_quarantine
from edi_pipeline.intake.reader import detect_format, read_file
from edi_pipeline.intake.structure import schema_text

__all__ = [
    "IntakeCounts",
    "Tally",
    "detect_format",
    "quarantine_path",
    "read_file",
    "schema_text",
    "summarize",
    "write_quarantine",
]
