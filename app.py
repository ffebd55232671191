"""genrec dashboard: `streamlit run app.py`.

Pages live in ``pages/``; they only draw what ``genrec`` computes. With no
saved runs the app opens on a panel that builds the demo or the real GTZAN runs;
the same choices stay on the "Build runs" page.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="genrec · genre & recommendations", page_icon=":material/graphic_eq:", layout="wide")

from pages._common import all_runs, app_frame, guard, sidebar  # noqa: E402 (after set_page_config)

runs, broken = [], []
with guard("reading the saved runs"):
    runs, broken = all_runs()

if runs:
    pages = [
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", default=True),
        st.Page("pages/training_runs.py", title="Training runs", icon=":material/monitoring:"),
        st.Page("pages/library_map.py", title="Library map", icon=":material/scatter_plot:"),
        st.Page("pages/build_runs.py", title="Build runs", icon=":material/build:"),
    ]
else:
    pages = [st.Page("pages/get_started.py", title="Get started", icon=":material/rocket_launch:", default=True)]

page = st.navigation(pages)
with st.sidebar:
    st.markdown("### :material/graphic_eq: genrec")
    st.caption(
        "Music genre from mel-spectrograms with transfer-learned VGG16 and ResNet50, "
        "and “more like this” from their embeddings."
    )
with guard("drawing the sidebar"):
    sidebar(runs, broken)
with app_frame():
    page.run()
