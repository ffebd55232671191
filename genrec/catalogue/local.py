"""The local engine: processes on this machine (``--workers N``), the default.

One worker embeds in this process; more start a :class:`ProcessPoolExecutor`
whose processes each load the run's predictor once. Batches are handed out a
few at a time, so an interrupted build has little in flight and results reach
the writer (and the resumable cache) as they finish.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait

from genrec.catalogue import embed
from genrec.catalogue.embed import Analysis, Job, Result

Sink = Callable[[list[Result]], None]

_worker_predictor = None


def _init_worker(run_path: str) -> None:
    global _worker_predictor
    _worker_predictor = embed.run_predictor(run_path)


def _work(jobs: list[Job], analysis: Analysis) -> list[Result]:
    return embed.embed_jobs(_worker_predictor, jobs, analysis)


def run_local(
    jobs: list[Job], run_path: str, analysis: Analysis, sink: Sink, *, workers: int = 1, batch_size: int = 8
) -> None:
    """Embed ``jobs`` with ``workers`` processes, passing each finished batch's results to ``sink``."""
    batches = [jobs[i : i + batch_size] for i in range(0, len(jobs), batch_size)]
    if workers <= 1:
        predictor = embed.run_predictor(run_path)
        for batch in batches:
            sink(embed.embed_jobs(predictor, batch, analysis))
        return
    # spawn, not fork: a forked copy of a process with threads (LiteRT, tqdm) can deadlock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(str(run_path),)) as pool:
        pending: set[Future] = set()
        todo = iter(batches)
        try:
            while True:
                while len(pending) < 2 * workers and (batch := next(todo, None)) is not None:
                    pending.add(pool.submit(_work, batch, analysis))
                if not pending:
                    break
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    sink(future.result())
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
