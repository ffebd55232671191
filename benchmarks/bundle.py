"""Trained runs that travel (issue 19): packed size per predictor choice, and a fresh app's first answer.

* **Size:** ``genrec runs pack`` of the two runs with each predictor choice: what ``auto`` answers with
  (the default), float only, ``--all-predictors``, and ``--all-predictors --keras``.
* **First answer:** the real server (``streamlit run app.py``) with an empty runs folder and
  ``GENREC_RUNS_URL`` naming the default bundle on a local HTTP server; headless Chromium opens the page
  (the start-up pull), switches to "Upload", uploads one clip and waits for both models' answers. The clock
  runs from starting the server to the answers on the page. Memory, sampled every 0.1 s over the pull and the
  first answer: the peak of the process tree's summed RSS, of the server's own RSS, and of the tree's summed
  PSS (a forked child's pages shared with the server counted once, as the machine counts them).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks import measure, report, workspace
from tools.app_server import CHROMIUM, CHROMIUM_ARGS, serve

PROJECT = workspace.PROJECT


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    workspace.add_run_args(p, train_epochs=2)
    p.add_argument("--clip", help="the clip to upload (default: the first audio file of the runs' library)")
    p.add_argument("--skip-app", action="store_true", help="measure the sizes only")
    workspace.add_keep_arg(p)
    workspace.add_json_arg(p)
    return p.parse_args(argv)


def pack_sizes(runs: list[Path], out: Path) -> list[dict]:
    """The bundle's size for each predictor choice."""
    from genrec.model.predict import QUANTIZED_FILE
    from genrec.runs.bundle import pack

    float_only = out / "float-only"
    for run in runs:  # the runs without their 8-bit file: auto then packs the float predictor
        shutil.copytree(run, float_only / run.name, ignore=shutil.ignore_patterns(QUANTIZED_FILE, "*.json.tmp"))
    choices = [
        ("auto (default)", runs, {}),
        ("float only", [float_only / r.name for r in runs], {}),
        ("--all-predictors", runs, {"all_predictors": True}),
        ("--all-predictors --keras", runs, {"all_predictors": True, "keras": True}),
    ]
    rows = []
    for label, paths, options in choices:
        t = time.perf_counter()
        packed = pack(paths, out / f"{len(rows)}.tar.gz", **options)
        rows.append({"choice": label, "MB": packed.size / 1e6, "pack_s": time.perf_counter() - t})
    return rows


def first_answer(archive: Path, clip: Path, work: Path) -> dict:
    """Seconds from starting the server to the first answered upload, and the server's peak RSS."""
    from playwright.sync_api import expect, sync_playwright

    handler = partial(SimpleHTTPRequestHandler, directory=str(archive.parent))
    handler.log_message = lambda *a: None
    files = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=files.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{files.server_address[1]}/{archive.name}"
    env = {
        **os.environ,
        "GENREC_RUNS": str(work / "models"),
        "GENREC_HOME": str(work / "home"),
        "GENREC_RUNS_URL": url,
    }
    peak, own, pss, done = [0.0], [0.0], [0.0], threading.Event()
    t0 = time.perf_counter()
    try:
        with serve("app.py", env=env, log=work / "streamlit.log", cwd=PROJECT, timeout=120) as (app, proc):

            def sample() -> None:
                while not done.is_set():
                    with contextlib.suppress(Exception):  # the process tree changed meanwhile
                        sizes = measure.tree_rss_mb(proc.pid)
                        peak[0], own[0] = max(peak[0], sum(sizes)), max(own[0], sizes[0])
                        pss[0] = max(pss[0], measure.tree_pss_mb(proc.pid))
                    time.sleep(0.1)

            threading.Thread(target=sample, daemon=True).start()
            healthy = time.perf_counter() - t0
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(app, wait_until="domcontentloaded")
                page.get_by_role("heading", name="Compare VGG16 and ResNet50").wait_for(timeout=300_000)
                compare_s = time.perf_counter() - t0
                main = page.locator("[data-testid=stMain]")
                main.get_by_role("radio", name="Upload").click()
                page.locator("input[type=file]").set_input_files(str(clip))
                expect(page.locator("[data-testid=stMetricValue]")).to_have_count(5, timeout=300_000)
                answered = time.perf_counter() - t0
                browser.close()
            done.set()
    finally:
        files.shutdown()
    return {
        "server_healthy_s": healthy,
        "compare_page_s": compare_s,
        "first_answer_s": answered,
        "peak_rss_gb": peak[0] / 1024,
        "server_alone_peak_rss_gb": own[0] / 1024,
        "peak_pss_gb": pss[0] / 1024,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    home = report.start("Trained runs that travel: bundle size and the first answer after a pull", args.keep, argv)
    vgg, resnet, how = workspace.runs_from_args(args)
    print(f"runs: {vgg.name}, {resnet.name} ({how})\n")
    out = home / "bundles"
    out.mkdir(parents=True, exist_ok=True)
    sizes = pack_sizes([vgg, resnet], out)
    print(report.table(sizes, floatfmt="{:.1f}"))
    payload: dict = {"runs": how, "sizes": sizes}
    if not args.skip_app:
        clip = Path(args.clip) if args.clip else workspace.first_clip(vgg)
        timing = first_answer(out / "0.tar.gz", clip, home / "app")
        print("\nfresh app with GENREC_RUNS_URL (auto bundle) on a local HTTP server:")
        print(report.table([timing], floatfmt="{:.2f}"))
        payload["app"] = timing
    report.dump_json(args.json, payload)
    return 0


if __name__ == "__main__":
    report.run_script(main)
