"""One MQTT connection for the whole twin ("gateway mode"), written in batches.

Every device still publishes on its own topic with its own id in the payload; the
connection is shared, as a field gateway or an LNS bridge would share it. Commands
arrive on the same connection.

Why not paho: its cost is per publish (a Python packet object, a socket send and, for
the PUBACK, a receive, a properties object and a callback: 40-80 µs each), five times
what the twin needs to produce the message. Here a publish is one `bytes.join` into a
batch; a batch leaves in one socket write; PUBACKs are read in bulk. Each message keeps
its own packet id and stays in the in-flight window until the broker acknowledges it,
so QoS 1 holds: after a reconnection the whole window is sent again, marked DUP.

The simulator's thread owns the connection: the network is served inside `publish()`
(a full batch, a full window), `poll()` (when the simulator would otherwise sleep) and
`drain()` (when it looks for commands). No second thread, no lock per message.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import struct
import time
from collections import deque

from devices.commands import SUBSCRIPTIONS
from territory import frames
from territory.bus import BrokerAddress, coerce_address, tls_context

log = logging.getLogger(__name__)

# Unacknowledged publishes at once (lowered to the broker's Receive Maximum on MQTT 5).
# Large enough that the broker's acknowledgements never stall a burst on a local link.
INFLIGHT = 20_000
BATCH = 1024  # frames per socket write: ~170 KB, one system call instead of a thousand
KEEPALIVE_S = 30
ACK_TIMEOUT_S = 30.0  # a full window with no acknowledgement for this long: connection dead
SEND_TIMEOUT_S = 10.0  # a write the broker does not take for this long: connection dead
RECONNECT_S = (0.5, 10.0)  # first and longest wait between reconnection attempts
# Payload bytes kept for the broker while it is unreachable, beyond the window: the
# oldest go first when more arrive, as on a device's ring buffer (the freshest readings
# are the ones an operator needs when the link comes back). 64 MiB holds about 15
# minutes of the metropolis at its nominal rate.
BACKLOG_BYTES = 64 << 20
_RECEIVE = 1 << 18


class BrokerUnreachable(RuntimeError):
    """The broker refused or did not answer; the message says where and why."""


class MqttGateway:
    """Publishes telemetry (QoS 1) and collects commands for the twin."""

    def __init__(
        self,
        url: str | BrokerAddress,
        client_id: str,
        subscribe: bool = True,
        window: int = INFLIGHT,
        batch: int = BATCH,
        backlog_bytes: int = BACKLOG_BYTES,
    ) -> None:
        self.address = coerce_address(url)
        self.client_id = client_id
        self.encoder = frames.PublishEncoder(self.address.is_v5)
        self.inbox: list[tuple[str, bytes]] = []
        self.connected = False
        self.acked = 0  # publishes the broker acknowledged
        self.refused = 0  # publishes the broker answered with an error code (logged)
        self.resent = 0  # publishes sent again (DUP) after a reconnection
        self.dropped = 0  # oldest publishes given up while the broker was unreachable
        self.window = min(window, frames.MAX_PACKET_ID - 16)  # ids left for SUBSCRIBE
        self._batch = batch
        self._subscribe = subscribe
        self._limit = self.window
        self._room = self.window
        self._inflight: dict[int, bytes] = {}  # packet id -> frame, in sending order
        self._out: list[bytes] = []  # frames not yet written: the tail of _inflight
        self._backlog: deque[tuple[str, bytes]] = deque()  # waiting for room in the window
        self._backlog_size = 0  # payload bytes in the backlog
        self._backlog_bytes = backlog_bytes
        self._dropped_reported = 0  # `dropped` when the last outage ended
        self._next_id = 0
        self._sock: socket.socket | None = None
        self._rx = b""
        self._keepalive = KEEPALIVE_S
        self._max_packet = frames.MAX_REMAINING_LENGTH
        self._last_sent = 0.0
        self._ping_at: float | None = None
        self._closing = False
        self._retry_at = 0.0
        self._retry_wait = RECONNECT_S[0]

    # -- connection ------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        try:
            self._open(timeout)
        except (OSError, frames.ProtocolError) as exc:
            raise BrokerUnreachable(
                f"cannot reach the broker at {self.address.url}: {exc}"
            ) from exc

    def _open(self, timeout: float) -> None:
        """Connect, wait for CONNACK, subscribe, and send the unacknowledged window again."""
        address = self.address
        sock = socket.create_connection((address.host, address.port), timeout=timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if address.tls:  # the handshake runs here, within `timeout`
                sock = tls_context(address).wrap_socket(sock, server_hostname=address.host)
            sock.sendall(
                frames.connect_packet(
                    self.client_id,
                    address.is_v5,
                    KEEPALIVE_S,
                    address.username,
                    address.password_text(),
                )
            )
            connack = self._await_connack(sock)
        except BaseException:
            sock.close()
            raise
        # Blocking from here on (reads use MSG_DONTWAIT or select), with a bounded write.
        sock.settimeout(None)
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", int(SEND_TIMEOUT_S), 0)
        )
        self._sock = sock
        self._limit = min(self.window, connack.receive_maximum)
        self._keepalive = connack.server_keepalive or KEEPALIVE_S
        self._max_packet = connack.maximum_packet_size
        self.connected = True
        self._ping_at = None
        self._retry_wait = RECONNECT_S[0]
        if self._subscribe:
            self._send(frames.subscribe_packet(self._take_id(), SUBSCRIPTIONS, address.is_v5))
        self._resend_window()

    def _await_connack(self, sock: socket.socket) -> frames.Connack:
        buffer = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                raise ConnectionError("the broker closed the connection before CONNACK")
            buffer += chunk
            packets, _ = frames.split_packets(buffer)
            if packets:
                break
        first, body = packets[0]
        if first >> 4 != frames.CONNACK:
            raise frames.ProtocolError(f"expected CONNACK, got packet type {first >> 4}")
        connack = frames.parse_connack(body, self.address.is_v5)
        if connack.code:
            reason = frames.CONNACK_REFUSALS.get(connack.code, f"code 0x{connack.code:02x}")
            raise ConnectionRefusedError(f"the broker refused the connection: {reason}")
        if connack.maximum_qos < 1:
            raise frames.ProtocolError("the broker does not accept QoS 1 publishes")
        length = frames.read_varint(buffer, 1)
        assert length is not None  # split_packets found the whole packet
        self._rx = buffer[length[1] + length[0] :]  # whatever followed it: read later
        return connack

    def _resend_window(self) -> None:
        """Frames written before the connection dropped may or may not have reached the
        broker: they go again, marked DUP. Frames never written go as they are."""
        frames_in_flight = list(self._inflight.values())
        written = len(frames_in_flight) - len(self._out)
        self._out = [frames.with_dup(f) for f in frames_in_flight[:written]] + self._out
        self.resent += written
        if written:
            log.info("sending %d unacknowledged publishes again", written)
        if self.dropped > self._dropped_reported:
            log.warning(
                "%d publishes (the oldest) were dropped while the broker was unreachable",
                self.dropped - self._dropped_reported,
            )
            self._dropped_reported = self.dropped
        self._room = self._limit - len(self._inflight)
        self._flush()

    def _lost(self, reason: object) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._rx = b""
        self.connected = False
        if not self._closing:
            log.warning("disconnected from %s: %s", self.address.url, reason)

    def _reconnect(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            if timeout > 0:
                time.sleep(min(timeout, self._retry_at - now))
            return
        try:
            self._open(timeout=5.0)
        except (OSError, frames.ProtocolError) as exc:
            log.warning("broker %s unreachable (%s)", self.address.url, exc)
            self._retry_at = now + self._retry_wait
            self._retry_wait = min(RECONNECT_S[1], 2 * self._retry_wait)

    # -- publishing ------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one QoS 1 publish; kept until the broker acknowledges it.

        The hot path of a burst: one frame built from cached pieces, two appends."""
        if self._room <= 0:
            self._make_room()
            if self._room <= 0:  # still no room: disconnected, keep it in order
                self._keep(topic, payload)
                return
        inflight = self._inflight
        packet_id = self._next_id % frames.MAX_PACKET_ID + 1
        if packet_id in inflight:
            packet_id = self._take_id()
        self._next_id = packet_id
        encoder = self.encoder
        head = encoder.topics.get(topic) or encoder.topic(topic)
        size = len(head) + encoder.overhead + len(payload)
        if size < frames.SHORT_LENGTHS:
            frame = b"".join((encoder.fixed[size], head, encoder.packet_ids[packet_id], payload))
        else:
            frame = encoder.frame(topic, packet_id, payload)
            if len(frame) > self._max_packet:
                self.refused += 1
                log.warning("not sent: %s is %d bytes, over the broker's maximum", topic, size)
                return
        inflight[packet_id] = frame
        out = self._out
        out.append(frame)
        self._room -= 1
        if len(out) >= self._batch:
            self._flush()

    def _keep(self, topic: str, payload: bytes) -> None:
        """Backlog a publish; beyond the byte bound, the oldest ones are dropped (counted)."""
        self._backlog.append((topic, payload))
        self._backlog_size += len(payload)
        dropped = 0
        while self._backlog_size > self._backlog_bytes and len(self._backlog) > 1:
            self._backlog_size -= len(self._backlog.popleft()[1])
            dropped += 1
        if dropped and self.dropped == self._dropped_reported:  # the first of this outage
            log.warning(
                "broker unreachable and %d bytes backlogged: dropping the oldest publishes",
                self._backlog_bytes,
            )
        self.dropped += dropped

    def _take_id(self) -> int:
        packet_id = self._next_id
        for _ in range(frames.MAX_PACKET_ID):
            packet_id = packet_id % frames.MAX_PACKET_ID + 1
            if packet_id not in self._inflight:
                self._next_id = packet_id
                return packet_id
        raise RuntimeError("every MQTT packet id is in flight")  # the window forbids it

    def _make_room(self) -> None:
        """Wait for acknowledgements (a full window), or reconnect; then move the backlog in."""
        self._flush()
        waited_since = time.monotonic()
        while self._room <= 0:
            if not self.connected:
                self._reconnect(0.0)
                if not self.connected:
                    return
                continue
            if self._read(wait=0.05):
                waited_since = time.monotonic()
            elif time.monotonic() - waited_since > ACK_TIMEOUT_S:
                self._lost(f"no acknowledgement for {ACK_TIMEOUT_S:g} s")
        while self._backlog and self._room > 0:
            topic, payload = self._backlog.popleft()
            self._backlog_size -= len(payload)
            self.publish(topic, payload)

    def _flush(self) -> None:
        if not self._out or not self.connected:
            return
        data = b"".join(self._out)
        self._out.clear()  # written or not, these frames count as sent: DUP on a resend
        if self._send(data):
            self._read()

    def _send(self, data: bytes) -> bool:
        if self._sock is None:  # lost while handling what the same read brought
            return False
        try:
            self._sock.sendall(data)
        except OSError as exc:
            self._lost(exc)
            return False
        self._last_sent = time.monotonic()
        return True

    # -- receiving -------------------------------------------------------------------------

    def _read(self, wait: float = 0.0) -> bool:
        """Take what the broker sent (acknowledgements, commands); True when anything came."""
        sock = self._sock
        if sock is None:
            return False
        if wait > 0 and not _readable(sock, wait):
            return False
        try:
            data = _receive_now(sock)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._lost(exc)
            return False
        if not data:
            self._lost("connection closed by the broker")
            return False
        data = self._rx + data
        if not self._acks_only(data):
            packets, self._rx = frames.split_packets(data)
            try:
                for first, body in packets:
                    self._handle(first, body)
            except frames.ProtocolError as exc:
                self._lost(exc)
        self._room = self._limit - len(self._inflight)
        return True

    def _acks_only(self, data: bytes) -> bool:
        """The common case, read without a per-packet parse: nothing but success PUBACKs."""
        found = frames.success_pubacks(data)
        if found is None:
            return False
        packet_ids, used = found
        inflight = self._inflight
        before = len(inflight)
        forget = inflight.pop
        for packet_id in packet_ids:
            forget(packet_id, None)
        self.acked += before - len(inflight)
        self._rx = data[used:]
        return True

    def _handle(self, first: int, body: bytes) -> None:
        kind = first >> 4
        if kind == frames.PUBACK:
            packet_id, reason = frames.parse_ack(body)
            if self._inflight.pop(packet_id, None) is None:
                return
            if reason >= 0x80:
                self.refused += 1
                log.warning("the broker refused publish %d: reason 0x%02x", packet_id, reason)
            else:
                self.acked += 1
        elif kind == frames.PUBLISH:
            topic, command_id, payload = frames.parse_publish(first, body, self.address.is_v5)
            self.inbox.append((topic, payload))
            if command_id is not None:
                self._send(frames.puback_packet(command_id))
        elif kind == frames.SUBACK:
            codes = body[2:]
            if self.address.is_v5:
                _, start = frames.parse_properties(body, 2)
                codes = body[start:]
            if any(code >= 0x80 for code in codes):
                log.warning("the broker refused a command subscription: %s", codes.hex())
        elif kind == frames.PINGRESP:
            self._ping_at = None
        elif kind == frames.DISCONNECT:
            self._lost(f"the broker disconnected us (reason {body[:1].hex() or '00'})")
        else:
            raise frames.ProtocolError(f"unexpected packet type {kind} from the broker")

    # -- the simulator's side ----------------------------------------------------------------

    def poll(self, timeout: float) -> None:
        """Serve the connection for up to `timeout` seconds: send, read acks and commands."""
        if not self.connected:
            self._reconnect(timeout)
            return
        self._flush()
        if self._backlog and self._room > 0:
            self._make_room()
        self._read(wait=timeout)
        self._keep_alive()

    def _keep_alive(self) -> None:
        now = time.monotonic()
        if self._ping_at is not None and now - self._ping_at > self._keepalive:
            self._lost(f"no answer to a ping in {self._keepalive} s")
        elif self._ping_at is None and now - self._last_sent > self._keepalive / 2:
            self._ping_at = now
            self._send(frames.PINGREQ_PACKET)

    def drain(self) -> list[tuple[str, bytes]]:
        """Commands received since the last call, in arrival order."""
        self.poll(0.0)
        found, self.inbox = self.inbox, []
        return found

    def pending(self) -> int:
        """Publishes not yet acknowledged by the broker."""
        return len(self._inflight) + len(self._backlog)

    def close(self, timeout: float = 5.0) -> None:
        """Wait (bounded) for the broker to acknowledge what was sent, then disconnect."""
        deadline = time.monotonic() + timeout
        while self.pending() and time.monotonic() < deadline:
            self.poll(0.01)  # reconnects too: a dropped connection still owes its window
        self._closing = True
        if self.connected:
            self._send(frames.DISCONNECT_PACKET)
        self._lost("closed")


def _readable(sock: socket.socket, wait: float) -> bool:
    """Whether a read would find data, waiting up to `wait` seconds. Over TLS, decrypted
    bytes may wait inside the TLS layer, where select() cannot see them."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    return bool(select.select([sock], [], [], wait)[0])


def _receive_now(sock: socket.socket) -> bytes:
    """What the socket holds now; BlockingIOError when nothing (b"" at end of stream)."""
    if not isinstance(sock, ssl.SSLSocket):
        return sock.recv(_RECEIVE, socket.MSG_DONTWAIT)
    # A TLS socket takes no MSG_DONTWAIT: non-blocking for this one read instead. A record
    # only partly arrived reads as "want read", that is, nothing yet.
    sock.setblocking(False)
    try:
        return sock.recv(_RECEIVE)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError) as exc:
        raise BlockingIOError(str(exc)) from exc
    finally:
        sock.setblocking(True)
