"""Peak memory (RSS) of serving both models: a bare process, and the Streamlit app.

1. models: a FRESH process imports genrec, opens the two runs (tracks, embeddings, cosine index),
   loads the library table, loads both models, warms them up and answers one 30-s clip through
   ``compare`` -- current RSS (psutil) and peak RSS (VmHWM) after each step. Twice, side by side:
   with each run's own predictor (LiteRT where the run has predictor.tflite) and with Keras.
2. apptest: the Streamlit app (``app.py`` + ``views/``) executed by
   ``streamlit.testing.v1.AppTest`` in a fresh process with GENREC_RUNS pointing at the two runs:
   first render, then one full comparison of an uploaded clip (Compare page -> "Upload" -> the clip),
   which loads both models. Model loads are counted by wrapping ``genrec.serve.recommend.load_predictor``.
3. server: the real server (``streamlit run app.py --server.headless true``): RSS of the server
   process after start-up, after a plain HTTP request of the page (which runs no script), and after
   one script run requested over the app's websocket (what a browser does on page load). Driving an
   upload through the real server's websocket protocol is not attempted (headless Chromium is not
   installed here); the figure "after one comparison" is therefore the AppTest one, and the server's
   is estimated as its page-load RSS plus the comparison's increment measured with AppTest.
4. sessions: the real server with ``--sessions`` (default 6) concurrent headless-Chromium sessions
   (Debian's /usr/bin/chromium driven by playwright), each uploading the clip and waiting for both
   models' answers; the server's peak RSS (VmHWM) and its RSS afterwards.

Parts 1, 2 and 4 run once per predictor (``--predictors``, default float and 8-bit: GENREC_PREDICTOR),
side by side in one run of the script; part 1 also with Keras.

Everything is compared with the ~1 GB memory budget of a Streamlit Community Cloud app.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks import measure, report, workspace
from tools import app_server
from tools.app_server import CHROMIUM, CHROMIUM_ARGS

BUDGET_MB = 1024


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    workspace.add_run_args(p, train_epochs=2)
    p.add_argument("--clip", help="the query clip (default: the first clip of the runs' library)")
    p.add_argument("--app", default=str(workspace.PROJECT / "app.py"), help="the Streamlit app (default app.py)")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: models, apptest, server, sessions")
    p.add_argument("--predictors", default="float,int8", help="GENREC_PREDICTOR values to compare (default float,int8)")
    p.add_argument("--sessions", type=int, default=6, help="concurrent browser sessions in part 4 (default 6)")
    p.add_argument("--timeout", type=int, default=600, help="seconds allowed for each app step (default 600)")
    workspace.add_keep_arg(p)
    p.add_argument("--data-home", help="use this GENREC_HOME (e.g. the given runs' one) instead of a fresh one")
    workspace.add_json_arg(p)
    p.add_argument(
        "--build",
        metavar="LIBRARY",
        help="instead: peak RSS of a whole `genrec build --library LIBRARY --weights none` (the build and "
        "every process it starts), per stage",
    )
    p.add_argument("--build-args", default="", help="extra `genrec build` arguments for --build (one string)")
    p.add_argument("--_child", choices=["models", "apptest"], help=argparse.SUPPRESS)
    p.add_argument("--_args", help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------- child: bare models
def _mark(stages: list, name: str) -> None:
    import gc

    gc.collect()
    stages.append({"step": name, "rss_mb": measure.rss_mb(), "peak_mb": measure.peak_rss_mb(), **measure.rss_split()})


def child_models(vgg: str, resnet: str, clip: str, runtime: str = "auto") -> dict:
    """``runtime`` "auto", "float" or "int8": that GENREC_PREDICTOR setting (LiteRT files); "keras": Keras."""
    if runtime != "keras":
        os.environ["GENREC_PREDICTOR"] = runtime
    stages: list = []
    _mark(stages, "interpreter + numpy/psutil")
    from genrec.runs.reader import Run
    from genrec.serve.recommend import Recommender, compare

    _mark(stages, "import genrec.serve.recommend")
    recs = [Recommender(Run.open(vgg)), Recommender(Run.open(resnet))]
    if runtime == "keras":
        from genrec.model.predict import KerasPredictor

        for r in recs:  # replaces the lazily chosen predictor (a cached_property) with the Keras one
            r.__dict__["_predictor"] = KerasPredictor(r.run.load_model())
    from genrec.data.library import load_library

    lib = recs[0].run.library
    spec = "demo" if lib.synthetic else lib.root
    library = load_library(spec) if spec == "demo" or Path(spec).is_dir() else None
    _mark(stages, "2 runs opened: tracks, embeddings, index; library table")
    for r in recs:
        r._predictor  # noqa: B018  (loads the model)
    _mark(stages, f"both models loaded ({', '.join(sorted({type(r._predictor).__name__ for r in recs}))})")
    for r in recs:
        r.warm_up()
    _mark(stages, "both models warmed up (forward traced)")
    answers, shared = compare(recs, source=Path(clip), k=5)
    _mark(stages, "one compare() of a 30-s clip")
    for _ in range(3):
        compare(recs, source=Path(clip), k=5)
    _mark(stages, "after 3 more queries")
    return {
        "stages": stages,
        "index_sizes": [len(r.index) for r in recs],
        "tensorflow": "tensorflow" in sys.modules,
        "library_tracks": None if library is None else len(library.tracks),
        "answer": [(a.arch, a.genre) for a in answers],
        "shared": shared,
    }


# --------------------------------------------------------------------------- child: AppTest
def child_apptest(app: str, clip: str, timeout: int) -> dict:
    import genrec.serve.recommend as REC

    loads = []
    original = REC.load_predictor

    def counting(run):
        predictor = original(run)
        loads.append(f"{run.id}: {type(predictor).__name__}")
        return predictor

    REC.load_predictor = counting
    stages: list = []
    _mark(stages, "interpreter")
    from streamlit.testing.v1 import AppTest

    _mark(stages, "import streamlit")

    os.chdir(Path(app).parent)  # the app refers to views/ relative to its folder
    at = AppTest.from_file(app, default_timeout=timeout)
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    _mark(stages, "first render of the app")
    out = {"stages": stages, "first_render_s": first, "model_loads": loads, "problems": _problems(at), "steps": []}

    # One full comparison: switch the query source to "upload" and upload the clip.
    try:
        seg = (
            [w for w in at.get("button_group") if getattr(w, "key", None) == "query_source"]
            if hasattr(at, "get")
            else []
        )
        if not seg:
            seg = [w for w in getattr(at, "segmented_control", []) if getattr(w, "key", None) == "query_source"]
        if seg:
            seg[0].set_value("upload")
            at.run()
            out["steps"].append("query source -> upload")
        uploaders = list(at.file_uploader)
        if not uploaders:
            out["steps"].append("no file uploader found on the first page; no comparison made")
            out["problems"] += _problems(at)
            return out
        data = Path(clip).read_bytes()
        uploaders[0].set_value((Path(clip).name, data, "audio/wav"))
        t = time.perf_counter()
        at.run()
        out["comparison_s"] = time.perf_counter() - t
        out["steps"].append(f"uploaded {Path(clip).name} ({len(data) / 1e6:.1f} MB)")
        _mark(stages, "after one comparison of an uploaded clip")
        metrics = [(m.label, m.value) for m in at.metric]
        out["metrics_shown"] = metrics
        # the same clip again: answered from the app's caches
        at.run()
        _mark(stages, "after a rerun with the same clip")
    except Exception as exc:  # the app is being written; report rather than crash
        out["steps"].append(f"driving the app failed: {type(exc).__name__}: {exc}")
    out["model_loads"] = loads
    out["problems"] += _problems(at)
    return out


def _problems(at) -> list[str]:
    found = []
    for e in getattr(at, "exception", []):
        found.append(f"exception: {str(getattr(e, 'value', e))[:300]}")
    for e in getattr(at, "error", []):
        found.append(f"st.error: {str(getattr(e, 'value', e))[:300]}")
    return found


# --------------------------------------------------------------------------- real server
def _server_peak_mb(pid: int) -> float | None:
    """VmHWM (peak RSS) of the server process from /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _websocket_page_load(port: int, timeout: int) -> dict:
    """Open the app's websocket and request one script run, as a browser does on page load."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    info = {"elements": 0, "errors": []}
    with connect(
        f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], open_timeout=30, max_size=None
    ) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_script_hash = ""
        ws.send(msg.SerializeToString())
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                raw = ws.recv(timeout=max(1.0, deadline - time.time()))
            except TimeoutError:
                break
            if isinstance(raw, str):
                continue
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "delta":
                info["elements"] += 1
                el = fwd.delta.new_element
                if el.WhichOneof("type") in ("exception", "alert") and (
                    el.WhichOneof("type") == "exception" or el.alert.format == 1
                ):
                    body = el.exception.message if el.WhichOneof("type") == "exception" else el.alert.body
                    info["errors"].append(body[:300])
            if kind == "script_finished":
                info["script_finished"] = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                break
    return info


def measure_server(app: str, env: dict, timeout: int) -> dict:
    """RSS of a real server: started, after an HTTP GET of the page, after one script run over the websocket."""
    import requests

    log = Path(env["GENREC_HOME"]) / "streamlit-server.log"
    out: dict = {"log": str(log)}
    t = time.perf_counter()
    try:
        with app_server.serve(app, env=env, log=log, cwd=Path(app).parent) as (url, proc):
            port = urlsplit(url).port
            out["cmd"] = " ".join(["streamlit", *app_server.streamlit_command(app, port)[3:]])
            out["startup_s"] = time.perf_counter() - t
            time.sleep(1)
            out["rss_started_mb"] = sum(measure.tree_rss_mb(proc.pid))
            page = requests.get(f"{url}/", timeout=30)
            out["page_status"] = page.status_code
            time.sleep(1)
            out["rss_after_http_get_mb"] = sum(measure.tree_rss_mb(proc.pid))
            t = time.perf_counter()
            out["websocket"] = _websocket_page_load(port, timeout)
            out["script_run_s"] = time.perf_counter() - t
            time.sleep(1)
            out["rss_after_page_load_mb"] = sum(measure.tree_rss_mb(proc.pid))
            out["peak_mb"] = _server_peak_mb(proc.pid)
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    with contextlib.suppress(OSError):
        out["log_tail"] = log.read_text(errors="replace")[-1500:]
    return out


def measure_sessions(app: str, env: dict, clip: str, sessions: int, timeout: int) -> dict:
    """Peak RSS of a real server while ``sessions`` headless-Chromium pages each upload ``clip`` at once."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"error": "the 'playwright' package is not installed (requirements-dev.txt)"}
    if not CHROMIUM.exists():
        return {"error": f"{CHROMIUM} not found (Debian package 'chromium', .ci/install-browser.sh)"}
    log = Path(env["GENREC_HOME"]) / "streamlit-sessions.log"
    out: dict = {}
    try:
        with app_server.serve(app, env=env, log=log, cwd=Path(app).parent) as (url, proc):
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                pages = [browser.new_context().new_page() for _ in range(sessions)]
                for page in pages:
                    page.goto(f"{url}/", wait_until="domcontentloaded")
                for page in pages:
                    # the query-source control's button (its text is an icon ligature, then "Upload")
                    upload = page.locator("button", has_text="Upload").first
                    upload.wait_for(timeout=timeout * 1000)
                    upload.click()
                for page in pages:
                    page.locator("input[type=file]").wait_for(state="attached", timeout=timeout * 1000)
                out["rss_before_mb"] = sum(measure.tree_rss_mb(proc.pid))
                t = time.perf_counter()
                for page in pages:  # all uploads first, so the sessions' script runs overlap on the server
                    page.locator("input[type=file]").set_input_files(clip)
                answered = 0
                for page in pages:
                    page.get_by_text("Top-5 recommendations").nth(1).wait_for(timeout=timeout * 1000)
                    answered += 1
                out["sessions_s"] = time.perf_counter() - t
                out["answered"] = answered
                browser.close()
            time.sleep(1)
            out["rss_after_mb"] = sum(measure.tree_rss_mb(proc.pid))
            out["peak_mb"] = _server_peak_mb(proc.pid)
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {str(exc)[:500]}"
        out["log_tail"] = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    return out


