"""Trained runs that travel: one archive packed anywhere (``genrec runs pack``), pulled anywhere
(``genrec runs pull``, and the app at start-up when ``GENREC_RUNS_URL`` is set).

A bundle is a ``.tar.gz`` holding :data:`MANIFEST` and one folder per run with what serving needs: the
records, the embeddings, the Grad-CAM head and the predictor ``auto`` answers with (both LiteRT files with
``all_predictors``; ``model.keras`` only with ``keras``). Never library audio: GTZAN is copyrighted, and the
synthetic demo library is regenerated from its seed instead (:func:`ensure_demo_audio`).

Everything in a bundle is untrusted. A pull verifies the archive's checksum (when given), extracts it with
:func:`genrec.data.download.extract_archive` (no traversal, links or devices) into a hidden folder inside the runs
folder, checks every file against the manifest (size and SHA-256, no file missing or extra), opens every run
like any run folder (:meth:`genrec.runs.reader.Run.open`) and loads its predictor; only then is each run renamed
into place. A source pulled before is recognised from :data:`PULLED_FILE` without downloading or extracting
it again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from genrec import __version__
from genrec.data.download import download_file, extract_archive
from genrec.data.library import load_demo
from genrec.errors import GenrecError, RunError
from genrec.model.predict import (
    LitePredictor,
    choose_predictor,
    lite_runtime_available,
)
from genrec.runs.layout import (
    AGREEMENT_FILE,
    HEAD_FILE,
    MODEL_KERAS,
    PREDICTOR_FILE,
    QUANTIZED_FILE,
    RECORD_FILES,
    RUN_JSON,
)
from genrec.runs.media import ROOTS_ENV
from genrec.runs.reader import Run, remove_stale_runs
from genrec.utils.fileio import atomic_write, file_digest, split_checksum
from genrec.utils.paths import data_home, runs_home
from genrec.utils.progress import ProgressFn, silent

log = logging.getLogger(__name__)

#: The bundle's table of contents, at the archive's top level.
MANIFEST = "genrec-bundle.json"
#: Bundle layout version this genrec writes and the newest it reads.
FORMAT_VERSION = 1
#: Every file name a bundle may hold for a run; anything else is refused.
ALLOWED_FILES = frozenset((*RECORD_FILES, HEAD_FILE, PREDICTOR_FILE, QUANTIZED_FILE, AGREEMENT_FILE, MODEL_KERAS))
#: In the runs folder: which sources were pulled, with the archive's digest and the runs it held.
PULLED_FILE = ".pulled.json"
#: In the runs folder while a pull runs, so sessions and processes pull one at a time; removed after it.
LOCK_FILE = ".pull.lock"
#: Hidden staging folders of pulls (``genrec.runs.reader.remove_stale_runs`` removes those a killed pull left).
STAGING_PREFIX = ".tmp-pull-"
#: Environment variable naming sources the app pulls at start-up (URLs or paths, each optionally followed
#: by ``sha256:HEX``; separated by spaces or newlines).
RUNS_URL_ENV = "GENREC_RUNS_URL"
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_BUNDLE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


class BundleError(GenrecError):
    """A bundle could not be packed or pulled: it names the archive, the file and the reason."""


# --------------------------------------------------------------------------- pack


def packed_files(run: Run, *, all_predictors: bool = False, keras: bool = False) -> list[str]:
    """The file names of ``run`` a bundle carries (see the module docstring)."""
    names = [*RECORD_FILES]
    if (run.path / HEAD_FILE).is_file():
        names.append(HEAD_FILE)
    choice = choose_predictor(run, setting="auto")
    if all_predictors:
        predictors = [PREDICTOR_FILE, QUANTIZED_FILE, AGREEMENT_FILE]
    elif choice.kind == "int8":  # the agreement record is what lets `auto` pick it on the other side
        predictors = [QUANTIZED_FILE, AGREEMENT_FILE]
    else:
        predictors = [PREDICTOR_FILE]
    names += [n for n in predictors if (run.path / n).is_file()]
    if keras or not any(n.endswith(".tflite") for n in names):  # without a LiteRT file only Keras answers
        names.append(MODEL_KERAS)
    return names


@dataclass(frozen=True)
class Packed:
    """What :func:`pack` wrote."""

    path: Path
    sha256: str
    size: int
    runs: tuple[str, ...]


def pack(runs: list[str | Path], out: Path | str, *, all_predictors: bool = False, keras: bool = False) -> Packed:
    """Write one ``.tar.gz`` bundle of ``runs`` (folders or run ids) to ``out`` atomically.

    Every run must open cleanly (:meth:`Run.open`); a BundleError names the one that does not.
    """

    out = Path(out)
    if not out.name.endswith(_BUNDLE_SUFFIXES):
        raise BundleError(f"{out}: name the bundle *.tar.gz (or .tgz, .tar).")
    if not runs:
        raise BundleError("Name at least one run to pack; `genrec runs` lists them.")
    opened, manifest_runs = [], {}
    for name in runs:
        try:
            run = Run.open(name)
        except GenrecError as exc:
            raise BundleError(f"Cannot pack {name}: {exc}") from exc
        if run.id in manifest_runs:
            raise BundleError(f"Cannot pack {name}: a run named {run.id} is already in this bundle.")
        files = packed_files(run, all_predictors=all_predictors, keras=keras)
        manifest_runs[run.id] = {
            "library": {
                "name": run.library.name,
                "kind": run.library.kind,
                "fingerprint": run.library.fingerprint,
            },
            "files": {f: {"size": (run.path / f).stat().st_size, "sha256": file_digest(run.path / f)} for f in files},
        }
        opened.append((run, files))
    manifest = {
        "format": FORMAT_VERSION,
        "genrec_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": manifest_runs,
    }
    mode = "w:gz" if out.name.endswith((".tar.gz", ".tgz")) else "w"

    def write(f) -> None:
        with tarfile.open(fileobj=f, mode=mode, format=tarfile.PAX_FORMAT) as tf:
            data = json.dumps(manifest, indent=2).encode()
            _add_bytes(tf, MANIFEST, data)
            for run, files in opened:
                for name in files:
                    tf.add(run.path / name, arcname=f"{run.id}/{name}", recursive=False, filter=_plain)

    atomic_write(out, write)
    return Packed(out, file_digest(out), out.stat().st_size, tuple(manifest_runs))


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:

    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
    tf.addfile(info, io.BytesIO(data))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Members without the packer's user names and ids, readable by whoever pulls them."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    return info


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """One thing to pull: a URL or a local archive, with the checksum it must have (or None)."""

    location: str
    checksum: str | None = None

    @property
    def is_url(self) -> bool:
        return urlparse(self.location).scheme in ("http", "https")


def parse_sources(text: str) -> list[Source]:
    """Sources from ``GENREC_RUNS_URL``'s text: locations separated by spaces or newlines, each optionally
    followed by ``sha256:HEX``."""
    sources: list[Source] = []
    for word in text.split():
        if word.lower().startswith("sha256:"):
            if not sources or sources[-1].checksum is not None:
                raise BundleError(f"{RUNS_URL_ENV}: {word} follows no source; write it after the URL it checks.")
            sources[-1] = Source(sources[-1].location, parse_checksum(word))
        else:
            sources.append(Source(word))
    return sources


def parse_checksum(text: str | None) -> str | None:
    """``sha256:HEX`` (or the bare hex) as lower-case hex; BundleError for anything else."""
    if not text:
        return None
    parts = split_checksum(text, "sha256")
    if parts is None or parts[0] != "sha256" or not _HEX64.fullmatch(parts[1]):
        raise BundleError(f"{text!r} is not a SHA-256 checksum; write sha256: and the 64 hex digits.")
    return parts[1]


def _archives_in(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(_BUNDLE_SUFFIXES))
    if not found:
        raise BundleError(f"{folder}: no bundles (*.tar.gz, *.tgz, *.tar) in this folder.")
    return found


# --------------------------------------------------------------------------- pull


@dataclass
class PullResult:
    """What :func:`pull` did for one archive."""

    source: str
    sha256: str = ""
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # already there with the same files
    cached: bool = False  # pulled before: nothing was downloaded or extracted

    def __str__(self) -> str:
        if self.cached:
            return f"{self.source}: pulled before; its runs ({', '.join(self.present)}) are in place"
        parts = [f"added {', '.join(self.added)}" if self.added else "", ""]
        if self.present:
            parts[1] = f"already there: {', '.join(self.present)}"
        return f"{self.source}: " + "; ".join(p for p in parts if p)


@contextlib.contextmanager
def pull_lock(root: Path) -> Iterator[None]:
    """Hold the runs folder's pull lock: one pull at a time across threads and processes.

    The lock is an flock on ``LOCK_FILE``, which the holder removes before letting go, so no lock file
    stays in the runs folder after a pull, whether it succeeded or failed. A waiter that then wins the
    removed file's lock sees that the name no longer points at it and locks the current file instead. The
    kernel drops the lock of a killed process, so it never goes stale (the file waits for the next pull).
    """
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _names(path, fd):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder before us removed it while we waited: lock the current one
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # before unlocking: whoever waits for this file retries on a new one
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the open file ``fd``."""
    try:
        linked = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (linked.st_dev, linked.st_ino) == (held.st_dev, held.st_ino)


