"""Test-set figures of a run: the paper's classification table and retrieval quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import genrec.audio.cache as cache
from genrec.config import GENRE_INDEX, GENRES, TOP_K
from genrec.errors import RunError
from genrec.evaluate.hubness import hubness_report
from genrec.evaluate.metrics import classification_metrics, confusion_frame, format_report
from genrec.evaluate.retrieval import retrieval_report
from genrec.model.pooling import EXTRACT_BATCH, chunk_accuracy, clip_predictions
from genrec.runs.reader import Run
from genrec.runs.record import HubnessMetrics

RETRIEVAL_K = TOP_K


def run_metrics(
    tracks: pd.DataFrame,
    probs: np.ndarray,
    embeddings: np.ndarray,
    chunk_accuracy: float | None = None,
    k: int = RETRIEVAL_K,
) -> dict:
    """Classification metrics per split and retrieval figures (test queries against the train split).

    ``tracks`` rows align with ``probs`` and ``embeddings`` (clip level).
    """
    labels = tracks["genre"].map(GENRE_INDEX).to_numpy()
    predicted = probs.argmax(axis=1)
    split = tracks["split"].to_numpy()
    out: dict = {}
    for name in ("test", "valid"):
        mask = split == name
        out[name] = classification_metrics(labels[mask], predicted[mask], GENRES)
    if chunk_accuracy is not None:
        out["test"]["chunk_accuracy"] = chunk_accuracy
    query, base = split == "test", split == "train"
    artists = tracks["artist"].fillna("").astype(str).to_numpy()
    known = bool(np.all(artists != ""))
    if query.any() and base.any():
        out["retrieval"] = retrieval_report(
            embeddings[query],
            tracks["genre"].to_numpy()[query],
            artists[query] if known else None,
            embeddings[base],
            tracks["genre"].to_numpy()[base],
            artists[base] if known else None,
            k=k,
        )
    else:
        out["retrieval"] = None
    out["hubness"] = hubness_report(embeddings, k)
    return out


def run_hubness(run: Run) -> HubnessMetrics:
    """A run's hubness: as saved, or computed from its saved embeddings for runs evaluated before it was added
    (with the run's retrieval k)."""
    saved = run.metrics_summary.hubness
    if saved is not None:
        return saved
    r = run.metrics_summary.retrieval
    return HubnessMetrics.from_json(hubness_report(run.embeddings, r.k if r else RETRIEVAL_K))


def hubness_lines(hub: dict) -> list[str]:
    """The hubness figures as `genrec evaluate` prints them."""
    return [
        f"hubness over the whole library ({hub['n']} clips, each a query against the others, k={hub['k']}):",
        f"  skewness of k-occurrence: {hub['skewness']:.2f}   (0 = even; above ~1 a few hubs dominate)",
        (
            f"  never recommended: {hub['never_recommended']:.1%} of the library; "
            f"most often recommended clip: in {hub['max_k_occurrence']} lists"
        ),
    ]


def predict_tracks(run: Run, progress=None) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Recompute clip probabilities and embeddings of a run's tracks from its saved model.

    Returns (probabilities, embeddings, chunk-level test accuracy or None).
    """
    from genrec.model.network import with_embedding  # imports Keras: only when a run is re-evaluated  # noqa: PLC0415 - TensorFlow stays out of the app and the CLI start-up

    spec = run.spectrogram
    tracks = run.tracks
    missing = [p for p in tracks["path"] if not Path(p).is_file()]
    if missing:
        raise RunError(
            f"{run.id}: {len(missing)} library file(s) of this run are not on this machine (e.g. {missing[0]}); "
            f"use `genrec evaluate --saved` to show the saved figures."
        )
    images, owner, _ = cache.library_images(
        tracks["path"].tolist(), spec.kind, spec.chunk_seconds, spec.size, progress, spec.clip_seconds
    )
    both = with_embedding(run.load_model())
    probs_img, emb_img = both.predict(images.astype(np.float32), batch_size=EXTRACT_BATCH, verbose=0)
    probs, embeddings = clip_predictions(probs_img, emb_img, owner, len(tracks))
    chunk_acc = None
    if spec.chunk_seconds:
        chunk_acc = chunk_accuracy(
            probs_img, owner, tracks["genre"].map(GENRE_INDEX).to_numpy(), tracks["split"].to_numpy()
        )
    return probs, embeddings, chunk_acc


def evaluate_run(run_ref, recompute: bool = True, progress=None) -> dict:
    """Metrics of a run: recomputed from its saved model (default) or as saved at training time."""
    run = run_ref if isinstance(run_ref, Run) else Run.open(run_ref)
    if not recompute:
        return {"run": run, "metrics": run.metrics_summary.to_json(), "recomputed": False}
    probs, embeddings, chunk_acc = predict_tracks(run, progress)
    metrics = run_metrics(run.tracks, probs, embeddings, chunk_accuracy=chunk_acc)
    saved = run.metrics_summary.test.accuracy
    return {
        "run": run,
        "metrics": metrics,
        "recomputed": True,
        "matches_saved": bool(np.isclose(metrics["test"]["accuracy"], saved, atol=1e-6, equal_nan=True)),
    }


def format_evaluation(result: dict) -> str:
    """The text `genrec evaluate` prints: report, confusion matrix, retrieval figures with chance level."""
    run, m = result["run"], result["metrics"]
    lines = [
        f"run {run.id}: {run.arch}, weights {run.weights_label}, library {run.library.label} ({run.split_method})",
        f"figures {'recomputed from the saved model' if result['recomputed'] else 'as saved at training time'}"
        + (
            ""
            if not result.get("recomputed")
            else (
                "; test accuracy matches the saved value"
                if result["matches_saved"]
                else "; WARNING: differs from the saved value"
            )
        ),
        "",
        f"test set classification report ({m['test']['n']} clips):",
        format_report(m["test"]),
    ]
    if m["test"].get("chunk_accuracy") is not None:
        lines.append(f"chunk-level test accuracy: {m['test']['chunk_accuracy']:.3f}")
    lines += [
        "",
        "confusion matrix (rows: true genre, columns: predicted):",
        confusion_frame(m["test"]).astype(int).to_string(),
    ]
    r = m.get("retrieval")
    if r:
        lines += [
            "",
            f"retrieval: {r['n_queries']} test queries against {r['n_base']} train tracks, k={r['k']}",
            f"  precision@{r['k']}: {r['precision_at_k']:.3f}   (chance {r['chance']:.3f})",
            f"  mAP:           {r['map']:.3f}",
            f"  top-1 genre agreement: {r['top1_agreement']:.3f}",
        ]
        if r.get("precision_at_k_other_artists") is not None:
            lines.append(
                f"  precision@{r['k']} excluding same-artist neighbours: {r['precision_at_k_other_artists']:.3f}"
            )
        else:
            lines.append(f"  precision@{r['k']} excluding same-artist neighbours: n/a (artists not known)")
    hub = m.get("hubness") or hubness_report(run.embeddings, RETRIEVAL_K)
    lines += ["", *hubness_lines(hub)]
    return "\n".join(lines)
