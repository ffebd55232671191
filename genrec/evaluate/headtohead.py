"""Head-to-head of two runs on the same test clips: is one really better, or is the test set too small?

Both runs' per-clip test predictions come from their ``embeddings.npz``
(probabilities aligned with ``tracks.csv``). The accuracy difference gets a
paired bootstrap 95 % interval (``scipy.stats.bootstrap`` with ``paired=True``:
clips are resampled, each keeping both runs' results), and McNemar's exact
test, which is the two-sided binomial test on the discordant clips (those only
one run gets right; ``scipy.stats.binomtest``). Per-genre F1 and the confusion
matrices are compared too, and the clips where the runs disagree are listed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import binomtest, bootstrap

from genrec.app.plots import arch_label
from genrec.errors import RunError
from genrec.evaluate.metrics import classification_metrics

#: Significance level of the verdict, and the bootstrap's defaults (seeded: the same runs give the same interval).
ALPHA = 0.05
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0


@dataclass
class HeadToHead:
    """Two runs compared clip by clip on one test set; ``a`` minus ``b`` throughout."""

    label_a: str
    label_b: str
    genres: list[str]
    clips: pd.DataFrame  # track_id, genre, path, predicted_a, predicted_b, correct_a, correct_b
    interval: tuple[float, float]  # paired bootstrap 95 % interval of accuracy_a - accuracy_b
    p_value: float  # McNemar's exact test
    f1_difference: pd.Series  # per genre, F1 of a minus F1 of b
    confusion_difference: pd.DataFrame  # rows true genre, columns predicted; counts of a minus b
    seed: int = BOOTSTRAP_SEED
    n_resamples: int = BOOTSTRAP_RESAMPLES

    @property
    def n(self) -> int:
        return len(self.clips)

    @property
    def accuracy_a(self) -> float:
        return float(self.clips["correct_a"].mean())

    @property
    def accuracy_b(self) -> float:
        return float(self.clips["correct_b"].mean())

    @property
    def difference(self) -> float:
        return self.accuracy_a - self.accuracy_b

    @property
    def only_a(self) -> int:
        """Clips only run a gets right."""
        return int((self.clips["correct_a"] & ~self.clips["correct_b"]).sum())

    @property
    def only_b(self) -> int:
        return int((self.clips["correct_b"] & ~self.clips["correct_a"]).sum())

    @property
    def disagreements(self) -> pd.DataFrame:
        """Clips where the two runs predict different genres."""
        return self.clips[self.clips["predicted_a"] != self.clips["predicted_b"]].reset_index(drop=True)

    @property
    def distinguishable(self) -> bool:
        """Whether the test set tells the runs apart (McNemar significant and the interval excludes 0)."""
        lo, hi = self.interval
        return self.p_value < ALPHA and (lo > 0 or hi < 0)

    def verdict(self) -> str:
        """The result in words, including when the test set is too small to tell the runs apart."""
        diff, (lo, hi) = self.difference, self.interval
        figures = (
            f"accuracy {self.accuracy_a:.2f} vs {self.accuracy_b:.2f} (difference {diff:+.2f}, "
            f"95 % interval {lo:+.2f} to {hi:+.2f}; McNemar p = {self.p_value:.3g}, "
            f"{_clips(self.only_a)} only {self.label_a} gets right, {_clips(self.only_b)} only {self.label_b})"
        )
        if self.distinguishable:
            better = self.label_a if diff > 0 else self.label_b
            return f"On these {self.n} test clips {better} is more accurate: {figures}."
        text = (
            f"With {self.n} test clips the test set is too small to tell the runs apart: {figures}. "
            f"A difference like this could come from chance alone."
        )
        half = (hi - lo) / 2
        if diff != 0 and half > 0:
            needed = int(np.ceil(self.n * (half / abs(diff)) ** 2))
            text += (
                f" If a difference of {abs(diff):.2f} held, the 95 % interval would exclude 0 only with roughly "
                f"{needed} or more test clips."
            )
        return text


def _clips(n: int) -> str:
    return f"{n} clip" if n == 1 else f"{n} clips"


def compare_predictions(
    clips: pd.DataFrame,
    predicted_a: np.ndarray,
    predicted_b: np.ndarray,
    genres: list[str],
    label_a: str = "A",
    label_b: str = "B",
    seed: int = BOOTSTRAP_SEED,
    n_resamples: int = BOOTSTRAP_RESAMPLES,
) -> HeadToHead:
    """Compare two sets of predicted genre indices for the clips (rows with ``genre``) of one test set."""

    index = {g: i for i, g in enumerate(genres)}
    truth = clips["genre"].map(index).to_numpy()
    pred_a, pred_b = np.asarray(predicted_a, dtype=int), np.asarray(predicted_b, dtype=int)
    table = clips.reset_index(drop=True).copy()
    table["predicted_a"] = [genres[i] for i in pred_a]
    table["predicted_b"] = [genres[i] for i in pred_b]
    table["correct_a"], table["correct_b"] = pred_a == truth, pred_b == truth
    right_a, right_b = table["correct_a"].to_numpy(float), table["correct_b"].to_numpy(float)
    if len(table) < 2:
        raise RunError(f"only {len(table)} shared test clip(s): nothing to compare.")
    if np.array_equal(right_a, right_b):  # no clip differs: every resample gives 0 (scipy refuses constant data)
        interval = (0.0, 0.0)
    else:
        res = bootstrap(
            (right_a, right_b),
            lambda x, y, axis: x.mean(axis) - y.mean(axis),
            paired=True,
            vectorized=True,
            n_resamples=n_resamples,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
        interval = (float(res.confidence_interval.low), float(res.confidence_interval.high))
    only_a = int(((right_a == 1) & (right_b == 0)).sum())
    only_b = int(((right_b == 1) & (right_a == 0)).sum())
    p_value = binomtest(only_a, only_a + only_b, 0.5).pvalue if only_a + only_b else 1.0
    m_a = classification_metrics(truth, pred_a, genres)
    m_b = classification_metrics(truth, pred_b, genres)
    f1 = pd.Series(
        {g: m_a["per_genre"][g]["f1-score"] - m_b["per_genre"][g]["f1-score"] for g in genres}, name="F1 difference"
    )
    confusion = pd.DataFrame(
        np.asarray(m_a["confusion_matrix"]) - np.asarray(m_b["confusion_matrix"]), index=genres, columns=genres
    )
    return HeadToHead(label_a, label_b, list(genres), table, interval, float(p_value), f1, confusion, seed, n_resamples)


def head_to_head(run_a, run_b, seed: int = BOOTSTRAP_SEED, n_resamples: int = BOOTSTRAP_RESAMPLES) -> HeadToHead:
    """Compare two saved runs on their test clips; RunError when they were not tested on the same clips."""
    if run_a.genres != run_b.genres:
        raise RunError(f"{run_a.id} and {run_b.id} predict different genre lists; they cannot be compared.")
    tables = []
    for run in (run_a, run_b):
        tracks = run.tracks.reset_index(drop=True)
        test = (tracks["split"] == "test").to_numpy()
        frame = tracks.loc[test, ["track_id", "genre", "path"]].copy()
        # only audio under the run's library root may be played (genrec.runs.media); "" means not available
        frame["path"] = [str(path) if path is not None else "" for path in run.media_paths(frame["path"])]
        frame["predicted"] = run.probabilities[test].argmax(axis=1)
        tables.append(frame.set_index("track_id"))
    ids_a, ids_b = set(tables[0].index), set(tables[1].index)
    if ids_a != ids_b:
        raise RunError(
            f"{run_a.id} and {run_b.id} were tested on different clips ({len(ids_a)} and {len(ids_b)}, "
            f"{len(ids_a & ids_b)} shared). Compare runs trained on the same library and split "
            f"(same --split-dir or split seed)."
        )
    order = sorted(ids_a)
    a, b = tables[0].loc[order], tables[1].loc[order]
    if not (a["genre"] == b["genre"]).all():
        raise RunError(f"{run_a.id} and {run_b.id} label some test clips with different genres.")
    clips = a[["genre", "path"]].reset_index()
    label_a, label_b = _labels(run_a, run_b)
    return compare_predictions(
        clips, a["predicted"].to_numpy(), b["predicted"].to_numpy(), run_a.genres, label_a, label_b, seed, n_resamples
    )


def _labels(run_a, run_b) -> tuple[str, str]:
    """Short names: the architecture, or the run id where both share it."""
    if run_a.arch != run_b.arch:
        return arch_label(run_a.arch), arch_label(run_b.arch)
    return run_a.id, run_b.id


def format_head_to_head(h: HeadToHead) -> str:
    """What `genrec compare` prints: the verdict, per-genre F1, confusion difference and disagreements."""
    lines = [
        f"A = {h.label_a}, B = {h.label_b}: {h.n} shared test clips",
        f"accuracy A {h.accuracy_a:.3f}, B {h.accuracy_b:.3f}, A - B {h.difference:+.3f}",
        (
            f"paired bootstrap 95 % interval of A - B: [{h.interval[0]:+.3f}, {h.interval[1]:+.3f}] "
            f"({h.n_resamples} resamples, seed {h.seed})"
        ),
        f"McNemar exact test: p = {h.p_value:.4g} ({h.only_a} clips only A gets right, {h.only_b} only B)",
        "",
        h.verdict(),
        "",
        "per-genre F1, A - B:",
        h.f1_difference.to_string(float_format=lambda v: f"{v:+.2f}"),
        "",
        "confusion matrix of A minus that of B (rows: true genre, columns: predicted):",
        h.confusion_difference.to_string(),
    ]
    dis = h.disagreements
    lines += ["", f"{len(dis)} test clip(s) where A and B predict different genres:"]
    for row in dis.itertuples(index=False):
        lines.append(
            f"  {row.track_id:<20} true {row.genre:<10} A {row.predicted_a:<10}{'✓' if row.correct_a else ' '} "
            f"B {row.predicted_b:<10}{'✓' if row.correct_b else ' '}  {row.path}"
        )
    return "\n".join(lines)
