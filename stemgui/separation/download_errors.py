"""What a failed download says: ``DownloadError`` and its words for each kind of failure.

Each message names the model, says what went wrong in a musician's words (not "[Errno -2]"),
whose fault it was (the network's, the disk's, the user's cancel) and what to do next.
"""

from __future__ import annotations

import errno
import http.client
import re
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from stemgui.errors import CancelToken, ModelLoadError


class DownloadError(ModelLoadError):
    """A model could not be downloaded; ``path`` is the destination and the message names the
    model and, when the network failed, the host it came from. A partial download is kept (and
    resumed next time) unless it was bad."""


# A proxy that would not open the way to the host (http.client's words, its answer after them)
_TUNNEL_REFUSED = re.compile(r"Tunnel connection failed: (?P<answer>(?P<code>\d{3})\b.*)")
# No way to the host: no network, or none that leads there (a Wi-Fi off, a VPN down)
_NO_ROUTE = (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN)


def stop_if_cancelled(dest: Path, label: str, cancel: CancelToken | None) -> None:
    """Raise ``DownloadError`` if ``cancel`` (anything with ``is_set()``) is set."""
    if cancel is not None and cancel.is_set():
        raise DownloadError(dest, f"download of model {label} was cancelled; it resumes next time")


def not_saved(dest: Path, label: str, error: OSError) -> DownloadError:
    """A model that could not be written to the disk, said as such (it was the network's
    fault in the message before: "check the connection"), naming the folder: the Get models
    dialog shows the message alone, where "there" and "that disk" named nothing."""
    return DownloadError(
        dest,
        f"could not save model {label} in {dest.parent}: {error.strerror or error}; free some "
        "space on that disk, or make the folder writable, and try again",
    )


def refused(error: urllib.error.HTTPError, url: str, dest: Path) -> str:
    """What the server's HTTP error means and what to do: "try again later" said to a file
    that has moved (404), is blocked (403) or behind a login (401) sent the user back to the
    same answer. A file got by hand and put in the destination's folder under its name is found
    there. The host named is the one that answered, where a redirect led."""
    by_hand = f"look for a newer stemgui, or get {dest.name} by hand and put it in {dest.parent}"
    if 300 <= error.code < 400 and "is not allowed" in str(error.reason):  # urllib's refusal
        return (  # its address is the redirect's: file://, or another scheme not followed
            f"the download of {url} was sent on (HTTP {error.code}) to {error.url}, which is not "
            f"a web address; {by_hand}"
        )
    answered = error.url or url  # after redirects: the address that gave this answer
    host = urllib.parse.urlsplit(answered).hostname or answered
    if 300 <= error.code < 400 and "infinite loop" in str(error.reason):  # 3 lines of urllib's
        return (
            f"{host} sent the download round in circles (HTTP {error.code} redirects); "
            "try again later"
        )
    if error.code == 407 and (proxy := _proxy(answered)):  # asked for an http:// address
        return _proxy_login(urllib.parse.urlsplit(answered).scheme, proxy)
    answer = f"{host} answered HTTP {error.code} {error.reason}"
    if error.code in (404, 410):
        return (
            f"{answer}: the file is no longer at that address (the model may have been "
            f"withdrawn); {by_hand}"
        )
    if error.code == 403:
        return (
            f"{answer}: access to the file was refused, by the server or by a filter on this "
            f"network; try from another network, or get {url} there and put it in {dest.parent}"
        )
    if error.code == 401:  # the official models need no login: a network's portal asks
        return (
            f"{answer}: the server asks for a login, which the official models do not need, so "
            "a sign-in page or a filter on this network is in the way; sign in to the network "
            "in a web browser, or try from another network"
        )
    return f"{answer}; try again later"


def unreachable(error: BaseException, url: str) -> str:
    """Why a download did not get through, in words ("[Errno -2] Name or service not known"
    meant nothing to a musician), naming the host it failed on: the proxy's when one is set."""
    parts = urllib.parse.urlsplit(url)
    target = parts.hostname or url
    proxy = _proxy(url)
    host = f"the proxy {proxy}" if proxy else target
    # urllib's wrapper: what it wraps (an SSLError has a "reason" too: its code's name)
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, socket.gaierror):
        return f"{host} cannot be found (no internet connection?)"
    if isinstance(reason, OSError) and reason.errno in _NO_ROUTE:  # "[Errno 113] No route…"
        return f"{host} cannot be reached (no internet connection?)"
    if isinstance(reason, TimeoutError):  # socket.timeout too
        return f"{host} did not answer in time"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection"
    if isinstance(reason, ssl.SSLCertVerificationError):  # OpenSSL's words meant nothing
        why = getattr(reason, "verify_message", None) or "not trusted"
        return (
            f"the certificate of {target} could not be verified ({why}: a network that inspects "
            "secure connections, or this computer's date wrong?)"
        )
    if isinstance(reason, ConnectionError | http.client.IncompleteRead):  # chunks cut short
        return f"the connection to {host} was lost"
    if isinstance(reason, ssl.SSLError | http.client.HTTPException):  # "HELLO\n", its words
        return f"{host} did not answer as a web server does (a proxy or firewall in the way?)"
    if tunnel := _TUNNEL_REFUSED.fullmatch(str(reason)):  # "Tunnel connection failed: 407 …"
        if tunnel["code"] == "407" and proxy:
            return _proxy_login(parts.scheme, proxy)
        return f"{host} did not let the download through to {target} (HTTP {tunnel['answer']})"
    return f"{reason} ({host})"


def _proxy_login(scheme: str, proxy: str) -> str:
    """What to do for a proxy that wants a password (HTTP 407), asked to open the way to an
    https:// address or for an http:// one: "try again later" would meet the same answer."""
    return (
        f"the proxy {proxy} asks for a user name and password (HTTP 407): set {scheme}_proxy "
        f"to http://USER:PASSWORD@{proxy}"
    )


def _proxy(url: str) -> str | None:
    """The ``host:port`` of the proxy that a download of ``url`` goes through (the environment's
    ``https_proxy`` and others, or the system's settings, as urllib reads them), or None: a
    proxy that refused was said as the model's host refusing ("check the connection")."""
    parts = urllib.parse.urlsplit(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    address = urllib.parse.urlsplit(proxy if "://" in proxy else f"//{proxy}").netloc
    return address.rpartition("@")[2]  # its password left out
