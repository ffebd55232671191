"""First start: no runs yet, so offer to build the synthetic demo or the real GTZAN runs."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from genrec.utils.paths import runs_home
from views._build import build_panel
from views._caches import all_runs
from views._pull import load_panel
from views._widgets import page_header


def main() -> None:
    page_header(
        ":material/rocket_launch: Welcome to genrec",
        "Classify a clip's genre with VGG16 and ResNet50 and find similar clips. There are no trained models yet.",
    )
    _, broken = all_runs()
    st.info(f"No complete training run was found in `{runs_home()}`.", icon=":material/folder_open:")
    if broken:
        st.warning(
            f"{len(broken)} run folder(s) there are incomplete or damaged and were left out: "
            + "; ".join(f"**{Path(p).name}** ({reason})" for p, reason in broken),
            icon=":material/warning:",
        )
    build_panel()
    load_panel()
    st.markdown(
        "Prefer a terminal? `genrec demo` builds the demo; `genrec build --library gtzan` the real runs. "
        "Reload this page afterwards."
    )


if __name__ == "__main__":  # app.py's st.Page runs this file as the page
    main()
