"""genrec dashboard: `streamlit run app.py`. The router and the shared frame of every page.

Each page is a module in ``pages/`` with a ``main()`` that only draws what ``genrec`` computes. With no
saved runs the app opens on a panel that builds the demo or the real GTZAN runs; the same choices stay on
the "Build runs" page. The sidebar (run per architecture) is :mod:`pages._sidebar`.

Why the pages are functions, not files: a folder named ``pages/`` beside the main script switches
Streamlit's legacy ("v1") multipage mode on, in which Streamlit builds its own page list from the files
in ``pages/`` (the docs call it legacy: docs.streamlit.io/develop/concepts/multipage-apps/pages-directory).
``st.navigation`` ends that mode ("As soon as any session of your app executes the st.navigation
command, your app will ignore the pages/ directory (across all sessions)": the st.navigation API
reference), and mixing the two is a known source of "page not found" fall-backs (streamlit/streamlit
PR 10276). So pages are registered here as callables
(``st.Page(module.main, url_path=...)``): Streamlit's own page list never points at our files, and the
frame below runs exactly once per script run. The one case the legacy mode still owns is the very first
request of a fresh server when it is a deep link (``/training_runs``): Streamlit then runs that file as
the script, and its ``if __name__ == "__main__"`` block draws this frame, whose ``st.navigation`` picks
the page from the URL and ends the legacy mode for the process.
"""

from __future__ import annotations

import streamlit as st

from pages import build_runs, compare, get_started, library_map, training_runs
from pages._caches import all_runs
from pages._guard import guard
from pages._pull import startup_pull
from pages._sidebar import sidebar


def app_pages(have_runs: bool) -> list:
    """The pages: the four working pages once runs exist, else only "Get started"."""
    if not have_runs:
        return [
            st.Page(
                get_started.main,
                title="Get started",
                icon=":material/rocket_launch:",
                url_path="get_started",
                default=True,
            )
        ]
    return [
        st.Page(compare.main, title="Compare", icon=":material/compare_arrows:", url_path="compare", default=True),
        st.Page(training_runs.main, title="Training runs", icon=":material/monitoring:", url_path="training_runs"),
        st.Page(library_map.main, title="Library map", icon=":material/scatter_plot:", url_path="library_map"),
        st.Page(build_runs.main, title="Build runs", icon=":material/build:", url_path="build_runs"),
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