def pull(
    source: str | Source,
    *,
    checksum: str | None = None,
    root: Path | None = None,
    progress: ProgressFn = silent,
) -> list[PullResult]:
    """Pull the runs of a bundle URL, a local bundle, or a folder of bundles into ``root`` (default: the runs
    folder); one :class:`PullResult` per archive. BundleError (naming archive, file and reason) on any fault,
    with nothing half-written left in ``root``. ``progress(stage, done_bytes, total_bytes)`` follows the
    download."""
    src = source if isinstance(source, Source) else Source(str(source), parse_checksum(checksum))
    root = Path(root) if root is not None else runs_home()
    with pull_lock(root):
        if src.is_url:
            return [_pull_url(src, root, progress)]
        path = Path(src.location).expanduser()
        if path.is_dir():
            if src.checksum:
                raise BundleError(f"{path}: a checksum checks one archive, not a folder of them.")
            return [_pull_local(Source(str(p)), root) for p in _archives_in(path)]
        if not path.is_file():
            raise BundleError(f"{src.location}: no such file, folder or http(s) URL.")
        return [_pull_local(src, root)]


def pulled_before(source: Source, root: Path | None = None) -> bool:
    """Whether ``source`` was pulled into ``root`` and its runs are all still there (nothing to do)."""
    root = Path(root) if root is not None else runs_home()
    if source.is_url:
        return _already_pulled(root, source.location, source.checksum) is not None
    path = Path(source.location).expanduser()
    if not path.is_file():
        return False
    st = path.resolve().stat()
    return _already_pulled(root, str(path.resolve()), source.checksum, [st.st_size, st.st_mtime_ns]) is not None


