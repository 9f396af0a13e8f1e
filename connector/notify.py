"""systemd's notify protocol (sd_notify): READY, STATUS, WATCHDOG, RELOADING, STOPPING.

A datagram to the socket named by ``$NOTIFY_SOCKET`` (a path, or an abstract
socket when it starts with ``@``).  Without the variable every call is a no-op,
so the daemon runs the same under systemd, in a terminal or in tests.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET")

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines (keys upper-cased); False when not under systemd or on failure."""
        if not self.address:
            return False
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode()
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(target)
                sock.sendall(message)
            return True
        except OSError:
            return False

    def ready(self, status: str) -> bool:
        return self.send(ready=1, status=status)

    def status(self, status: str) -> bool:
        return self.send(status=status)

    def watchdog(self) -> bool:
        return self.send(watchdog=1)

    def reloading(self) -> bool:
        return self.send(reloading=1)

    def stopping(self) -> bool:
        return self.send(stopping=1)


def watchdog_interval(default: float = 30.0) -> float:
    """Half of systemd's ``WatchdogSec`` (``$WATCHDOG_USEC``), so a ping is never late."""
    usec = os.environ.get("WATCHDOG_USEC")
    try:
        return max(0.5, int(usec) / 2_000_000) if usec else default
    except ValueError:
        return default
