"""The client's address, for throttling and the audit: the socket's, unless the socket is one
of the proxies named in ``CQPI_TRUSTED_PROXIES`` (addresses or networks, comma-separated);
then the address those proxies forwarded in ``X-Forwarded-For``, read from the right, the
first hop that is not a trusted proxy. Without the setting nobody can claim an address by
sending the header."""

from __future__ import annotations

import ipaddress
from typing import Any

from flask import current_app, request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies(setting: str | None) -> tuple[Network, ...]:
    """The networks of ``setting``; ValueError naming an entry that is no address."""
    networks = []
    for entry in (setting or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"CQPI_TRUSTED_PROXIES: “{entry.strip()}” 不是 IP 地址或网段"
                                 ) from None
    return tuple(networks)


def _trusted() -> tuple[Network, ...]:
    cached: Any = current_app.extensions.get("cqpi.trusted_proxies")
    if cached is None:
        cached = trusted_proxies(current_app.config.get("CQPI_TRUSTED_PROXIES"))
        current_app.extensions["cqpi.trusted_proxies"] = cached
    return tuple(cached)


def _is_trusted(address: str | None, trusted: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_address() -> str | None:
    """The address of the client of this request (see the module's doc)."""
    remote = request.remote_addr
    trusted = _trusted()
    if not trusted or not _is_trusted(remote, trusted):
        return remote
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a proxy forwards addresses; anything else is not believed
    return remote