def install_archive(archive: Path, label: str, root: Path | None = None) -> PullResult:
    """Pull one local archive (an upload) with every check of :func:`pull`, without remembering it as a
    source; ``label`` names it in messages."""
    root = Path(root) if root is not None else runs_home()
    with pull_lock(root):
        return _install(Path(archive), label, None, root)


def _pulled(root: Path) -> dict:
    try:
        data = json.loads((root / PULLED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(root: Path, key: str, entry: dict) -> None:
    atomic_write(root / PULLED_FILE, json.dumps({**_pulled(root), key: entry}, indent=2))


def _already_pulled(root: Path, key: str, checksum: str | None, stamp: list | None = None) -> PullResult | None:
    """The earlier pull of ``key`` when its runs are all still there (and it matches checksum and stamp)."""
    entry = _pulled(root).get(key)
    if not isinstance(entry, dict) or not isinstance(entry.get("runs"), list):
        return None
    if checksum is not None and entry.get("sha256") != checksum:
        return None
    if stamp is not None and entry.get("stamp") != stamp:
        return None
    runs = [str(r) for r in entry["runs"]]
    if not all(_RUN_ID.fullmatch(r) and (root / r / RUN_JSON).is_file() for r in runs):
        return None
    return PullResult(key, str(entry.get("sha256", "")), present=runs, cached=True)


def bundle_cache() -> Path:
    """Where downloaded bundles wait until they are pulled (a cut download resumes from here)."""
    return data_home() / "bundles"


def _pull_url(src: Source, root: Path, progress: ProgressFn) -> PullResult:
    done = _already_pulled(root, src.location, src.checksum)
    if done is not None:
        return done

    name = Path(urlparse(src.location).path).name or "runs.tar.gz"
    if not name.endswith(_BUNDLE_SUFFIXES):
        name += ".tar.gz"
    # one cache file per URL, so a resumed download continues the same URL's bytes
    key = hashlib.sha256(src.location.encode()).hexdigest()[:12]
    dest = bundle_cache() / f"{key}-{name}"
    try:
        download_file(src.location, dest, checksum=src.checksum, progress=progress)
    except GenrecError as exc:  # its message names the URL already
        raise BundleError(str(exc) if src.location in str(exc) else f"{src.location}: {exc}") from exc
    try:
        result = _install(dest, src.location, src.checksum, root)
        _remember(root, src.location, {"sha256": result.sha256, "runs": result.added + result.present})
    finally:
        dest.unlink(missing_ok=True)  # pulled or refused: a bad archive must be fetched again
    result.source = src.location
    return result


def _pull_local(src: Source, root: Path) -> PullResult:
    path = Path(src.location).expanduser().resolve()
    st = path.stat()
    stamp = [st.st_size, st.st_mtime_ns]
    done = _already_pulled(root, str(path), src.checksum, stamp)
    if done is not None:
        return done
    result = _install(path, str(path), src.checksum, root)
    _remember(root, str(path), {"sha256": result.sha256, "runs": result.added + result.present, "stamp": stamp})
    return result


def _install(archive: Path, label: str, checksum: str | None, root: Path) -> PullResult:
    """Verify, extract, check and move in the runs of one archive (``label`` names it in messages)."""
    digest = file_digest(archive)
    if checksum is not None and digest != checksum:
        raise BundleError(f"{label}: checksum mismatch (sha256 expected {checksum}, got {digest}); nothing was pulled.")
    peeked = _peek_manifest(archive, label)
    if peeked is not None and all(_same_files(root / r, e["files"]) for r, e in peeked["runs"].items()):
        return PullResult(label, digest, present=list(peeked["runs"]))  # all here already: nothing to extract

    remove_stale_runs(root)  # staging folders of pulls that were killed long ago
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    try:
        folder = staging / "bundle"
        try:
            extract_archive(archive, folder, progress=False)
        except GenrecError as exc:
            raise BundleError(f"{label}: {exc}") from exc
        manifest = _read_manifest(folder, label)
        _check_files(folder, manifest, label)
        result = PullResult(label, digest)
        moves = []
        for run_id, entry in manifest["runs"].items():
            staged = folder / run_id
            _check_run(staged, label)
            if (root / run_id).exists():
                if not _same_files(root / run_id, entry["files"]):
                    raise BundleError(
                        f"{label}: a different run named {run_id} is already in {root}; move it away to pull this one."
                    )
                result.present.append(run_id)
            else:
                moves.append((staged, root / run_id))
        for staged, final in moves:
            os.chmod(staged, 0o755)
            os.rename(staged, final)
            result.added.append(final.name)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read_manifest(folder: Path, label: str) -> dict:
    """The extracted bundle's manifest, checked in shape; BundleError naming what is wrong."""
    path = folder / MANIFEST
    if not path.is_file() or path.is_symlink():
        raise BundleError(f"{label}: not a genrec bundle (no {MANIFEST}); make one with `genrec runs pack`.")
    try:
        text = path.read_text()
    except OSError as exc:
        raise BundleError(f"{label}: {MANIFEST} unreadable ({exc}); pack the runs again.") from exc
    return _parse_manifest(text, label)


def _peek_manifest(archive: Path, label: str) -> dict | None:
    """The manifest of a bundle written by :func:`pack` (its first member), read without extracting
    anything; None when the archive does not start with one (then the extraction's checks speak)."""
    try:
        with tarfile.open(archive, "r:*") as tf:
            first = tf.next()
            if first is None or first.name != MANIFEST or not first.isfile() or first.size > 1 << 20:
                return None
            text = tf.extractfile(first).read().decode()
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError, ValueError):
        return None
    return _parse_manifest(text, label)


def _parse_manifest(text: str, label: str) -> dict:
    """A manifest's JSON checked in shape (format version, run names, allowed files, sizes and digests)."""
    where = f"{label}: {MANIFEST}"
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BundleError(f"{where}: unreadable ({exc}); pack the runs again.") from exc
    if not isinstance(data, dict) or type(data.get("format")) is not int:
        raise BundleError(f"{where}: has no format version; pack the runs again.")
    if data["format"] > FORMAT_VERSION:
        raise BundleError(
            f"{label}: made by a newer genrec ({data.get('genrec_version', '?')}, bundle format {data['format']}; "
            f"this genrec {__version__} reads format {FORMAT_VERSION}). Upgrade genrec to pull it."
        )
    runs = data.get("runs")
    if not isinstance(runs, dict) or not runs:
        raise BundleError(f"{where}: lists no runs; pack the runs again.")
    for run_id, entry in runs.items():
        if not _RUN_ID.fullmatch(run_id) or run_id == MANIFEST:
            raise BundleError(f"{where}: {run_id!r} is not a run name.")
        files = entry.get("files") if isinstance(entry, dict) else None
        if not isinstance(files, dict) or RUN_JSON not in files:
            raise BundleError(f"{where}: run {run_id} lists no files.")
        for name, meta in files.items():
            if name not in ALLOWED_FILES:
                raise BundleError(f"{where}: {run_id}/{name} is not a file a run may hold.")
            ok = isinstance(meta, dict) and type(meta.get("size")) is int and meta["size"] >= 0
            if not ok or not isinstance(meta.get("sha256"), str) or not _HEX64.fullmatch(meta["sha256"]):
                raise BundleError(f"{where}: {run_id}/{name} has no valid size and sha256.")
    return data


def _check_files(folder: Path, manifest: dict, label: str) -> None:
    """Every extracted file is a plain file listed in the manifest with that size and SHA-256, and none is
    missing."""
    expected = {
        f"{run_id}/{name}": meta for run_id, entry in manifest["runs"].items() for name, meta in entry["files"].items()
    }
    found = set()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise BundleError(f"{label}: {rel} is not a plain file; nothing was pulled.")
        if path.is_dir():
            if rel not in manifest["runs"]:
                raise BundleError(f"{label}: {rel}/ is not a run listed in {MANIFEST}; nothing was pulled.")
            continue
        if rel == MANIFEST:
            continue
        if rel not in expected:
            raise BundleError(f"{label}: {rel} is not listed in {MANIFEST}; nothing was pulled.")
        meta = expected[rel]
        size = path.stat().st_size
        if size != meta["size"]:
            raise BundleError(
                f"{label}: {rel} differs from {MANIFEST} ({size} bytes, listed as {meta['size']}); nothing was pulled."
            )
        if file_digest(path) != meta["sha256"]:
            raise BundleError(f"{label}: {rel} differs from {MANIFEST} (its SHA-256); nothing was pulled.")
        found.add(rel)
    missing = sorted(set(expected) - found)
    if missing:
        raise BundleError(f"{label}: {missing[0]} is listed in {MANIFEST} but missing; nothing was pulled.")


def _check_run(path: Path, label: str) -> None:
    """Open the staged run like any untrusted run folder, and load the predictor it would answer with."""

    try:
        run = Run.open(path)
        choice = choose_predictor(run, setting="auto")
        if choice.kind != "keras" and lite_runtime_available():
            _check_predictor(run, LitePredictor(choice.path))
    except GenrecError as exc:
        # the hidden staging folder means nothing to the reader: name the file inside the bundle
        why = str(exc).replace(str(path), path.name)
        raise BundleError(f"{label}: run {path.name} fails validation: {why}") from exc


def _check_predictor(run: Run, predictor) -> None:
    """The predictor takes the run's image size and gives its genres and embedding width (what check_model
    checks of model.keras, which a bundle usually leaves out)."""

    size = run.spectrogram.size
    try:
        shape = predictor.image_shape()
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RunError(f"{predictor.path.name}: has no image input ({exc}).") from exc
    if shape != (size, size, 3):
        raise RunError(
            f"{predictor.path.name}: does not take the {size}×{size}-px images run.json's spectrogram.size gives "
            f"(it takes {shape})."
        )
    probs, emb = predictor(np.zeros((1, size, size, 3), np.float32))
    width = run.embeddings.shape[1]
    if probs.shape != (1, len(run.genres)) or emb.shape != (1, width):
        raise RunError(
            f"{predictor.path.name}: gives {probs.shape[-1]} genres and {emb.shape[-1]}-wide embeddings, but the "
            f"run has {len(run.genres)} genres and {width}-wide embeddings."
        )


def _same_files(run_path: Path, files: dict) -> bool:
    """Whether the run folder already holds these files with these digests."""
    for name, meta in files.items():
        path = run_path / name
        if not path.is_file() or path.stat().st_size != meta["size"] or file_digest(path) != meta["sha256"]:
            return False
    return True


# --------------------------------------------------------------------------- audio of pulled runs


def ensure_demo_audio(run: Run, progress=None, workers: int = 2) -> str:
    """Regenerate (or find cached) the synthetic demo library a demo run was trained on, so its clips play
    here (``workers`` synthesis processes; 1: in this thread); return a line saying whether the library's
    fingerprint matches the run's record."""

    per_genre = max(1, len(run.tracks) // max(1, len(run.genres)))
    library = load_demo(clips_per_genre=per_genre, progress=progress, workers=workers)
    if library.fingerprint() != run.library.fingerprint:
        return (
            f"{run.id}: the demo library made here (fingerprint {library.fingerprint()}) differs from the one it "
            f"was trained on ({run.library.fingerprint}); its clips may not be the ones it saw. Its answers, "
            "made from the saved embeddings, are unchanged."
        )
    return f"{run.id}: demo library audio ready in {library.root} (fingerprint {library.fingerprint()} matches)"


def audio_notes(run_ids: list[str], root: Path | None = None, *, workers: int = 2) -> list[str]:
    """For pulled runs: regenerate the demo library's audio, or say where a real library's audio is missing
    and how to point ``GENREC_AUDIO_ROOTS`` at a copy."""

    root = Path(root) if root is not None else runs_home()
    notes = []
    for run_id in run_ids:
        run = Run.open(root / run_id)
        if run.trained_on_demo:
            notes.append(ensure_demo_audio(run, workers=workers))
        elif missing_audio_note(run):
            notes.append(missing_audio_note(run))
    return notes


def missing_audio_note(run: Run) -> str:
    """A sentence when the run's library audio is not on this host (judged by its first track), else ''."""

    if run.tracks.empty or run.media_path(run.tracks["track_id"].iloc[0]) is not None:
        return ""
    if run.trained_on_demo:
        return f"{run.id}: the demo library's audio is not generated yet here; `genrec runs pull` makes it."
    return (
        f"{run.id}: the audio of its library ({run.library.name}) is not on this host; predictions, "
        f"recommendations and figures still work from the saved embeddings. To play its clips, set "
        f"{ROOTS_ENV} to a local copy of {run.library.name} (folders separated by '{os.pathsep}')."
    )
