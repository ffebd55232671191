"""The app's sidebar: the run used for each architecture on every page, with its weights, library and predictor."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
from genrec.config import ARCHITECTURES
from genrec.model.predict import choose_predictor
from genrec.runs.reader import Run
from genrec.utils.paths import runs_home
from views._caches import all_runs, run_by_id
from views._widgets import library_caption


def run_key(arch: str) -> str:
    return f"run_{arch}"


def selected_runs() -> dict:
    """The run chosen in the sidebar for each architecture (None where there is none)."""
    runs, _ = all_runs()
    defaults = dashboard.default_runs(runs)
    chosen = {}
    for arch in ARCHITECTURES:
        run = run_by_id(st.session_state.get(run_key(arch)))
        chosen[arch] = run if run is not None and run.arch == arch else defaults[arch]
    return chosen


def predictor_caption(run: Run) -> None:
    """Which predictor answers this run's uploads (8-bit or float; ``GENREC_PREDICTOR``), and why."""
    choice = choose_predictor(run)
    agreement = f"  \n8-bit vs float: {choice.agreement}" if choice.agreement else ""
    st.caption(f"Uploads: **{choice.label}** predictor · {choice.reason}{agreement}")


def sidebar(runs: list[Run], broken: list) -> None:
    """Run per architecture (default: newest), with its starting weights and library always visible."""
    with st.sidebar:
        if runs:
            st.subheader("Models", help="The run used for each architecture on every page.")
            by_id = {r.id: r for r in runs}
            for arch in ARCHITECTURES:
                options = [r.id for r in runs if r.arch == arch]
                label = plots.arch_label(arch)
                if not options:
                    st.markdown(f"**{label}**")
                    st.caption(f"No {label} run yet. Train one with `genrec train --arch {arch}`.")
                    continue
                key = run_key(arch)
                if st.session_state.get(key) not in options:
                    st.session_state[key] = options[0]
                run_id = st.selectbox(
                    f"{label} run",
                    options,
                    key=key,
                    format_func=lambda i: dashboard.run_short_label(by_id[i]),
                    help="Newest first; the newest run is used by default.",
                )
                run = by_id[run_id]
                st.caption(f"`{run.id}`  \n" + dashboard.weights_caption(run))
                library_caption(run)
                predictor_caption(run)
        if broken:
            st.warning(f"{len(broken)} run folder(s) could not be opened and are left out.", icon=":material/warning:")
            with st.expander("Why"):
                for path, reason in broken:
                    st.caption(f"**{Path(path).name}**: {reason}")
        st.caption(f"Runs folder: `{runs_home()}`")
