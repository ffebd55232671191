"""The app's error guard: a failure inside a block becomes a short ``st.error``, never a traceback on the page."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st

from genrec.errors import GenrecError

log = logging.getLogger("genrec.app")


@contextmanager
def guard(doing: str = ""):
    """Show any error inside the block as ``st.error``: genrec's own message, or a short generic one.

    Tracebacks go to the server log only, never to the page. Streamlit's own
    control flow (``st.rerun``, ``st.stop``) is not an ``Exception`` and passes through.
    """
    try:
        yield
    except GenrecError as exc:
        st.error(str(exc), icon=":material/error:")
    except Exception as exc:  # anything unexpected: short message on the page, details in the log
        log.exception("unexpected error%s", f" while {doing}" if doing else "")
        st.error(
            f"Something went wrong{f' while {doing}' if doing else ''} ({type(exc).__name__}). "
            f"Try again; if it keeps happening, check the terminal running Streamlit for details.",
            icon=":material/error:",
        )
