"""What every bridge does with what it read: a reading on its telemetry topic, or a refusal
sent to ingest's dead letters.

A reading is checked here exactly as ingest will check it (`territory.decode`), so that a
value ingest would refuse goes to the dead letters with the original input that produced
it (the uplink, the station record), not only with our translation of it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from territory import topics
from territory.bus import BrokerAddress, connect, make_client
from territory.decode import decode
from territory.readings import RejectReason
from territory.rejects import reject_message

log = logging.getLogger(__name__)

_FLUSH_TIMEOUT_S = 30.0


def broker_address(url: str, auth_file: Path | None = None) -> BrokerAddress:
    """The broker a bridge publishes to, from `--mqtt URL [--mqtt-auth FILE]`.

    `--mqtt-auth FILE` holds the bridge's own credentials and TLS settings (an account
    file of `territory secure init`); reading it is territory.bus's job.
    """
    return BrokerAddress.from_url(url, auth_file)


def redact(url: str) -> str:
    """A URL fit for logs and dead letters: no user, password or query (feeds put keys there)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Publisher:
    """Readings and refusals of one bridge, published at QoS 1 on one broker connection."""

    def __init__(self, address: BrokerAddress, source: str, client_id: str) -> None:
        self.source = source
        self.counts: Counter[str] = Counter()
        self._client = make_client(address, client_id)
        self._client.reconnect_delay_set(1, 30)
        self._pending: list[mqtt.MQTTMessageInfo] = []
        self._lock = threading.Lock()
        connect(self._client, address)
        self._client.loop_start()

    def reading(
        self,
        zone: str,
        kind: str,
        device_id: str,
        payload: dict[str, Any],
        *,
        origin: str,
        original: bytes,
    ) -> bool:
        """Publish one reading; a reading ingest would refuse goes to the dead letters
        instead, with `original` (what it was made from). True when published."""
        topic = topics.telemetry(zone, kind, device_id)
        body = json.dumps(payload, separators=(",", ":")).encode()
        checked = decode(topic, body)
        if checked.rejection is not None:
            detail = f"{device_id}: {checked.rejection.detail}"
            self.reject(checked.rejection.reason, detail, origin, original)
            return False
        self._send(topic, body)
        self.counts["published"] += 1
        return True

    def reject(self, reason: RejectReason, detail: str, origin: str, original: bytes) -> None:
        """Send what could not be read to ingest, to be kept as a dead letter."""
        topic, body = reject_message(self.source, reason, detail, origin, original)
        log.warning("%s refused (%s): %s", origin, reason.value, detail)
        self._send(topic, body)
        self.counts[f"rejected:{reason.value}"] += 1

    def flush(self, timeout: float = _FLUSH_TIMEOUT_S) -> bool:
        """Wait until the broker has acknowledged everything sent so far."""
        with self._lock:
            pending, self._pending = self._pending, []
        for info in pending:
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                return False
            if not info.is_published():
                return False
        return True

    def close(self) -> None:
        self.flush()
        self._client.loop_stop()
        self._client.disconnect()

    def _send(self, topic: str, body: bytes) -> None:
        info = self._client.publish(topic, body, qos=1)
        with self._lock:
            self._pending.append(info)
            # Keep only what is still in flight: a long-running bridge sends for days.
            if len(self._pending) > 10_000:
                self._pending = [i for i in self._pending if not i.is_published()]
