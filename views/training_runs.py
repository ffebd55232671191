"""Training runs: learning curves, the paper's per-genre table and confusion matrices, two runs side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

import genrec.app.analysis_plots as analysis_plots
import genrec.app.dashboard as dashboard
import genrec.app.plots as plots
from genrec.config import ARCHITECTURES
from genrec.errors import GenrecError
from genrec.evaluate.headtohead import head_to_head
from genrec.evaluate.metrics import confusion_table
from genrec.evaluate.report import run_hubness
from genrec.runs.reader import Run
from genrec.runs.record import HubnessMetrics
from views._caches import all_runs, run_by_id
from views._guard import guard
from views._sidebar import selected_runs
from views._widgets import clip_line, genre_chip, page_header, synthetic_badge

SPLITS = {"test": "test split", "valid": "validation split"}
TABLE_ROW_PX = 35  # st.dataframe's row height: tall enough to show every row without scrolling


@st.cache_data(show_spinner=False, max_entries=64)
def history_fig(run_path: str, run_id: str):
    return plots.history_figure(run_by_id(run_id).history)


@st.cache_data(show_spinner=False, max_entries=128)
def confusion_fig(run_path: str, run_id: str, split: str, normalized: bool):
    metrics = run_by_id(run_id).metrics_summary.split(split)
    return plots.confusion_figure(
        confusion_table(metrics.confusion_matrix, metrics.labels, normalize=normalized), normalized
    )


def _fmt(value, pattern: str = "{:.2f}") -> str:
    return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else pattern.format(value)


def summary_section(runs: list[Run], broken: list) -> None:
    st.subheader("All runs")
    table = dashboard.summary_table(runs)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_order=[c for c in table.columns if c != "library"],
        column_config={
            "run": st.column_config.TextColumn(help="Run folder name; the library is part of it"),
            "architecture": st.column_config.TextColumn("arch"),
            "test accuracy": st.column_config.NumberColumn("test acc", format="%.2f"),
            "macro F1": st.column_config.NumberColumn(format="%.2f"),
            "precision@5": st.column_config.NumberColumn("P@5", format="%.2f", help="precision@5"),
            "mAP": st.column_config.NumberColumn(format="%.2f"),
            "training time (s)": st.column_config.NumberColumn(
                "train s", format="%.0f", help="training time in seconds"
            ),
            "epochs": st.column_config.NumberColumn(format="%d"),
            "last four trainable": st.column_config.CheckboxColumn("last 4 trainable"),
        },
    )
    st.caption(
        f"Test-split figures of every saved run. The **{dashboard.PAPER_LABEL}** rows are the test accuracies the "
        "paper reports on GTZAN (VGG16 0.60, ResNet50 0.40); precision@5 and mAP measure how often the "
        "five recommendations share the query's genre."
    )
    for _path, reason in broken:
        st.warning(f"Left out: {reason}", icon=":material/warning:")


def run_panel(run: Run, split: str, normalized: bool, slot: str) -> None:
    label = plots.arch_label(run.arch)
    st.subheader(f"{label}")
    st.caption(f"`{run.id}`")
    st.markdown(dashboard.weights_caption(run))
    st.caption(f"Library {run.library.label} ({run.split_method})")
    if dashboard.is_synthetic(run):
        synthetic_badge()
    m = run.metrics_summary
    retrieval = m.retrieval
    cols = st.columns(4)
    cols[0].metric(
        "Test accuracy",
        _fmt(m.test.accuracy),
        help=f"Paper: {dashboard.PAPER_ACCURACY.get(run.arch, float('nan')):.2f}",
    )
    cols[1].metric("Macro F1", _fmt(m.test.macro_f1))
    if retrieval:
        cols[2].metric(
            f"Precision@{retrieval.k}", _fmt(retrieval.precision_at_k), help=f"Chance level {_fmt(retrieval.chance)}"
        )
        cols[3].metric("mAP", _fmt(retrieval.map))
    info = run.info
    st.caption(
        f"{info.epochs_run} epochs (best {info.best_epoch or '?'}) · "
        f"{run.config.input_size}-px images · last four layers "
        f"{'trainable' if run.config.last_four_trainable else 'frozen'} · "
        f"trained in {info.train_seconds:.0f} s"
    )

    st.markdown("**Accuracy and loss per epoch**")
    st.plotly_chart(history_fig(str(run.path), run.id), key=f"hist_{slot}", config={"displayModeBar": False})

    split_metrics = m.split(split)
    st.markdown(f"**Classification report** ({SPLITS[split]}, {split_metrics.n} clips)")
    report = dashboard.report_table(split_metrics)
    st.dataframe(
        report,
        hide_index=True,
        width="stretch",
        height=TABLE_ROW_PX * (len(report) + 1) + 3,
        placeholder="",
        column_config={c: st.column_config.NumberColumn(format="%.2f") for c in ("precision", "recall", "f1-score")}
        | {"support": st.column_config.NumberColumn(format="%d")},
    )
    st.markdown(f"**Confusion matrix** ({'share of each true genre' if normalized else 'clip counts'})")
    st.plotly_chart(
        confusion_fig(str(run.path), run.id, split, normalized), key=f"cm_{slot}", config={"displayModeBar": False}
    )


@st.cache_data(show_spinner=False, max_entries=16)
def head_to_head_of(path_a: str, path_b: str, id_a: str, id_b: str):
    return head_to_head(run_by_id(id_a), run_by_id(id_b))


@st.cache_data(show_spinner=False, max_entries=32)
def hubness_of(run_path: str, run_id: str) -> HubnessMetrics:
    """A run's hubness (computed from its embeddings, once, for runs saved without it)."""
    return run_hubness(run_by_id(run_id))


