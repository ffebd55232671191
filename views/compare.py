"""Compare (home): one clip, both models' genre predictions and their top-5 recommendations."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

import numpy as np
import streamlit as st

import genrec.app.analysis_plots as analysis_plots
import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
import genrec.serve.queries as queries
from genrec.audio.decode import SUPPORTED_FORMATS, DecodedAudio
from genrec.config import ARCHITECTURES, MAX_SONG_SECONDS, SAMPLE_RATE, TOP_K
from genrec.errors import GenrecError
from genrec.runs.reader import Run
from genrec.serve.explain import Explanation, explain_audio, shared_scale
from genrec.serve.recommend import Answer, shared_count
from genrec.serve.reply import SONG, TRACK, Reply, answer, decide
from genrec.serve.song import Timeline
from views._caches import band_hz, recommender
from views._guard import guard
from views._sidebar import selected_runs
from views._widgets import (
    genre_chip,
    library_caption,
    page_header,
    recommendation_list,
    recommendation_source,
    show_clip,
)

K = TOP_K
SOURCES = {
    "library": ":material/library_music: Library clip",
    "upload": ":material/upload_file: Upload",
    "record": ":material/mic: Record",
}


@st.cache_data(show_spinner=False, max_entries=32)
def clip_reply(digest: str, run_paths: tuple[str, ...], _query: queries.Query, catalogue: str | None = None) -> Reply:
    """Both runs' reply to an outside clip, computed once per clip, run pair and source."""
    return answer([recommender(p, catalogue) for p in run_paths], _query, k=K)


PREDICTED = "predicted"


@st.cache_data(show_spinner=False, max_entries=16)
def explanation(run_path: str, digest: str, genre: str, _audio: DecodedAudio) -> Explanation:
    """One run's Grad-CAM of a clip (decoded once, with the query) for a genre, once per clip, run and genre."""
    (expl,) = explain_audio([recommender(run_path)], _audio, genre=genre)
    return expl


