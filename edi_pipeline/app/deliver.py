"""The ``deliver`` workflow: open the ledger and the destination, send what is built and unsent.

``run`` (the whole outbound job) ends with the same call, so both deliver the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edi_pipeline.deliver import DEFAULT_RETRY, DeliveryResult, deliver
from edi_pipeline.errors import SettingsError
from edi_pipeline.ledger import open_ledger
from edi_pipeline.ledger.base import Ledger
from edi_pipeline.transports import Retry, open_transport

TO_ENV = "EDI_PIPELINE_DELIVER_TO"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Where and how to deliver; ``to`` is ``folder:DIR`` or ``sftp://user@host:port/path``."""

    to: str
    identity: Path | None = None
    known_hosts: Path | None = None
    accept_new_host_key: bool = False
    timeout: float = 30.0
    retry: Retry = DEFAULT_RETRY

    @classmethod
    def from_options(
        cls,
        to: str | None,
        *,
        identity: Path | None = None,
        known_hosts: Path | None = None,
        accept_new_host_key: bool = False,
        timeout: float = 30.0,
        attempts: int | None = None,
    ) -> DeliverySettings:
        to = to or os.environ.get(TO_ENV) or None
        if not to:
            raise SettingsError(
                f"no destination: pass --to folder:DIR or --to sftp://user@host:port/path "
                f"(or set {TO_ENV})"
            )
        if timeout <= 0:
            raise SettingsError(f"--timeout must be more than 0 seconds (got {timeout:g})")
        retry = DEFAULT_RETRY
        if attempts is not None:
            if attempts < 1:
                raise SettingsError(f"--attempts must be at least 1 (got {attempts})")
            retry = Retry(attempts=attempts)
        return cls(to, identity, known_hosts, accept_new_host_key, timeout, retry)


def deliver_built(ledger: Ledger, settings: DeliverySettings) -> DeliveryResult:
    """Send every built, unsent interchange in ``ledger`` to ``settings.to``, exactly once."""
    transport = open_transport(
        settings.to,
        identity=settings.identity,
        known_hosts=settings.known_hosts,
        accept_new_host_key=settings.accept_new_host_key,
        timeout=settings.timeout,
    )
    return deliver(ledger, transport, retry=settings.retry)


def deliver_command(ledger_spec: str | None, settings: DeliverySettings) -> DeliveryResult:
    """``edi-pipeline deliver``: open the ledger (``--ledger``/env/default), deliver, close."""
    ledger = open_ledger(ledger_spec)
    try:
        return deliver_built(ledger, settings)
    finally:
        ledger.close()


def deliver_if_configured(ledger: Ledger) -> DeliveryResult | None:
    """For ``run``: deliver after the build when ``EDI_PIPELINE_DELIVER_TO`` names a destination
    (SFTP also reads ``EDI_PIPELINE_IDENTITY`` and ``EDI_PIPELINE_KNOWN_HOSTS``); else None."""
    to = os.environ.get(TO_ENV)
    if not to:
        return None
    identity = os.environ.get("EDI_PIPELINE_IDENTITY")
    known_hosts = os.environ.get("EDI_PIPELINE_KNOWN_HOSTS")
    settings = DeliverySettings.from_options(
        to,
        identity=Path(identity) if identity else None,
        known_hosts=Path(known_hosts) if known_hosts else None,
    )
    return deliver_built(ledger, settings)
