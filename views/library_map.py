"""Library map: a run's clip embeddings in 2-D, coloured by genre; pick a clip to hear it and its neighbours."""

from __future__ import annotations

import html

import streamlit as st

import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
import genrec.app.projection as projection
from genrec.config import TOP_K
from genrec.runs.reader import Run
from views._caches import all_runs, recommender, run_by_id, thumbnail
from views._guard import guard
from views._sidebar import selected_runs
from views._widgets import (
    genre_chip,
    library_caption,
    page_header,
    play_file,
    recommendation_list,
    recommendation_source,
)

K = TOP_K
CHART_KEY = "map_chart"
TRACK_KEY = "map_track"
LAST_PICK = "map_last_pick"


@st.cache_data(show_spinner=False, max_entries=32)
def map_points(run_path: str, run_id: str, method: str):
    run = run_by_id(run_id)
    return projection.projection_table(run.tracks, run.embeddings, method)


def take_chart_selection() -> None:
    """A newly clicked point becomes the chosen track (read before the widgets are drawn)."""
    picked = dashboard.selected_track(st.session_state.get(CHART_KEY))
    if picked and picked != st.session_state.get(LAST_PICK):
        st.session_state[LAST_PICK] = picked
        st.session_state[TRACK_KEY] = picked


def main() -> None:
    """The page: run and projection choice, the map, and the chosen clip with its recommendations."""
    with guard("drawing the library map"):
        page_header(
            ":material/scatter_plot: Library map",
            "Every library clip placed by its embedding, projected to two dimensions: clips a model finds "
            "similar lie close together. Click a point (or choose a clip) to hear it and see its "
            "recommendations.",
        )
        run, method = choose_run_and_method()
        library_caption(run)
        catalogue = recommendation_source([run], key="map_source")
        with st.spinner(f"Projecting {len(run.tracks)} embeddings with {method}…"):
            table = map_points(str(run.path), run.id, method)
        current = current_track(table["track_id"].tolist())
        answer = None
        if current:
            with guard("finding recommendations"):
                answer = recommender(str(run.path), catalogue).for_track(current, K)
        chart, details = st.columns([3, 2], gap="large")
        with chart:
            map_chart(run, table, method, current, answer, catalogue)
        with details:
            clip_details(run, table, current, answer)


def choose_run_and_method() -> tuple:
    """The run whose embeddings are mapped (default: the sidebar's) and the projection method."""
    runs, _ = all_runs()
    by_id = {r.id: r for r in runs}
    ids = [r.id for r in runs]
    chosen = selected_runs()
    default = next((r.id for r in chosen.values() if r is not None), ids[0])
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    run_id = left.selectbox(
        "Embeddings of run",
        ids,
        index=ids.index(default),
        key="map_run",
        format_func=lambda i: f"{plots.arch_label(by_id[i].arch)} · {dashboard.run_option_label(by_id[i])}",
    )
    method = right.segmented_control(
        "Projection",
        projection.projection_methods(),
        default="PCA",
        required=True,
        key="map_method",
        help="PCA keeps global distances; t-SNE keeps local neighbourhoods. UMAP appears when umap-learn is installed.",
    )
    return by_id[run_id], method


def current_track(track_ids: list[str]) -> str | None:
    """The chosen clip (a clicked point or the clip list), forgotten when it is not on this map."""
    take_chart_selection()
    if st.session_state.get(TRACK_KEY) not in track_ids:
        st.session_state.pop(TRACK_KEY, None)
    return st.session_state.get(TRACK_KEY)


def map_chart(run: Run, table, method: str, current: str | None, answer, catalogue: str | None) -> None:
    """The 2-D map, the chosen clip starred and its library neighbours ringed."""
    # Catalogue tracks are not on this map; only library neighbours are ringed.
    neighbours = answer.neighbours["track_id"].tolist() if answer is not None and not catalogue else []
    fig = plots.projection_figure(table, highlight=current, neighbours=neighbours)
    st.plotly_chart(
        fig,
        key=CHART_KEY,
        on_select="rerun",
        selection_mode="points",
        config={"displayModeBar": False, "scrollZoom": True},
    )
    st.caption(
        f"{method} of the {plots.arch_label(run.arch)} embeddings ({len(table)} clips). Hover for a clip's "
        "id; a star marks the chosen clip and rings its recommendations. Click legend entries to "
        "hide genres."
    )


def clip_details(run: Run, table, current: str | None, answer) -> None:
    """The clip list, and the chosen clip: spectrogram, player, prediction and recommendations."""
    rows = table.set_index("track_id")
    st.selectbox(
        "Clip",
        table["track_id"].tolist(),
        index=None,
        placeholder="Click a point, or choose a clip…",
        key=TRACK_KEY,
        format_func=lambda t: f"{t} · {rows.loc[t, 'genre']} · {rows.loc[t, 'split']}",
        filter_mode="contains",
    )
    if not current:
        st.info(
            "Click a point on the map to hear that clip and see its five nearest neighbours.",
            icon=":material/touch_app:",
        )
        return
    track = run.tracks.set_index("track_id").loc[current]
    st.markdown(f"#### {html.escape(current)} {genre_chip(str(track['genre']))}", unsafe_allow_html=True)
    st.caption(f"{track['split']} split" + (f" · {track['artist']}" if track.get("artist") else ""))
    media = str(run.media_path(current) or "")
    image = thumbnail(media, 480, 128)
    if image is not None:
        st.image(image, width="stretch", caption="mel spectrogram, low frequencies at the bottom")
    play_file(media)
    if answer is not None:
        st.markdown(
            f"**Predicted** {genre_chip(answer.genre)} ({answer.confidence:.0%}) · **top-{K} recommendations**",
            unsafe_allow_html=True,
        )
        recommendation_list(answer.neighbours)


if __name__ == "__main__":  # app.py's st.Page runs this file as the page
    main()
