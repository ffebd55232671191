"""``build_catalogue``: scan a folder, embed what is new, and write the catalogue.

Embeddings are keyed by file content within a run, so a build interrupted at
any point resumes where it stopped, a rebuild after adding files embeds only
the new ones, and identical files are embedded once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from genrec.catalogue.embed import Analysis, Job, Result
from genrec.catalogue.local import run_local
from genrec.catalogue.ray_engine import run_ray
from genrec.catalogue.scan import scan
from genrec.catalogue.store import (
    Catalogue,
    EmbeddingCache,
    catalogues_dir,
    check_name,
    default_name,
    write_catalogue,
)
from genrec.errors import CatalogueError
from genrec.runs.reader import Run
from genrec.search.index import EXACT_LIMIT, AnnIndex, ExactIndex, VectorIndex, choose_kind
from genrec.utils.progress import ProgressFn, silent

ENGINES = ("local", "ray")
EMBED_STAGE = "embedding"
INDEX_STAGE = "search index"


@dataclass
class BuildReport:
    """What a build did: the catalogue, how many files were embedded now or reused, and what was skipped."""

    catalogue: Catalogue
    embedded: int
    reused: int
    skipped: list[tuple[str, str]]
    seconds: float


def build_catalogue(
    run: Run,
    folder: Path | str,
    name: str | None = None,
    *,
    workers: int = 1,
    engine: str = "local",
    address: str | None = None,
    index: str = "auto",
    batch_size: int = 8,
    exact_limit: int = EXACT_LIMIT,
    progress: ProgressFn = silent,
) -> BuildReport:
    """Embed every audio file under ``folder`` with ``run``'s predictor into catalogue ``name``."""
    started = time.perf_counter()
    folder = Path(folder).expanduser()
    name = _check_arguments(folder, name, engine, workers, batch_size, index)
    analysis = Analysis.of_run(run)
    entries, skipped = scan(folder, run.genres, progress)

    cache = EmbeddingCache(run.path)
    known = cache.load()
    reused = sum(e.digest in known for e in entries)
    jobs = list({e.digest: Job(str(e.path), e.digest) for e in entries if e.digest not in known}.values())
    engine_settings = {"name": engine, "workers": workers, "batch_size": batch_size, "address": address}
    failures = _embed(run, jobs, analysis, cache, engine_settings, progress)
    known = cache.load()

    good = [e for e in entries if e.digest in known]
    skipped = skipped + [(e.track_id, failures.get(e.digest, "not embedded")) for e in entries if e.digest not in known]
    if not good:
        raise CatalogueError(
            f"{folder}: no usable audio file was found ({len(skipped)} file(s) skipped"
            + (f", e.g. {skipped[0][0]}: {skipped[0][1]}" if skipped else "")
            + ")."
        )
    probs = np.stack([known[e.digest][0] for e in good])
    embeddings = np.stack([known[e.digest][1] for e in good])
    tracks = _tracks_table(good, np.array(run.genres), probs)
    search, index_record = _search_index(tracks, embeddings, index, exact_limit, progress)
    seconds = time.perf_counter() - started
    manifest = {
        "name": name,
        "run_id": run.id,
        "root": str(folder.resolve()),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "analysis": {
            "clip_seconds": analysis.clip_seconds,
            "chunk_seconds": analysis.chunk_seconds,
            "size": analysis.size,
        },
        "n_tracks": len(good),
        "n_skipped": len(skipped),
        "n_embedded_now": len(jobs) - len(failures),
        "index": index_record,
        "engine": engine_settings,
        "seconds": round(seconds, 2),
    }
    path = write_catalogue(catalogues_dir(run.path) / name, manifest, tracks, probs, embeddings, skipped, search)
    return BuildReport(Catalogue.open(path), len(jobs) - len(failures), reused, skipped, seconds)


def _check_arguments(folder: Path, name: str | None, engine: str, workers: int, batch_size: int, index: str) -> str:
    """Refuse a bad folder, name, engine or size before any work; return the catalogue's name."""
    if not folder.is_dir():
        raise CatalogueError(f"{folder}: no such folder. Give the folder holding the music to catalogue.")
    name = check_name(name or default_name(folder))
    if engine not in ENGINES:
        raise CatalogueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if workers < 1 or batch_size < 1:
        raise CatalogueError("--workers and --batch-size must be at least 1.")
    choose_kind(0, index)  # an impossible --index fails before any work
    return name


def _embed(
    run: Run, jobs: list[Job], analysis: Analysis, cache: EmbeddingCache, engine: dict, progress: ProgressFn
) -> dict:
    """Embed ``jobs`` into ``cache`` on the chosen engine; return each failed digest's error."""
    failures: dict[str, str] = {}
    done = 0

    def sink(results: list[Result]) -> None:
        nonlocal done
        cache.add(results)
        cache.flush()  # every finished batch is kept, so an interruption loses at most what is in flight
        failures.update((r.digest, r.error) for r in results if r.error)
        done += len(results)
        progress(EMBED_STAGE, done, len(jobs))

    workers, batch_size = engine["workers"], engine["batch_size"]
    progress(EMBED_STAGE, 0, len(jobs))
    try:
        if engine["name"] == "ray":
            dims = (len(run.genres), int(run.embeddings.shape[1]))
            run_ray(
                jobs,
                str(run.path),
                analysis,
                sink,
                dims=dims,
                workers=workers,
                batch_size=batch_size,
                address=engine["address"],
            )
        else:
            run_local(jobs, str(run.path), analysis, sink, workers=workers, batch_size=batch_size)
    finally:
        cache.flush()
    return failures


def _tracks_table(good: list, genres: np.ndarray, probs: np.ndarray) -> pd.DataFrame:
    """One row per catalogued track: its tags, the predicted genre and how sure the model is."""
    return pd.DataFrame(
        {
            "track_id": [e.track_id for e in good],
            "title": [e.title for e in good],
            "artist": [e.artist for e in good],
            "genre": [e.genre for e in good],
            "predicted_genre": genres[probs.argmax(axis=1)],
            "confidence": probs.max(axis=1).round(4),
            "digest": [e.digest for e in good],
        }
    )


def _search_index(
    tracks: pd.DataFrame, embeddings: np.ndarray, index: str, exact_limit: int, progress: ProgressFn
) -> tuple[VectorIndex, dict]:
    """Build the exact or approximate index ``index`` asks for, with the record the manifest keeps of it."""
    kind, reason = choose_kind(len(tracks), index, exact_limit)
    index_record = {"kind": kind, "requested": index, "exact_limit": exact_limit, "reason": reason}
    if kind == AnnIndex.kind:
        progress(INDEX_STAGE, 0, 1)  # minutes for a million tracks
        ann = AnnIndex()
        ann.add(tracks["track_id"].tolist(), embeddings)
        # The library, its settings and how well it does on this catalogue's own vectors, for `catalogue info`.
        index_record.update(ann.describe())
        progress(INDEX_STAGE, 1, 1)
        return ann, index_record
    return ExactIndex.build(tracks["track_id"].tolist(), embeddings), index_record
