"""Whether PortAudio may be terminated: not after the JACK server it joined has gone.

PortAudio joins the JACK server running when it is initialised (its JACK host API: Linux
builds have one, and PipeWire stands in for JACK on many desktops). Terminating PortAudio
leaves that server, and PortAudio 19.6 asserts that this went well (pa_jack.c: "Terminate:
Assertion `err == 0' failed"): once the server has stopped or crashed, even if one was started
again since, terminating PortAudio aborts the whole process. PortAudio is terminated to list
the devices afresh (``sounddevice_output._DeviceList.refresh``) and, by sounddevice, at exit.

``JackWatch`` (one for PortAudio's device list, ``sounddevice_output._DeviceList.jack``) joins
the same server with a client of its own each time PortAudio is initialised; a request of that
client failing says the server PortAudio joined is gone.
``guard_exit`` keeps sounddevice from terminating PortAudio at exit then (the process ends all
the same).
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

_NO_START_SERVER = 0x01  # JackNoStartServer: join one that runs, start none


@functools.cache
def _libjack() -> Any:
    """The JACK library (PortAudio's JACK host API uses it), or None where it does not load."""
    name = ctypes.util.find_library("jack")
    if name is None:
        return None
    try:
        jack = ctypes.CDLL(name)
    except OSError as error:
        logger.debug("the JACK library does not load: %s", error)
        return None
    jack.jack_client_open.restype = ctypes.c_void_p
    jack.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    jack.jack_client_close.argtypes = [ctypes.c_void_p]
    jack.jack_recompute_total_latencies.argtypes = [ctypes.c_void_p]
    return jack


def _joined(sd: Any) -> bool:
    """Whether PortAudio (``sd``: the sounddevice module) lists a JACK host API: it joined one."""
    query = getattr(sd, "query_hostapis", None)
    if query is None:
        return False
    try:
        return any(str(api["name"]).startswith("JACK") for api in query())
    except sd.PortAudioError:  # not initialised (an earlier initialise failed): none joined
        return False


class JackWatch:
    """A client of our own on the JACK server PortAudio joined at its last initialisation."""

    def __init__(self) -> None:
        self._client: int | None = None
        self._lost = False  # PortAudio joined a server that our client could not
        self._said = False  # the warning that it has gone is in the log

    def join(self, sd: Any) -> None:
        """Join the server PortAudio joined, if any: call after each PortAudio initialisation."""
        if not self.gone():
            self.leave()
        self._client, self._lost = None, False  # one left gone stays open: closing it fails
        jack = _libjack() if _joined(sd) else None
        if jack is None:
            return
        status = ctypes.c_int()
        client = jack.jack_client_open(b"stemgui-watch", _NO_START_SERVER, ctypes.byref(status))
        self._client, self._lost = client or None, not client

    def gone(self) -> bool:
        """True when the server PortAudio joined has gone: terminating it would abort."""
        if self._client is None:
            gone = self._lost
        else:
            gone = _libjack().jack_recompute_total_latencies(self._client) != 0
        if gone and not self._said:
            self._said = True
            logger.warning(
                "the JACK server PortAudio joined has gone: PortAudio is not initialised again "
                "(it would abort), so the devices are listed afresh once stemgui starts again"
            )
        return gone

    def leave(self) -> None:
        """Leave the server before PortAudio does (while it is there)."""
        if self._client is not None:
            _libjack().jack_client_close(self._client)
        self._client, self._lost = None, False


_guarded: list[Any] = []


def guard_exit(sd: Any, watch: Callable[[], JackWatch]) -> None:
    """Once per sounddevice module: ``watch()`` joins the server PortAudio joined at import;
    at exit, before sounddevice terminates PortAudio (``atexit`` runs the last registered
    first), that is dropped if ``watch()`` says the server has gone."""
    if not hasattr(sd, "_exit_handler") or any(guarded is sd for guarded in _guarded):
        return
    _guarded.append(sd)
    watch().join(sd)

    def check() -> None:
        if watch().gone():  # PortAudio is left as it is: the process ends all the same
            atexit.unregister(sd._exit_handler)

    atexit.register(check)
