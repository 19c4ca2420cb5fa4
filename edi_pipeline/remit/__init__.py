"""The remit stage (pure): 835 → claims (``parse``), balance (``balance``), match to what we sent
(``match``), classify every adjustment (``classify``). The workflow that wires it to files and the
ledger is ``app/remit.py``; the denial report is ``report.py``."""
