"""edi-pipeline: rheumatology encounters to X12 837P claims, and 835 remittances back to answers."""

__version__ = "0.1.0"
