"""Classification figures in the paper's form (scikit-learn's report and confusion matrix)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix

from genrec.runs.record import paper_table


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """Accuracy, per-genre precision/recall/F1/support with macro and weighted averages, confusion matrix.

    All genres appear in the report even when absent from ``y_true`` (support 0).
    """
    # imported here: scikit-learn takes seconds to import, and the app lists runs and draws
    # saved reports without it

    idx = list(range(len(labels)))
    report = classification_report(
        y_true, y_pred, labels=idx, target_names=list(labels), output_dict=True, zero_division=0
    )
    report.pop("accuracy", None)
    report.pop("micro avg", None)  # sklearn adds it when some labels are absent; the paper's table has none
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else float("nan"),
        "n": int(len(y_true)),
        "per_genre": {g: {k: float(v) for k, v in report[g].items()} for g in labels},
        "macro avg": {k: float(v) for k, v in report["macro avg"].items()},
        "weighted avg": {k: float(v) for k, v in report["weighted avg"].items()},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=idx).tolist(),
        "labels": list(labels),
    }


def report_frame(metrics: dict) -> pd.DataFrame:
    """The paper's table: one row per genre plus accuracy, macro avg and weighted avg."""
    m = metrics
    return paper_table(m["labels"], m["per_genre"], m["n"], m["accuracy"], m["macro avg"], m["weighted avg"])


def format_report(metrics: dict) -> str:
    """Plain-text version of :func:`report_frame`, two decimals as in the paper."""
    return report_frame(metrics).to_string(float_format=lambda v: f"{v:.2f}", na_rep="")


def confusion_frame(metrics: dict, normalize: bool = False) -> pd.DataFrame:
    """Confusion matrix with true genres as rows; ``normalize`` divides each row by its total."""
    return confusion_table(metrics["confusion_matrix"], metrics["labels"], normalize)


def confusion_table(matrix, labels, normalize: bool = False) -> pd.DataFrame:
    """:func:`confusion_frame` from a matrix of counts (rows true genre) and its genre labels."""
    cm = np.asarray(matrix, dtype=float)
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
    return pd.DataFrame(cm, index=list(labels), columns=list(labels))
