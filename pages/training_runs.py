"""Training runs: learning curves, the paper's per-genre table and confusion matrices, two runs side by side."""
from __future__ import annotations

import numpy as np
import streamlit as st

from genrec import dashboard as D
from genrec import plots as P
from genrec.config import ARCHITECTURES
from pages._common import (
    all_runs,
    guard,
    page_header,
    run_by_id,
    selected_runs,
    synthetic_badge,
)

SPLITS = {"test": "test split", "valid": "validation split"}
TABLE_ROW_PX = 35  # st.dataframe's row height: tall enough to show every row without scrolling


@st.cache_data(show_spinner=False, max_entries=64)
def history_fig(run_path: str, run_id: str):
    return P.history_figure(run_by_id(run_id).history)


@st.cache_data(show_spinner=False, max_entries=128)
def confusion_fig(run_path: str, run_id: str, split: str, normalized: bool):
    from genrec.metrics import confusion_frame

    run = run_by_id(run_id)
    return P.confusion_figure(confusion_frame(run.metrics_summary.split(split).raw, normalize=normalized), normalized)


def _fmt(value, pattern: str = "{:.2f}") -> str:
    return "—" if value is None or (isinstance(value, float) and not np.isfinite(value)) else pattern.format(value)


def summary_section(runs: list, broken: list) -> None:
    st.subheader("All runs")
    table = D.summary_table(runs)
    st.dataframe(
        table, hide_index=True, width="stretch", placeholder="—",
        column_order=[c for c in table.columns if c != "library"],
        column_config={
            "run": st.column_config.TextColumn(help="Run folder name; the library is part of it"),
            "architecture": st.column_config.TextColumn("arch"),
            "test accuracy": st.column_config.NumberColumn("test acc", format="%.2f"),
            "macro F1": st.column_config.NumberColumn(format="%.2f"),
            "precision@5": st.column_config.NumberColumn("P@5", format="%.2f", help="precision@5"),
            "mAP": st.column_config.NumberColumn(format="%.2f"),
            "training time (s)": st.column_config.NumberColumn("train s", format="%.0f",
                                                               help="training time in seconds"),
            "epochs": st.column_config.NumberColumn(format="%d"),
            "last four trainable": st.column_config.CheckboxColumn("last 4 trainable"),
        },
    )
    st.caption(f"Test-split figures of every saved run. The **{D.PAPER_LABEL}** rows are the test accuracies the "
               "paper reports on GTZAN (VGG16 0.60, ResNet50 0.40); precision@5 and mAP measure how often the "
               "five recommendations share the query's genre.")
    for path, reason in broken:
        st.warning(f"Left out: {reason}", icon=":material/warning:")


def run_panel(run, split: str, normalized: bool, slot: str) -> None:
    label = P.arch_label(run.arch)
    st.subheader(f"{label}")
    st.caption(f"`{run.id}`")
    st.markdown(D.weights_caption(run))
    st.caption(f"Library {run.library.label} ({run.split_method})")
    if D.is_synthetic(run):
        synthetic_badge()
    m = run.metrics_summary
    retrieval = m.retrieval
    cols = st.columns(4)
    cols[0].metric("Test accuracy", _fmt(m.test.accuracy),
                   help=f"Paper: {D.PAPER_ACCURACY.get(run.arch, float('nan')):.2f}")
    cols[1].metric("Macro F1", _fmt(m.test.macro_f1))
    if retrieval:
        cols[2].metric(f"Precision@{retrieval.k}", _fmt(retrieval.precision_at_k),
                       help=f"Chance level {_fmt(retrieval.chance)}")
        cols[3].metric("mAP", _fmt(retrieval.map))
    info = run.info
    st.caption(f"{info.epochs_run} epochs (best {info.best_epoch or '?'}) · "
               f"{run.config.input_size}-px images · last four layers "
               f"{'trainable' if run.config.last_four_trainable else 'frozen'} · "
               f"trained in {info.train_seconds:.0f} s")

    st.markdown("**Accuracy and loss per epoch**")
    st.plotly_chart(history_fig(str(run.path), run.id), key=f"hist_{slot}", config={"displayModeBar": False})

    split_metrics = m.split(split)
    st.markdown(f"**Classification report** ({SPLITS[split]}, {split_metrics.n} clips)")
    report = D.report_table(split_metrics.raw)
    st.dataframe(report, hide_index=True, width="stretch", height=TABLE_ROW_PX * (len(report) + 1) + 3,
                 placeholder="", column_config={c: st.column_config.NumberColumn(format="%.2f")
                                for c in ("precision", "recall", "f1-score")}
                 | {"support": st.column_config.NumberColumn(format="%d")})
    st.markdown(f"**Confusion matrix** ({'share of each true genre' if normalized else 'clip counts'})")
    st.plotly_chart(confusion_fig(str(run.path), run.id, split, normalized), key=f"cm_{slot}",
                    config={"displayModeBar": False})


def main() -> None:
    page_header(":material/monitoring: Training runs",
                "How each saved run trained and how it scores on held-out clips, next to the paper's figures.")
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
    left_id = controls[0].selectbox("Left run", ids, index=ids.index(defaults[0]), key="runs_left",
                                    format_func=lambda i: D.run_option_label(by_id[i]))
    right_id = None
    if len(ids) > 1:
        right_id = controls[1].selectbox("Right run", ids, index=ids.index(defaults[1]), key="runs_right",
                                         format_func=lambda i: D.run_option_label(by_id[i]))
    split = controls[2].segmented_control("Split", list(SPLITS), default="test", required=True,
                                          key="runs_split")
    normalized = controls[3].toggle("Row-normalised", key="cm_normalized",
                                    help="Divide each confusion-matrix row by the number of clips of that genre.")
    columns = st.columns(2, gap="large", border=True)
    for slot, (col, run_id) in enumerate(zip(columns, (left_id, right_id))):
        with col, guard("drawing the run"):
            if run_id is None:
                st.info("Only one run is saved; train another to compare side by side.", icon=":material/info:")
                continue
            run_panel(by_id[run_id], split, normalized, slot=str(slot))


with guard("drawing the page"):
    main()
