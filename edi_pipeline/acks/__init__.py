"""Acknowledgments: read TA1, 999 and 277CA, and tie each verdict back to what we sent.

``reader.read_ack`` turns a file into frozen values (``model``); ``tieback`` turns those values,
given what the ledger says we sent, into claim updates with plain-language reasons
(``maps.ack_codes``). Both are pure: the ledger and the files are reached only through
``app.ack``.
"""

from edi_pipeline.acks.model import Ack277, Ack999, AckFile, Ta1
from edi_pipeline.acks.reader import read_ack

__all__ = ["Ack277", "Ack999", "AckFile", "Ta1", "read_ack"]