def retrieval_section(runs: list[Run]) -> None:
    """Precision@k with and without the query's own artist, mAP and hubness, one column per run."""
    st.subheader("Retrieval beyond precision@5")
    rows = {}
    for run in runs:
        r, hub = run.metrics_summary.retrieval, hubness_of(str(run.path), run.id)
        k = r.k if r else hub.k
        rows[f"{plots.arch_label(run.arch)} · {run.id}"] = {
            f"precision@{k}": r.precision_at_k if r else None,
            f"precision@{k}, own artist excluded": r.other_artists if r else None,
            "mAP": r.map if r else None,
            "chance": r.chance if r else None,
            "k-occurrence skewness": hub.skewness,
            "never recommended": hub.never_recommended,
            "most recommended clip: lists": hub.max_k_occurrence,
        }
    st.dataframe(
        pd.DataFrame(rows),
        width="stretch",
        placeholder="—",
        column_config={c: st.column_config.NumberColumn(format="%.2f") for c in rows},
    )
    st.caption(
        "Precision@5 and mAP: test clips as queries against the train split. *Own artist excluded* drops "
        "neighbours by the query's artist (— where artists are not known), so an artist's other songs cannot "
        "flatter the figure. Hubness: every library clip as a query against all others; a k-occurrence "
        "skewness above ~1 means a few *hub* clips are recommended for everything, and *never recommended* "
        "is the share of the library no query ever reaches."
    )


def head_to_head_section(run_a, run_b) -> None:
    """Whether the left run really differs from the right one on their shared test clips."""
    st.subheader("Head-to-head on the same test clips")
    try:
        h = head_to_head_of(str(run_a.path), str(run_b.path), run_a.id, run_b.id)
    except GenrecError as exc:
        st.info(str(exc), icon=":material/info:")
        return
    (st.success if h.distinguishable else st.warning)(h.verdict(), icon=":material/balance:")
    cols = st.columns(3)
    cols[0].metric(f"Accuracy difference ({h.label_a} − {h.label_b})", f"{h.difference:+.2f}")
    cols[1].metric(
        "95 % interval (paired bootstrap)",
        f"{h.interval[0]:+.2f} to {h.interval[1]:+.2f}",
        help=f"{h.n_resamples} resamples of the {h.n} test clips, seed {h.seed}",
    )
    cols[2].metric(
        "McNemar exact p",
        f"{h.p_value:.3g}",
        help=f"{h.only_a} clips only {h.label_a} gets right, {h.only_b} only {h.label_b}",
    )
    left, right = st.columns(2)
    left.plotly_chart(
        analysis_plots.f1_difference_figure(h.f1_difference, h.label_a, h.label_b),
        key="h2h_f1",
        config={"displayModeBar": False},
    )
    right.plotly_chart(
        analysis_plots.confusion_difference_figure(h.confusion_difference, h.label_a, h.label_b),
        key="h2h_cm",
        config={"displayModeBar": False},
    )
    dis = h.disagreements
    with st.expander(f"{len(dis)} test clip(s) where the two runs disagree", expanded=len(dis) <= 10):
        for row in dis.itertuples(index=False):
            with st.container(border=True):
                marks = {True: ":green[✓]", False: ":red[✗]"}
                clip_line(
                    f"**{row.track_id}** — true {genre_chip(row.genre)} · {h.label_a}: **{row.predicted_a}** "
                    f"{marks[bool(row.correct_a)]} · {h.label_b}: **{row.predicted_b}** {marks[bool(row.correct_b)]}",
                    str(row.path),
                )


def main() -> None:
    page_header(
        ":material/monitoring: Training runs",
        "How each saved run trained and how it scores on held-out clips, next to the paper's figures.",
    )
    runs, broken = all_runs()
    summary_section(runs, broken)

    st.divider()
    st.subheader("Two runs side by side")
    chosen = selected_runs()
    ids = [r.id for r in runs]
    defaults = [chosen[a].id for a in ARCHITECTURES if chosen.get(a) is not None]
    defaults += [i for i in ids if i not in defaults]
    by_id = {r.id: r for r in runs}
    controls = st.columns([2, 2, 1, 1], vertical_alignment="bottom")
    picked = [
        controls[slot].selectbox(
            f"{side} run",
            ids,
            index=ids.index(defaults[slot]),
            key=f"runs_{side.lower()}",
            format_func=lambda i: dashboard.run_option_label(by_id[i]),
        )
        for slot, side in enumerate(("Left", "Right")[: min(2, len(ids))])
    ]
    left_id, right_id = picked[0], (picked[1] if len(picked) > 1 else None)
    split = controls[2].segmented_control("Split", list(SPLITS), default="test", required=True, key="runs_split")
    normalized = controls[3].toggle(
        "Row-normalised",
        key="cm_normalized",
        help="Divide each confusion-matrix row by the number of clips of that genre.",
    )
    columns = st.columns(2, gap="large", border=True)
    for slot, (col, run_id) in enumerate(zip(columns, (left_id, right_id))):
        with col, guard("drawing the run"):
            if run_id is None:
                st.info("Only one run is saved; train another to compare side by side.", icon=":material/info:")
                continue
            run_panel(by_id[run_id], split, normalized, slot=str(slot))
    st.divider()
    with guard("comparing the two runs"):
        if right_id is not None and right_id != left_id:
            head_to_head_section(by_id[left_id], by_id[right_id])
        else:
            st.subheader("Head-to-head on the same test clips")
            st.info(
                "Choose two different runs above to see whether their accuracies really differ.", icon=":material/info:"
            )
    st.divider()
    with guard("measuring retrieval"):
        retrieval_section([by_id[i] for i in dict.fromkeys((left_id, right_id)) if i is not None])


if __name__ == "__main__":  # app.py's st.Page runs this file as the page
    main()
