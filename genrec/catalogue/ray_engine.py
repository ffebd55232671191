"""The Ray Data engine (``--engine ray``): the same embedding as a Ray Data pipeline.

File paths go in (:func:`ray.data.from_items`); decoding and spectrograms run in
``map_batches`` tasks; an actor pool holds one predictor per actor; results come
back to this process, where the same catalogue writer as the local engine's
stores them. On a cluster (``--address ray://host:10001`` or ``auto``) every
node needs genrec installed and must see the audio files and the run folder at
the same paths (shared storage).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from genrec.catalogue import embed
from genrec.catalogue.embed import Analysis, Job, Result
from genrec.catalogue.local import Sink
from genrec.errors import CatalogueError

#: Memory one decoding task reserves: a batch of 30-s windows, their spectrograms and images.
DECODE_MEMORY = 512 * 2**20


def _ray() -> Any:
    try:
        import ray  # noqa: PLC0415 - optional extra (genrec[ray]), imported only by --engine ray
        import ray.data  # noqa: PLC0415 - optional extra (genrec[ray]), imported only by --engine ray
    except ImportError as exc:
        raise CatalogueError(
            "--engine ray needs Ray Data, which is not installed: "
            "pip install 'genrec[ray]' (or pip install 'ray[data]')."
        ) from exc
    return ray


def _check_room(workers: int, cpus: float) -> None:
    """Refuse more predictor actors than leave a CPU for decoding: each actor holds one CPU for the whole
    build, so with none left the decoding tasks never start and the build waits forever."""
    if cpus <= 1:
        raise CatalogueError(
            f"the Ray cluster has {cpus:g} CPU: the predictor actor and the decoding need at least 2. "
            f"Use --engine local on this machine."
        )
    if workers >= cpus:
        fit = max(1, int(cpus) - 1)  # a fractional 1.5 CPUs still fits one actor
        raise CatalogueError(
            f"--workers {workers}: each predictor actor holds one of the Ray cluster's {cpus:g} CPUs, so none "
            f"would be left to decode the audio and the build would never finish. Use --workers {fit}"
            f"{' or fewer' if fit > 1 else ''}, or a cluster with more CPUs."
        )


def decode_batch(batch: dict[str, np.ndarray], analysis: Analysis) -> dict[str, np.ndarray]:
    """Ray task: decode a batch of files into uint8 images (zeros and a reason for bad files)."""
    decoded = [embed.decode_error(path, analysis) for path in batch["path"]]
    # Every row has the run's image shape (zeros for a bad file), so blocks concatenate.
    images = np.zeros((len(decoded), *analysis.image_shape), dtype=np.uint8)
    for row, (imgs, _) in enumerate(decoded):
        if imgs is not None:
            images[row] = imgs
    return {
        "digest": batch["digest"],
        "images": images,
        "error": np.array([error for _, error in decoded], dtype=object),
    }


class PredictBatch:
    """Ray actor: one predictor per actor, loaded once, answering decoded batches."""

    def __init__(self, run_path: str, dims: tuple[int, int]) -> None:
        self.predictor = embed.run_predictor(run_path)
        self.dims = dims  # (classes, embedding units): bad rows get zeros of the same shape

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = np.array([not e for e in batch["error"]], dtype=bool)
        digests = [str(d) for d in batch["digest"]]
        results = {
            r.digest: r
            for r in embed.predict(
                self.predictor, [d for d, good in zip(digests, ok) if good], list(batch["images"][ok])
            )
        }
        probs = np.zeros((len(digests), self.dims[0]), np.float32)
        embs = np.zeros((len(digests), self.dims[1]), np.float32)
        for row, digest in enumerate(digests):
            if digest in results:
                probs[row], embs[row] = results[digest].probabilities, results[digest].embedding
        return {"digest": batch["digest"], "error": batch["error"], "probabilities": probs, "embedding": embs}


def run_ray(
    jobs: list[Job],
    run_path: str,
    analysis: Analysis,
    sink: Sink,
    *,
    dims: tuple[int, int],
    workers: int = 1,
    batch_size: int = 8,
    address: str | None = None,
) -> None:
    """Embed ``jobs`` on Ray (a local Ray unless ``address`` names a cluster); results go to ``sink``."""
    ray = _ray()
    started = not ray.is_initialized()
    if started:
        # Workers import the same genrec as this process (an uninstalled checkout included).
        env = {"env_vars": {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}} if address is None else None
        ray.init(
            address=address, runtime_env=env, include_dashboard=False, log_to_driver=False, configure_logging=False
        )
    try:
        _check_room(workers, ray.cluster_resources().get("CPU", 0))
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the writer's progress bar is the one shown
        ds = ray.data.from_items([{"path": j.path, "digest": j.digest} for j in jobs])
        # The memory reservation also keeps decoding in its own tasks: with the actors' remote args
        # Ray Data would fuse it into the predictor actors, and decoding would then scale with the
        # number of actors instead of the cluster's CPUs.
        ds = ds.map_batches(
            decode_batch,
            fn_kwargs={"analysis": analysis},
            batch_size=batch_size,
            batch_format="numpy",
            memory=DECODE_MEMORY,
        )
        ds = ds.map_batches(
            PredictBatch,
            fn_constructor_kwargs={"run_path": str(run_path), "dims": dims},
            batch_size=batch_size,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=max(1, workers)),
        )
        for batch in ds.iter_batches(batch_size=batch_size, batch_format="numpy"):
            sink(
                [
                    Result(str(d), None, None, str(e)) if e else Result(str(d), p, v)
                    for d, e, p, v in zip(batch["digest"], batch["error"], batch["probabilities"], batch["embedding"])
                ]
            )
    finally:
        if started:
            ray.shutdown()
