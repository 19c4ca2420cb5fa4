"""Workflows that wire the pure stages to the edges (files, ledger, transports).

The CLI and the watcher both call these; no other layer does I/O and stages together.
"""