def song_reply(query: queries.Query, run_paths: tuple[str, ...], catalogue: str | None) -> Reply:
    """Both runs' timelines over the whole song (decoded with the upload), kept per session (with a progress
    bar); the region slider then narrows this reply without audio work."""
    store = st.session_state.setdefault("song_replies", {})
    key = (query.digest, run_paths, catalogue)
    if key not in store:
        bar = st.progress(0.0, text="Analysing the song window by window…")

        def progress(stage: str, done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Analysing the song window by window: {done}/{total}")

        reply = answer([recommender(p, catalogue) for p in run_paths], query, k=K, progress=progress)
        bar.empty()
        store.clear()  # one song per session: a long song's timelines are small, but its audio is not kept
        store[key] = reply
    return store[key]


@st.cache_data(show_spinner=False, max_entries=4)
def decoded(data: bytes, name: str, kind: str) -> queries.Query:
    """An upload or recording checked and decoded once (up to a whole song, for every answer and Grad-CAM),
    not on every rerun (errors are not cached). Four are kept: a 10-minute song decodes to about 100 MB."""
    return queries.read_upload(data, name, kind=kind)


def pick_library_clip(tracks, run: Run, window: float) -> queries.Query | None:
    """Genre filter, searchable clip list and a random pick; the chosen clip as a query."""
    genres = [dashboard.ALL_GENRES, *sorted(tracks["genre"].unique())]
    by_id = tracks.set_index("track_id", drop=False)

    def surprise() -> None:
        options = dashboard.clip_options(tracks, st.session_state.get("pick_genre", dashboard.ALL_GENRES))
        if options:
            st.session_state["pick_track"] = random.choice(options)

    g, c, b = st.columns([1, 3, 1], vertical_alignment="bottom")
    genre = g.selectbox("Genre", genres, key="pick_genre")
    options = dashboard.clip_options(tracks, genre)
    if st.session_state.get("pick_track") not in options:
        st.session_state.pop("pick_track", None)
    track_id = c.selectbox(
        f"Library clip ({len(options)}; type to search by id or artist)",
        options,
        index=None,
        placeholder="Choose a clip…",
        key="pick_track",
        format_func=lambda t: dashboard.clip_label(by_id.loc[t]),
        filter_mode="contains",
    )
    b.button("Random clip", icon=":material/casino:", on_click=surprise, width="stretch")
    if track_id is None:
        st.info(
            "Choose a library clip above (or switch to **Upload** / **Record**). Both models then "
            "predict its genre and recommend the five most similar clips.",
            icon=":material/touch_app:",
        )
        return None
    return queries.library_query(by_id.loc[track_id], run.media_path(track_id), window)


def upload_clip() -> queries.Query | None:
    exts = ", ".join(e.lstrip(".") for e in SUPPORTED_FORMATS)
    file = st.file_uploader(
        f"Audio file ({exts}; up to {queries.MAX_UPLOAD_MIB} MiB)",
        type=queries.upload_types(),
        max_upload_size=queries.upload_widget_limit_mb(),
        key="upload",
    )
    st.caption(
        f"At least 3 s of audio. Longer files are analysed over their whole length (up to "
        f"{MAX_SONG_SECONDS / 60:g} minutes), window by window; MP3, OGG or FLAC keep a whole song under "
        f"the size limit."
    )
    if file is None:
        return None
    return decoded(file.getvalue(), file.name, "upload")


def record_clip() -> queries.Query | None:
    rec = st.audio_input(
        "Record a clip with your microphone (at least 3 s; up to 30 s is used)", sample_rate=SAMPLE_RATE, key="record"
    )
    if rec is None:
        return None
    return decoded(rec.getvalue(), "recording.wav", "recording")


@dataclass(frozen=True)
class ModelColumn:
    """What one model's column shows: its run, its answer, and what a song and Grad-CAM add."""

    arch: str
    run: Run | None
    answer: Answer | None = None
    timeline: Timeline | None = None  # the run's window-by-window song timeline (songs only)
    region: tuple[float | None, float | None] = (None, None)  # the song's region answered
    gradcam: object | None = None  # a plotly figure
    gradcam_note: str = ""

    @property
    def label(self) -> str:
        return plots.arch_label(self.arch)


def model_column(column: ModelColumn, query: queries.Query, shared: set[str], other: str, x_max: float) -> None:
    """One model's prediction, optional timeline and Grad-CAM, and its recommendations."""
    st.subheader(column.label)
    if column.run is None:
        st.info(
            f"No {column.label} run. Train one with `genrec train --arch {column.arch}` to compare.",
            icon=":material/info:",
        )
        return
    st.caption(f"run `{column.run.id}` · weights: {column.run.weights_label}")
    answer = column.answer
    if answer is None:
        return
    a, b = st.columns(2)
    a.metric("Predicted genre", answer.genre)
    b.metric("Confidence", f"{answer.confidence:.0%}")
    if query.true_genre:
        if answer.genre == query.true_genre:
            st.markdown(
                f":green[:material/check_circle: correct] — true genre {genre_chip(query.true_genre)}",
                unsafe_allow_html=True,
            )
        else:
            st.markdown(
                f":red[:material/cancel: wrong] — true genre {genre_chip(query.true_genre)}", unsafe_allow_html=True
            )
    st.plotly_chart(
        plots.probability_figure(answer.probability_table(), true_genre=query.true_genre, x_max=x_max),
        key=f"probs_{column.arch}",
        config={"displayModeBar": False},
    )
    if column.timeline is not None:
        st.plotly_chart(
            analysis_plots.timeline_figure(column.timeline, column.region),
            key=f"timeline_{column.arch}",
            config={"displayModeBar": False},
        )
    if column.gradcam is not None:
        st.plotly_chart(column.gradcam, key=f"gradcam_{column.arch}", config={"displayModeBar": False})
    elif column.gradcam_note:
        st.info(column.gradcam_note, icon=":material/visibility_off:")
    st.markdown(f"**Top-{len(answer.neighbours)} recommendations** (cosine similarity of {column.label} embeddings)")
    recommendation_list(answer.neighbours, shared=shared, other=other)


def song_region(reply: Reply, recs: list) -> Reply:
    """The region slider, and the song's reply narrowed to that region."""
    song = reply.song
    st.info(
        f"{song.note} Each model judges the song window by window; its prediction and recommendations below "
        f"are the mean over the region chosen here.",
        icon=":material/timeline:",
    )
    start, end = st.slider(
        "Region of the song (s)",
        0.0,
        float(round(song.seconds, 1)),
        (0.0, float(round(song.seconds, 1))),
        step=1.0,
        key="song_region",
        help="Narrow the song-level prediction and the recommendations to part of the song.",
    )
    return reply.over(recs, start, end, K)


def gradcam_section(query: queries.Query, present: dict[str, Run], answers: dict) -> dict[str, object]:
    """Toggle and genre choice; by architecture, each run's Grad-CAM figure (one colour scale for both), or
    the text saying why it has none."""

    if not answers:
        return {}
    library = query.kind == "library"
    left, right = st.columns([2, 3], vertical_alignment="bottom")
    show = left.toggle(
        "Show where each model looks (Grad-CAM)",
        value=not library,
        key="gradcam_library" if library else "gradcam_audio",
        help="Grad-CAM: how much each part of the spectrogram raised the chosen genre's score. "
        "For library clips this loads the models, which takes a moment the first time.",
    )
    if not show:
        return {}
    genres = list(next(iter(present.values())).genres)
    genre = right.selectbox(
        "Genre to explain",
        [PREDICTED, *genres],
        key="gradcam_genre",
        format_func=lambda g: "each model's predicted genre" if g == PREDICTED else g,
    )
    if query.audio is None:
        st.info("Grad-CAM needs the clip's audio, which is not on this machine.", icon=":material/volume_off:")
        return {}
    found, shown = {}, {}
    with st.spinner("Computing Grad-CAM…"):
        for arch, run in present.items():
            if arch not in answers:
                continue
            try:
                # the predicted genre is the one shown above (for a long song, its song-level prediction)
                chosen = answers[arch].genre if genre == PREDICTED else genre
                found[arch] = explanation(str(run.path), query.digest, chosen, query.audio)
            except GenrecError as exc:
                shown[arch] = str(exc)
    if not found:
        return shown
    zmax = shared_scale(list(found.values()), np.linspace(0, max(e.seconds for e in found.values()), 700))
    for arch, expl in found.items():
        title = f"Grad-CAM: where {plots.arch_label(arch)} finds '{expl.genre}'"
        shown[arch] = analysis_plots.gradcam_figure(expl, band_hz(), zmax, title=title)
    st.caption(
        "Grad-CAM over each model's analysis window (the middle of longer files, as in the spectrogram "
        "above), one colour scale for both models: 1 is the map's "
        "average weight, brighter means that part of the spectrogram raised the genre's score more. "
        "Feature maps are coarse (7×7 cells at 224 px), so the map is blurred by design."
    )
    return shown


def copy_text(same_as: dict[str, str], catalogue: str | None, n_models: int) -> str:
    """What the page says when the clip is an exact copy of a track the ``n_models`` answering runs could
    recommend (``same_as``: by architecture, for the runs that have it)."""
    pool = f"catalogue {catalogue}" if catalogue else "library"
    names = {a: "`" + t.replace("`", "'") + "`" for a, t in same_as.items()}
    if len(set(names.values())) == 1 and len(names) == n_models:
        return (
            f"This clip is {pool} track {next(iter(names.values()))} (an exact copy of its file), so it is left "
            f"out of the recommendations."
        )
    each = "; ".join(f"{plots.arch_label(a)}'s {pool} track {t}" for a, t in names.items())
    return f"This clip is an exact copy of {each}, each left out of its model's recommendations."


def main() -> None:
    """The page: the query clip, then each model's answer side by side."""
    page_header(
        ":material/compare_arrows: Compare VGG16 and ResNet50",
        "Pick, upload or record a clip. Each model predicts its genre and recommends the five library "
        "clips whose embeddings are most similar to it (cosine similarity).",
    )
    runs = selected_runs()
    present = {a: r for a, r in runs.items() if r is not None}
    if not present:
        st.warning("No complete run to compare. Train one (`genrec train`) or build the demo (`genrec demo`).")
        return
    library_notes(present)
    catalogue = recommendation_source(list(present.values()), key="compare_source")
    query = choose_query(present)
    if query is None:
        return
    st.divider()
    query_heading(query)
    reply = None
    with guard("analysing the clip"):
        reply = query_reply(query, present, catalogue)
    answers = dict(zip(present, reply.answers)) if reply is not None else {}
    st.divider()
    agreement_section(reply, catalogue)
    gradcams = gradcam_section(query, present, answers)
    model_columns(query, columns_of(runs, reply, answers, gradcams))


def library_notes(present: dict[str, Run]) -> None:
    """The first run's library, and a warning when the two runs were trained on different libraries."""
    library_caption(next(iter(present.values())))
    if len({r.library.fingerprint for r in present.values()}) > 1:
        st.warning(
            "The two runs were trained on different libraries; only clips in both can be picked, and "
            "each model recommends from its own library.",
            icon=":material/warning:",
        )


def choose_query(present: dict[str, Run]) -> queries.Query | None:
    """The query clip: a library clip, an upload or a recording (None until one is chosen)."""
    source = st.segmented_control(
        "Query clip", list(SOURCES), format_func=SOURCES.get, default="library", required=True, key="query_source"
    )
    with guard("reading the clip"):
        if source == "upload":
            return upload_clip()
        if source == "record":
            return record_clip()
        first = next(iter(present.values()))
        window = max(r.spectrogram.clip_seconds for r in present.values())  # the clip is decoded once, for all
        return pick_library_clip(dashboard.shared_tracks({a: r.tracks for a, r in present.items()}), first, window)
    return None  # the guard showed why the clip could not be read


def query_heading(query: queries.Query) -> None:
    """The query's title (with its true genre for a library clip) and its player, waveform and spectrogram."""
    title = f"Query: {html.escape(query.label)}"
    if query.kind == "library":
        st.markdown(f"### {title} {genre_chip(query.true_genre)}", unsafe_allow_html=True)
        note = " (a training clip: the models have seen it)" if query.split == "train" else ""
        st.caption(f"True genre **{query.true_genre}** · {query.split} split{note}")
    else:
        st.markdown(f"### {title}")
    show_clip(query.samples, query.digest, query.path, key="query")


def query_reply(query: queries.Query, present: dict[str, Run], catalogue: str | None) -> Reply:
    """Both runs' reply (genrec.serve.answer decides track / clip / song): a song's with the region slider."""
    run_paths = tuple(str(r.path) for r in present.values())
    recs = [recommender(p, catalogue) for p in run_paths]
    kind, _ = decide(recs, query)
    if kind == SONG:
        return song_region(song_reply(query, run_paths, catalogue), recs)
    if kind == TRACK:
        return answer(recs, query, k=K)
    with st.spinner("Running the models on the clip (the first time loads them, which takes a while)…"):
        return clip_reply(query.digest, run_paths, query, catalogue)


def columns_of(runs: dict, reply: Reply | None, answers: dict, gradcams: dict) -> list[ModelColumn]:
    """Each architecture's column, in ARCHITECTURES order, from the reply and the Grad-CAM figures."""
    timelines = dict(zip(answers, reply.song.timelines)) if reply is not None and reply.song else {}
    region = reply.song.region if reply is not None and reply.song else (None, None)
    columns = []
    for arch in ARCHITECTURES:
        cam = gradcams.get(arch)
        note = cam if isinstance(cam, str) else ""
        figure = None if isinstance(cam, str) else cam
        columns.append(ModelColumn(arch, runs.get(arch), answers.get(arch), timelines.get(arch), region, figure, note))
    return columns


def agreement_section(reply: Reply | None, catalogue: str | None) -> None:
    """Exact-copy note, and whether the two models agree on the genre and how many recommendations they share."""
    if reply is None:
        return
    if reply.copies:
        st.info(copy_text(reply.copies, catalogue, len(reply.answers)), icon=":material/content_copy:")
    if len(reply.answers) != 2:
        return
    both = shared_count(*reply.answers)
    agree, text = dashboard.agreement_text({a.arch: a.genre for a in reply.answers})
    left, right = st.columns([3, 1], vertical_alignment="center")
    with left:
        (st.success if agree else st.warning)(text, icon=":material/handshake:" if agree else ":material/call_split:")
    right.metric(
        "Shared recommendations", f"{both} of {K}", help="How many of the five recommended clips both models chose."
    )


def model_columns(query: queries.Query, columns: list[ModelColumn]) -> None:
    """Both models side by side, on one probability scale; clips both recommend are marked "also by"."""
    answered = [c.answer for c in columns if c.answer is not None]
    ids = [set(a.neighbours["track_id"]) for a in answered]
    shared = set.intersection(*ids) if len(ids) == 2 else set()
    x_max = plots.probability_axis_max([a.confidence for a in answered])  # one scale for both charts
    for col, column in zip(st.columns(len(columns), gap="large", border=True), columns):
        other = next((plots.arch_label(a) for a in ARCHITECTURES if a != column.arch), "")
        with col, guard(f"showing {column.label}"):
            model_column(column, query, shared, other, x_max)


if __name__ == "__main__":  # app.py's st.Page runs this file as the page
    main()
