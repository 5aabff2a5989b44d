"""RFC 6455 on the server side, with the standard library: handshake and frames.

Only what Slack's Socket Mode link needs: unfragmented text, ping, pong and close
frames. Clients mask every frame they send (RFC 6455 §5.3); a server never masks.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

TEXT = 0x1
CLOSE = 0x8
PING = 0x9
PONG = 0xA

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
_MAX_HANDSHAKE = 8192  # bytes; a handshake is a few hundred
_MAX_FRAME = 1 << 24  # bytes; Slack's acks are small, this only bounds a bad client


@dataclass(frozen=True)
class Handshake:
    """The client's opening GET, as far as the server cares."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names in lower case

    @property
    def key(self) -> str:
        return self.headers.get("sec-websocket-key", "")

    @property
    def is_upgrade(self) -> bool:
        upgrade = self.headers.get("upgrade", "").lower() == "websocket"
        return upgrade and bool(self.key)


class Reader:
    """Exact reads from a socket, keeping whatever arrived past the last read."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()

    def exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def until(self, marker: bytes, limit: int) -> bytes:
        """Everything up to and including ``marker``."""
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit:
                raise ValueError(f"no {marker!r} within {limit} bytes")
            self._fill()
        return self.exactly(end + len(marker))

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        self._buffer += chunk


def read_handshake(reader: Reader) -> Handshake:
    """Parses the opening request; ValueError if it is not HTTP."""
    head = reader.until(b"\r\n\r\n", _MAX_HANDSHAKE).decode("latin-1")
    request_line, *lines = head.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "GET":
        raise ValueError(f"not a WebSocket opening request: {request_line!r}")
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    url = urlsplit(parts[1])
    return Handshake(url.path, dict(parse_qsl(url.query)), headers)


def switching_protocols(key: str) -> bytes:
    """The 101 answer that completes the handshake."""
    digest = hashlib.sha1((key + _GUID).encode()).digest()
    accept = base64.b64encode(digest).decode()
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


def refusal(status: HTTPStatus, text: str) -> bytes:
    """A plain HTTP answer that refuses the upgrade."""
    body = text.encode()
    return (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Content-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


def frame(opcode: int, data: bytes) -> bytes:
    """One unmasked, final frame."""
    size = len(data)
    if size < 126:
        head = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return head + data


def read_frame(reader: Reader) -> tuple[int, bytes]:
    """(opcode, unmasked payload) of the next frame."""
    first, second = reader.exactly(2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", reader.exactly(2))
    elif size == 127:
        (size,) = struct.unpack("!Q", reader.exactly(8))
    if size > _MAX_FRAME:
        raise ValueError(f"a {size}-byte frame is over the {_MAX_FRAME}-byte limit")
    mask = reader.exactly(4) if second & 0x80 else b""
    data = reader.exactly(size)
    if mask:
        data = bytes(byte ^ mask[n % 4] for n, byte in enumerate(data))
    return first & 0x0F, data
