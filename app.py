"""genrec dashboard: `streamlit run app.py`. The router and the shared frame of every page.

Each page is a file in ``views/`` whose ``main()`` only draws what ``genrec`` computes, registered here with
``st.Page("views/NAME.py", url_path=...)``: Streamlit runs a page's file only when it is opened, so what a page
alone needs (SciPy's statistics and scikit-learn for "Training runs" and "Library map") is not imported by a
server that only answers clips on "Compare" (the memory target of issue 19). With no saved runs the app opens
on a panel that builds the demo or the real GTZAN runs; the same choices stay on the "Build runs" page. The
sidebar (run per architecture) is :mod:`views._sidebar`.

Why ``views/`` and not ``pages/``: a folder named ``pages/`` beside the main script switches Streamlit's
legacy multipage mode on (docs.streamlit.io/develop/concepts/multipage-apps/pages-directory), which then
owns a fresh server's first request when it is a deep link such as ``/training_runs`` and runs that file as
the script. With no such folder, ``st.navigation`` below is the only router, for every request.
"""

from __future__ import annotations

import streamlit as st

from views._caches import all_runs
from views._guard import guard
from views._pull import startup_pull
from views._sidebar import sidebar


def app_pages(have_runs: bool) -> list:
    """The pages: the four working pages once runs exist, else only "Get started"."""
    if not have_runs:
        return [
            st.Page(
                "views/get_started.py",
                title="Get started",
                icon=":material/rocket_launch:",
                url_path="get_started",
                default=True,
            )
        ]
    return [
        st.Page(
            "views/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare", default=True
        ),
        st.Page(
            "views/training_runs.py", title="Training runs", icon=":material/monitoring:", url_path="training_runs"
        ),
        st.Page("views/library_map.py", title="Library map", icon=":material/scatter_plot:", url_path="library_map"),
        st.Page("views/build_runs.py", title="Build runs", icon=":material/build:", url_path="build_runs"),
    ]


def main() -> None:
    """The whole app: first-start pull, page list, navigation, sidebar and the chosen page."""
    st.set_page_config(page_title="genrec · genre & recommendations", page_icon=":material/graphic_eq:", layout="wide")
    with guard("loading the trained runs"):
        startup_pull()
    runs, broken = [], []
    with guard("reading the saved runs"):
        runs, broken = all_runs()
    page = st.navigation(app_pages(bool(runs)))
    with st.sidebar:
        st.markdown("### :material/graphic_eq: genrec")
        st.caption(
            "Music genre from mel-spectrograms with transfer-learned VGG16 and ResNet50, "
            "and “more like this” from their embeddings."
        )
    with guard("drawing the sidebar"):
        sidebar(runs, broken)
    with guard("drawing the page"):
        page.run()


if __name__ == "__main__":  # `streamlit run app.py` runs this file as __main__
    main()