# --------------------------------------------------------------------------- parent
def spawn_child(kind: str, payload: dict, env: dict, timeout: int) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--_child", kind, "--_args", json.dumps(payload)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(workspace.PROJECT),
        timeout=timeout,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if not line:
        return {"error": f"child '{kind}' failed (rc {proc.returncode}): {proc.stderr[-2500:]}"}
    return json.loads(line[7:])


def print_stages(stages: list) -> None:
    rows = [
        {
            "step": s["step"],
            "rss_MB": s["rss_mb"],
            "anon_MB": s.get("anon_mb"),
            "file_MB": s.get("file_mb"),
            "peak_rss_MB": s["peak_mb"],
            "peak_vs_1GB": f"{100 * s['peak_mb'] / BUDGET_MB:.0f}%",
        }
        for s in stages
    ]
    print(report.table(rows, ["step", "rss_MB", "anon_MB", "file_MB", "peak_rss_MB", "peak_vs_1GB"], "{:.0f}"))
    print(
        "   (rss = anon + file: anon is private memory -- weights, tensors, Python objects; file is mapped "
        "library code, e.g. TensorFlow's .so files, shareable and reclaimable)"
    )


def main(argv=None) -> int:
    a = parse_args(argv)
    if a._child:
        payload = json.loads(a._args)
        workspace.quiet_tensorflow()
        result = child_models(**payload) if a._child == "models" else child_apptest(**payload)
        print("RESULT " + json.dumps(result, default=str), flush=True)
        return 0

    home = workspace.setup_home(a.keep)
    if a.data_home:  # the runs' own library (the synthetic demo) is read, not generated again
        os.environ["GENREC_HOME"] = str(Path(a.data_home).resolve())
    if a.build:
        from benchmarks import _build_memory

        report.header("genrec benchmark: peak memory of a whole `genrec build`, per stage")
        result = _build_memory.main(a.build, a.build_args.split())
        report.dump_json(a.json, {"build": result})
        return 0 if result["exit"] == 0 else 1
    report.header("genrec benchmark: peak memory of both models, bare and in the Streamlit app")
    workspace.quiet_tensorflow()
    skip = {s.strip() for s in a.skip.split(",") if s.strip()}
    vgg, resnet, how = workspace.runs_from_args(a)
    clip = Path(a.clip).resolve() if a.clip else workspace.first_clip(vgg)
    # The app reads every run under GENREC_RUNS: give it a folder holding exactly these two.
    runs_dir = home / "app-runs"
    runs_dir.mkdir(exist_ok=True)
    for r in (vgg, resnet):
        if not (runs_dir / r.name).exists():
            (runs_dir / r.name).symlink_to(r, target_is_directory=True)
    env = {**os.environ, "GENREC_RUNS": str(runs_dir)}
    print(f"runs:     {vgg.name} / {resnet.name} ({how})")
    print(f"clip:     {clip}")
    print(f"budget:   {BUDGET_MB} MB (the ~1 GB memory of a Streamlit Community Cloud app)\n", flush=True)
    raw: dict = {"runs": [str(vgg), str(resnet)], "clip": str(clip)}

    predictors = [x.strip() for x in a.predictors.split(",") if x.strip()]
    if "models" not in skip:
        peaks = {}
        for runtime in (*predictors, "keras"):
            title = f"GENREC_PREDICTOR={runtime}" if runtime != "keras" else "Keras predictors (TensorFlow)"
            print(
                f"1. bare process, {title}: both Recommenders with models loaded and warmed, library index", flush=True
            )
            res = spawn_child(
                "models",
                {"vgg": str(vgg), "resnet": str(resnet), "clip": str(clip), "runtime": runtime},
                env,
                a.timeout,
            )
            raw[f"models_{runtime}"] = res
            if "error" in res:
                print("   FAILED: " + res["error"])
                continue
            print_stages(res["stages"])
            print(
                f"   index: {res['index_sizes']} tracks per run; library table {res['library_tracks']} tracks; "
                f"TensorFlow imported: {res['tensorflow']}"
            )
            peaks[runtime] = max(s["peak_mb"] for s in res["stages"])
            print(
                f"   PEAK RSS bare (both models + index, after queries): {peaks[runtime]:.0f} MB "
                f"= {100 * peaks[runtime] / BUDGET_MB:.0f}% of 1 GB\n"
            )
        for runtime in predictors:
            if runtime in peaks and "keras" in peaks:
                print(
                    f"   peak RSS Keras / {runtime} = {peaks['keras']:.0f} / {peaks[runtime]:.0f} MB "
                    f"= {peaks['keras'] / peaks[runtime]:.2f}x"
                )

    app = Path(a.app)
    if not app.is_file():
        print(f"2./3. Streamlit app: {app} not found -- skipped (the app is not written yet).")
        skip |= {"apptest", "server"}

    for predictor in predictors if "apptest" not in skip else ():
        print(
            f"2. Streamlit app under AppTest (fresh process, GENREC_PREDICTOR={predictor}): first render, then "
            "one uploaded-clip comparison",
            flush=True,
        )
        res = spawn_child(
            "apptest",
            {"app": str(app), "clip": str(clip), "timeout": a.timeout},
            {**env, "GENREC_PREDICTOR": predictor},
            3 * a.timeout,
        )
        raw[f"apptest_{predictor}"] = res
        raw.setdefault("apptest", res)
        if "error" in res:
            print("   FAILED: " + res["error"])
        else:
            print_stages(res["stages"])
            print(
                f"   first render {res['first_render_s']:.1f} s; comparison "
                f"{res.get('comparison_s', float('nan')):.1f} s; models loaded: {len(res['model_loads'])} "
                f"({', '.join(res['model_loads']) or 'none'})"
            )
            print(f"   steps: {'; '.join(res['steps'])}")
            if res.get("metrics_shown"):
                print(f"   metrics shown: {res['metrics_shown']}")
            for p in dict.fromkeys(res["problems"]):
                print(f"   PROBLEM on the page: {p}")
            peak = max(s["peak_mb"] for s in res["stages"])
            print(
                f"   PEAK RSS AppTest, GENREC_PREDICTOR={predictor} (app + both models after one comparison): "
                f"{peak:.0f} MB = {100 * peak / BUDGET_MB:.0f}% of 1 GB\n"
            )

    if "server" not in skip:
        print("3. real server: streamlit run app.py --server.headless true", flush=True)
        res = measure_server(str(app), env, a.timeout)
        raw["server"] = res
        if "error" in res:
            print(f"   FAILED: {res['error']}")
        rows = [
            {"state": k, "rss_MB": res.get(v)}
            for k, v in (
                ("server started (health OK)", "rss_started_mb"),
                ("after HTTP GET / (no script run)", "rss_after_http_get_mb"),
                ("after one page load over the websocket", "rss_after_page_load_mb"),
                ("server peak (VmHWM)", "peak_mb"),
            )
            if res.get(v) is not None
        ]
        if rows:
            print(report.table(rows, ["state", "rss_MB"], "{:.0f}"))
        ws = res.get("websocket") or {}
        print(
            f"   start-up {res.get('startup_s', float('nan')):.1f} s; page-load script run "
            f"{res.get('script_run_s', float('nan')):.1f} s, {ws.get('elements', 0)} elements, "
            f"finished={ws.get('script_finished')}; errors on the page: {ws.get('errors') or 'none'}"
        )
        app_res = raw.get("apptest") or {}
        st_ = {s["step"]: s for s in app_res.get("stages", [])}
        first, after = st_.get("first render of the app"), st_.get("after one comparison of an uploaded clip")
        if res.get("rss_after_page_load_mb") and first and after:
            est = res["rss_after_page_load_mb"] + (after["peak_mb"] - first["rss_mb"])
            raw["server_estimate_after_comparison_mb"] = est
            print(
                f"   ESTIMATED server RSS after one comparison = page-load RSS {res['rss_after_page_load_mb']:.0f}"
                f" + comparison increment under AppTest {after['peak_mb'] - first['rss_mb']:.0f} = {est:.0f} MB "
                f"= {100 * est / BUDGET_MB:.0f}% of 1 GB"
            )
        if res.get("error") and res.get("log_tail"):
            print("   server log tail:\n" + "\n".join("     " + ln for ln in res["log_tail"].splitlines()[-15:]))
    for predictor in predictors if "sessions" not in skip else ():
        print(
            f"4. real server, {a.sessions} concurrent browser sessions each uploading the clip "
            f"(GENREC_PREDICTOR={predictor})",
            flush=True,
        )
        res = measure_sessions(str(app), {**env, "GENREC_PREDICTOR": predictor}, str(clip), a.sessions, a.timeout)
        raw[f"sessions_{predictor}"] = res
        if "error" in res:
            print(f"   FAILED: {res['error']}")
            if res.get("log_tail"):
                print("   server log tail:\n" + "\n".join("     " + ln for ln in res["log_tail"].splitlines()[-10:]))
            continue
        print(
            f"   {res['answered']}/{a.sessions} sessions answered by both models in {res['sessions_s']:.1f} s; "
            f"server RSS before {res['rss_before_mb']:.0f} MB, after {res['rss_after_mb']:.0f} MB; "
            f"PEAK RSS (VmHWM) {res['peak_mb']:.0f} MB = {100 * res['peak_mb'] / BUDGET_MB:.0f}% of 1 GB\n"
        )
    report.dump_json(a.json, raw)
    return 0


if __name__ == "__main__":
    report.run_script(main)
