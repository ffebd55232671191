"""First start: no runs yet, so offer to build the demo library and both models."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from genrec import dashboard as D
from genrec.config import runs_home
from pages._common import all_runs, forget_runs, guard, page_header

WEIGHTS = {"none": "Random initialisation (works offline)",
           "imagenet": "ImageNet weights (downloads about 150 MB once)"}


def build(weights: str) -> None:
    """Run genrec's demo builder with one overall progress bar, then reload into the full app."""
    from genrec import demo

    bar = st.progress(0.0, text="Starting…")
    tracker = D.DemoProgress()

    def report(stage: str, done: int, total: int) -> None:
        fraction, text = tracker.update(stage, done, total)
        bar.progress(fraction, text=text)

    with guard("building the demo"):
        # In a child process: training's TensorFlow and its memory leave with it.
        demo.build_demo_in_subprocess(weights=weights, progress=report)
        bar.progress(1.0, text="Done")
        forget_runs()
        st.success("The demo library and both models are ready.", icon=":material/check_circle:")
        st.rerun()


def main() -> None:
    page_header(":material/rocket_launch: Welcome to genrec",
                "Classify a clip's genre with VGG16 and ResNet50 and find similar clips. "
                "There are no trained models yet.")
    _, broken = all_runs()
    st.info(f"No complete training run was found in `{runs_home()}`.", icon=":material/folder_open:")
    if broken:
        st.warning(f"{len(broken)} run folder(s) there are incomplete or damaged and were left out: "
                   + "; ".join(f"**{Path(p).name}** ({reason})" for p, reason in broken),
                   icon=":material/warning:")
    with st.container(border=True):
        st.subheader("Build the demo")
        st.markdown("One click " + D.demo_description())
        st.badge("synthetic demo library", icon=":material/science:", color="orange")
        st.caption("The demo clips are generated, not real music, so it runs anywhere without downloads. "
                   "It takes about a minute on a 2-core machine (longer on shared cloud CPUs); keep this tab open.")
        weights = st.radio("Backbone starting weights", list(WEIGHTS), format_func=WEIGHTS.get,
                           key="demo_weights", horizontal=True)
        if st.button("Build the demo library and models", type="primary", icon=":material/build:",
                     key="build_demo"):
            build(weights)
    st.markdown("Prefer a terminal? `genrec demo` does the same; `genrec train --arch vgg16 --library PATH` "
                "trains on a GTZAN folder. Reload this page afterwards.")


with guard("drawing the page"):
    main()
