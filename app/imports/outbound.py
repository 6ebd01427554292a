"""Where the service may connect on a caller's behalf (the MLflow import and write-back).

A tracking URI comes from the request, so without a guard the service would fetch whatever
address a caller names: loopback admin ports, cloud metadata, the private network. A host is
resolved once; if any of its addresses is loopback, private, link-local, multicast, reserved or
unspecified, it is refused unless LOSSGAP_MLFLOW_ALLOWED_HOSTS names it. The connection then goes
to the address that was checked (no second lookup an attacker's DNS could answer differently)."""

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit


class Refused(ValueError):
    """The address may not be fetched from; the message says why and what to set."""


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def allowed_by_list(tracking_uri: str, allowed: Sequence[str]) -> bool:
    """`host` or `host:port` on the list (case-insensitive)."""
    parts = urlsplit(tracking_uri)
    host = (parts.hostname or "").lower()
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    names = {entry.lower() for entry in allowed}
    return host in names or netloc in names


def pinned_address(tracking_uri: str, allowed: Sequence[str]) -> str:
    """The IP address to connect to for `tracking_uri`; Refused when it is internal and not on
    the allow-list, or does not resolve."""
    parts = urlsplit(tracking_uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{tracking_uri} is not an http(s) address of a tracking server.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{parts.hostname} does not resolve to an address.") from exc
    addresses = [str(info[4][0]) for info in found]
    if any(_internal(a) for a in addresses) and not allowed_by_list(tracking_uri, allowed):
        raise Refused(
            f"{parts.hostname} resolves to an internal address ({addresses[0]}), which this "
            "service only calls when LOSSGAP_MLFLOW_ALLOWED_HOSTS names it."
        )
    return addresses[0]
