"""The build choices shared by the first-start page and the "Build runs" page.

Two cards (the synthetic demo, real GTZAN with ImageNet weights) and, while a
build runs, its progress. The build itself belongs to :mod:`genrec.app.buildjob`:
it runs in a child process and its progress lives in a file in the runs
folder, so every session (a reloaded tab, a second visitor) draws the same
build and nobody can start a second one.
"""

from __future__ import annotations

import time

import streamlit as st

import genrec.app.buildjob as buildjob
import genrec.app.dashboard as dashboard
import genrec.data.reachability as reachability
from genrec.app.buildjob import BUILD_POLL_IDLE_S, BUILD_POLL_RUNNING_S
from genrec.utils.paths import runs_home
from views._caches import forget_runs
from views._guard import guard

DEMO_WEIGHTS = {
    "none": "Random initialisation (works offline)",
    "imagenet": "ImageNet weights (downloads about 150 MB once)",
}
REACH_KEY = "build_reachability"


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return (
        f"about {max(1, round(minutes))} minute{'s' if round(minutes) > 1 else ''}"
        if minutes >= 1
        else f"about {max(1, round(seconds))} s"
    )


def _clock(stamp: float) -> str:
    return time.strftime("%H:%M", time.localtime(stamp))


def build_panel() -> None:
    """Both build choices and the running build's progress, refreshed while a build runs."""
    running = buildjob.status().running
    # Only the progress is redrawn on each poll; the cards change when a build starts or ends,
    # and then the whole app reruns.
    st.fragment(_live, run_every=BUILD_POLL_RUNNING_S if running else BUILD_POLL_IDLE_S)(running)
    left, right = st.columns(2)
    with left:
        _demo_card(running)
    with right:
        _real_card(running)


def _live(fast: bool) -> None:
    status = buildjob.status()
    if status.running != fast:
        # a build started (here or by another visitor) or ended: redraw the whole app, whose
        # navigation shows the new runs and whose buttons follow, and poll at the matching pace
        forget_runs()
        st.rerun()
    _outcome(status)


def _outcome(status: buildjob.BuildStatus) -> None:
    """The running build's progress, or how the last one ended."""
    if status.running:
        st.progress(status.fraction, text=f"**{status.title}** · {status.text}")
        st.caption(
            f"Started at {_clock(status.started)}, running for {_minutes(status.elapsed_s)}. "
            "Every visitor sees this build; it goes on if you close or reload the page. "
            "A second build can start once it has finished."
        )
    elif status.state == "done":
        st.success(
            f"The {status.title} build finished at {_clock(status.finished or status.started)} "
            f"({_minutes(status.elapsed_s)}) and saved {len(status.runs)} run(s).",
            icon=":material/check_circle:",
        )
    elif status.state == "failed":  # including a build whose process vanished (its stale lock is gone now)
        started = f" started at {_clock(status.started)}" if status.started else ""
        st.error(f"The {status.title} build{started} failed: {status.error}", icon=":material/error:")


def _start(library: str, weights: str) -> None:
    with guard("starting the build"):
        buildjob.start_build(library, weights)
        st.session_state.pop(REACH_KEY, None)
        st.rerun()


def _demo_card(busy: bool) -> None:
    with st.container(border=True):
        st.subheader(":material/science: Synthetic demo")
        st.markdown("One click " + dashboard.demo_description())
        st.badge("synthetic demo library", icon=":material/science:", color="orange")
        st.caption(
            "The demo clips are generated, not real music, so it runs anywhere without downloads. "
            "Building takes a few minutes on a 2-core machine (longer on shared cloud CPUs); runs packed "
            "elsewhere load in seconds (Load trained runs, below)."
        )
        weights = st.radio(
            "Backbone starting weights",
            list(DEMO_WEIGHTS),
            format_func=DEMO_WEIGHTS.get,
            key="demo_weights",
            horizontal=True,
            disabled=busy,
        )
        if st.button(
            "Build the demo library and models",
            type="primary",
            icon=":material/build:",
            key="build_demo",
            disabled=busy,
        ):
            _start("demo", weights)


def _real_card(busy: bool) -> None:
    with st.container(border=True):
        st.subheader(":material/library_music: Real GTZAN with ImageNet weights")
        st.markdown(
            f"The paper's experiment: downloads **GTZAN** ({buildjob.GTZAN_CLIPS} real 30-s clips, "
            f"about {buildjob.GTZAN_DOWNLOAD_GB:g} GB of audio) and the **ImageNet weights** of both "
            f"backbones (about {buildjob.WEIGHTS_DOWNLOAD_MB} MB), then trains VGG16 and ResNet50."
        )
        st.caption(
            f"Estimated build time: {_minutes(buildjob.real_build_estimate_seconds())} on 2 CPU cores, "
            "plus the download. The download sources are checked first (a few seconds)."
        )
        if st.button(
            "Check the sources and build",
            type="primary",
            icon=":material/cloud_download:",
            key="build_gtzan",
            disabled=busy,
        ):
            with st.spinner("Checking that the download sources can be reached…"):
                st.session_state[REACH_KEY] = reach = reachability.check_sources()
            if reach.ok:
                _start("gtzan", "imagenet")
        reach = st.session_state.get(REACH_KEY)
        if reach is not None and not reach.ok:
            st.error(reach.problem, icon=":material/cloud_off:")
            st.info(
                f"{reachability.OFFLINE_ADVICE} This app reads runs from `{runs_home()}`.", icon=":material/lightbulb:"
            )
            with st.expander("What was checked"):
                for probe in (*reach.sources, *reach.weights):
                    st.caption(
                        f"{':material/check:' if probe.ok else ':material/close:'} `{probe.url}`: {probe.detail}"
                    )
