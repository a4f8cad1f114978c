"""Where a webhook may be delivered: public addresses only, unless allow-listed, and never the hub's own ports.

A subscription's host is resolved, and every address it resolves to is checked: an address that is not
globally routable (loopback, link-local, private ranges, CGNAT, multicast, unspecified, reserved; IPv4 inside
IPv6 too) is refused unless ``gateway.webhooks.allow_targets`` names the host, the address or a network
holding it. The hub's own ports (gateway, admin API, registry) on this machine's addresses are refused even
then. The delivery then connects to the address that was checked (the URL carries it; ``Host`` and, for
HTTPS, the TLS server name stay the subscription's host), so a name that resolves differently a moment later
(DNS rebinding) cannot redirect it. Redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


class TargetRefused(ValueError):
    """A webhook target this hub may not call; the message says why (without credentials of the URL)."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (A and AAAA), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TargetRefused(f"host {host!r} does not resolve ({exc.strerror})") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _plain(ip: IPAddress) -> IPAddress:
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped if mapped is not None else ip


def is_public(ip: IPAddress) -> bool:
    """Globally routable (not loopback, private, link-local, CGNAT, multicast, reserved, unspecified)."""
    ip = _plain(ip)
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class PinnedTarget:
    """A checked target: the URL to connect to (host replaced by the checked address) and what keeps the
    original name for the server (``Host`` header, TLS server name)."""

    url: str
    host: str
    address: str

    def request_kwargs(self) -> dict[str, Any]:
        parts = urlsplit(self.url)
        extensions = {"sni_hostname": self.host} if parts.scheme == "https" else {}
        port = f":{parts.port}" if parts.port else ""
        return {"headers": {"Host": f"{self.host}{port}"}, "extensions": extensions}


@dataclass(frozen=True)
class TargetPolicy:
    """``allow``: host names, addresses or networks (CIDR) that may be called though not public; ``own_ports``:
    the hub's servers' ports, refused on this machine's addresses; ``local``: this machine's addresses."""

    allow: tuple[str, ...] = ()
    own_ports: frozenset[int] = frozenset()
    local: frozenset[str] = field(default_factory=lambda: local_addresses())
    resolve: Resolver = system_resolver

    def _allowed(self, host: str, ip: IPAddress) -> bool:
        for entry in self.allow:
            if entry.lower() == host.lower():
                return True
            try:
                if _plain(ip) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        return False

    def check(self, url: str) -> PinnedTarget:
        """The pinned target of ``url``, or :class:`TargetRefused`."""
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise TargetRefused("the target must be an http(s) URL with a host")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = self.resolve(host, port)
        if not addresses:
            raise TargetRefused(f"host {host!r} does not resolve")
        for text in addresses:
            ip = _plain(ipaddress.ip_address(text.split("%", 1)[0]))
            if port in self.own_ports and (ip.is_loopback or ip.is_unspecified or str(ip) in self.local):
                raise TargetRefused(f"{host}:{port} is one of this hub's own servers")
            if not is_public(ip) and not self._allowed(host, ip):
                raise TargetRefused(f"{host} resolves to {ip}, a loopback, private or link-local address "
                                    "(allow it in gateway.webhooks.allow_targets)")
        address = addresses[0]
        netloc = f"[{address}]" if ":" in address else address
        netloc += f":{parts.port}" if parts.port else ""
        return PinnedTarget(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")), host, address)


def local_addresses(names: Iterable[str] = ()) -> frozenset[str]:
    """This machine's addresses as its name resolves them, plus those of ``names`` (the servers' hosts)."""
    out: set[str] = set()
    for name in (socket.gethostname(), *names):
        try:
            out.update(str(i[4][0]) for i in socket.getaddrinfo(name, None))
        except (socket.gaierror, UnicodeError):
            continue
    return frozenset(out)


def display_url(url: str) -> str:
    """``url`` without user info and query (for the audit log and log lines)."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
