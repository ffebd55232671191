"""Build runs: the first-start choices (synthetic demo, real GTZAN) when runs already exist."""

from __future__ import annotations

import streamlit as st

from genrec.utils.paths import runs_home
from views._build import build_panel
from views._caches import all_runs
from views._pull import load_panel
from views._widgets import page_header


def main() -> None:
    page_header(
        ":material/build: Build runs",
        "Train both architectures again: on the synthetic demo library, or on real GTZAN from ImageNet weights.",
    )
    runs, _ = all_runs()
    st.caption(
        f"{len(runs)} run(s) in `{runs_home()}`. New runs are added beside them; the sidebar "
        "uses the newest run of each architecture by default."
    )
    build_panel()
    load_panel()


if __name__ == "__main__":  # app.py's st.Page runs this file as the page
    main()
