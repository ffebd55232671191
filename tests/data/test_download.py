"""Tests for genrec.data.download against a local HTTP server on 127.0.0.1 (no internet)."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import socket
import tarfile
import zipfile
from pathlib import Path

import pytest

from genrec.data.download import (
    download_file,
    extract_archive,
)
from genrec.data.gtzan import GTZAN_SHA256
from genrec.errors import DownloadError
from tests.helpers.http import Server, make_targz, sha256
from tests.helpers.runs import leftovers
from tests.helpers.shared import GTZAN_LIKE

# --------------------------------------------------------------------------- archives


def make_tar(members: list[tarfile.TarInfo], contents: dict[str, bytes] | None = None) -> bytes:
    contents = contents or {}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for info in members:
            data = contents.get(info.name)
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def tar_file(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def tar_link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


# --------------------------------------------------------------------------- download_file


def test_full_download_checksum_and_extraction(server: Server, tmp_path: Path) -> None:
    data = make_targz(GTZAN_LIKE)
    url = server.publish("genres.tar.gz", data)
    dest = tmp_path / "dl" / "genres.tar.gz"

    out = download_file(url, dest, checksum=sha256(data), progress=False)

    assert out == dest and dest.read_bytes() == data
    assert not dest.with_name("genres.tar.gz.part").exists()
    assert server.state.requests == [("/genres.tar.gz", None)]

    root = extract_archive(dest, tmp_path / "out", progress=False)
    assert root == tmp_path / "out"
    for name, content in GTZAN_LIKE.items():
        assert (root / name).read_bytes() == content
    assert sorted(p.name for p in (root / "genres").iterdir()) == ["blues", "classical", "rock"]
    assert leftovers(tmp_path) == []


def test_resume_after_interrupted_transfer(server: Server, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    url = server.publish("big.bin", data)
    server.state.drop_after["/big.bin"] = 50_000
    dest = tmp_path / "big.bin"
    part = tmp_path / "big.bin.part"

    with pytest.raises(DownloadError) as err:
        download_file(url, dest, checksum=sha256(data), progress=False, chunk_size=4096)
    assert url in str(err.value) and "resume" in str(err.value)
    assert part.is_file() and 0 < part.stat().st_size < len(data)
    assert not dest.exists()
    kept = part.stat().st_size
    assert part.read_bytes() == data[:kept]

    seen: list[tuple[int, int | None]] = []
    download_file(url, dest, checksum=sha256(data), progress=lambda stage, d, t: seen.append((d, t)), chunk_size=4096)

    assert server.state.requests[-1] == ("/big.bin", f"bytes={kept}-")
    assert dest.read_bytes() == data
    assert not part.exists()
    assert seen[0] == (kept, len(data)) and seen[-1] == (len(data), len(data))


def test_restart_from_zero_when_server_ignores_range(server: Server, tmp_path: Path) -> None:
    data = os.urandom(30_000)
    url = server.publish("f.bin", data)
    server.state.ignore_range = True
    dest = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes that must not survive")

    download_file(url, dest, checksum=sha256(data), progress=False)

    assert server.state.requests == [("/f.bin", "bytes=33-")]  # asked for a range, got 200
    assert dest.read_bytes() == data


def test_oversized_part_restarts_after_416(server: Server, tmp_path: Path) -> None:
    data = b"short file"
    url = server.publish("s.bin", data)
    (tmp_path / "s.bin.part").write_bytes(b"x" * 100)

    download_file(url, tmp_path / "s.bin", checksum=sha256(data), progress=False)

    assert [r for _, r in server.state.requests] == ["bytes=100-", None]
    assert (tmp_path / "s.bin").read_bytes() == data


def test_checksum_mismatch_raises_and_leaves_nothing(server: Server, tmp_path: Path) -> None:
    data = b"payload" * 100
    url = server.publish("p.bin", data)
    dest = tmp_path / "p.bin"
    wrong = sha256(b"something else")

    with pytest.raises(DownloadError) as err:
        download_file(url, dest, checksum=wrong, progress=False)

    msg = str(err.value)
    assert wrong in msg and sha256(data) in msg and url in msg
    assert not dest.exists() and not (tmp_path / "p.bin.part").exists()


def test_md5_algorithm(server: Server, tmp_path: Path) -> None:
    data = b"md5 me"
    url = server.publish("m.bin", data)
    md5 = hashlib.md5(data).hexdigest()
    out = download_file(url, tmp_path / "m.bin", checksum=md5.upper(), algorithm="md5", progress=False)
    assert out.read_bytes() == data


def test_checksum_of_wrong_length_is_refused_before_any_request(server: Server, tmp_path: Path) -> None:
    url = server.publish("x.bin", b"x")
    with pytest.raises(DownloadError, match="sha256"):
        download_file(url, tmp_path / "x.bin", checksum=GTZAN_SHA256[:32], progress=False)
    with pytest.raises(DownloadError, match="Unknown checksum algorithm"):
        download_file(url, tmp_path / "x.bin", checksum="00", algorithm="nope", progress=False)
    assert server.count() == 0


def test_existing_file_needs_no_request(server: Server, tmp_path: Path) -> None:
    data = b"cached" * 50
    url = server.publish("c.bin", data)
    dest = tmp_path / "c.bin"
    download_file(url, dest, checksum=sha256(data), progress=False)
    assert server.count() == 1

    calls: list[tuple[int, int | None]] = []
    download_file(url, dest, checksum=sha256(data), progress=calls.append)
    download_file(url, dest, progress=False)  # no checksum: trust the finished file

    assert server.count() == 1 and calls == []


def test_existing_file_with_wrong_content_is_fetched_again(server: Server, tmp_path: Path) -> None:
    data = b"fresh"
    url = server.publish("r.bin", data)
    dest = tmp_path / "r.bin"
    dest.write_bytes(b"corrupt")
    download_file(url, dest, checksum=sha256(data), progress=False)
    assert dest.read_bytes() == data and server.count() == 1


def test_http_404_names_the_url(server: Server, tmp_path: Path) -> None:
    url = server.url("missing.tar.gz")
    with pytest.raises(DownloadError) as err:
        download_file(url, tmp_path / "missing.tar.gz", progress=False)
    assert url in str(err.value) and "404" in str(err.value)
    assert not (tmp_path / "missing.tar.gz").exists()


def test_connection_refused_is_a_download_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/nothing.bin"
    with pytest.raises(DownloadError, match=f"127.0.0.1:{port}/nothing.bin"):
        download_file(url, tmp_path / "n.bin", progress=False, timeout=5)


def test_progress_callback_counts_up_to_the_total(server: Server, tmp_path: Path) -> None:
    data = os.urandom(50_000)
    url = server.publish("g.bin", data)
    seen: list[tuple[int, int | None]] = []

    download_file(url, tmp_path / "g.bin", progress=lambda stage, d, t: seen.append((d, t)), chunk_size=4096)

    done = [d for d, _ in seen]
    assert done[0] == 0 and done[-1] == len(data)
    assert all(b > a for a, b in itertools.pairwise(done))
    assert {t for _, t in seen} == {len(data)}
    assert len(seen) > 5


def test_tqdm_progress_bar_counts_the_file_up_to_its_size(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tqdm.auto

    import genrec.data.download

    bars: list[tqdm.auto.tqdm] = []

    class RecordingTqdm(tqdm.auto.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            bars.append(self)

    # the name download_file draws its bar with
    monkeypatch.setattr(genrec.data.download, "tqdm", RecordingTqdm)
    data = os.urandom(10_000)
    url = server.publish("t.bin", data)
    download_file(url, tmp_path / "t.bin", progress=True, chunk_size=1024)
    assert (tmp_path / "t.bin").read_bytes() == data
    # one bar, named after the file, that counted every byte of it
    assert [(bar.desc, bar.n, bar.total) for bar in bars] == [("t.bin", len(data), len(data))]
    # and it was drawn on stderr in KiB ("t.bin:   0%|...| 0.00/9.77k"; leave=False erases it when done)
    assert "t.bin" in capsys.readouterr().err


# --------------------------------------------------------------------------- extract_archive


@pytest.mark.parametrize(
    "members, why",
    [
        ([tar_file("../evil.txt")], "'..'"),
        ([tar_file("genres/../../evil.txt")], "'..'"),
        ([tar_link("genres/link", "../../evil.txt")], "symlink"),
        ([tar_link("link", "/tmp"), tar_file("link/evil.txt")], "symlink"),
        ([tar_link("genres/hard", "../evil.txt", tarfile.LNKTYPE)], "hard link"),
        ([tar_link("dev", "", tarfile.CHRTYPE)], "device"),
        ([tar_link("fifo", "", tarfile.FIFOTYPE)], "device"),
        ([tar_link("a/up", ".."), tar_link("a/up/up2", ".."), tar_file("a/up/up2/evil.txt")], "beneath a symlink"),
    ],
)
def test_unsafe_tar_members_are_refused(tmp_path: Path, members: list[tarfile.TarInfo], why: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "bad.tar"
    contents = {m.name: b"pwned" for m in members if m.isfile()}
    archive.write_bytes(make_tar(members, contents))

    with pytest.raises(DownloadError, match=why):
        extract_archive(archive, work / "out", progress=False)

    assert not (work / "out").exists()
    assert not (tmp_path / "evil.txt").exists() and not (work / "evil.txt").exists()
    assert leftovers(work) == []


def test_absolute_tar_member_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "abs_evil.txt"
    archive = tmp_path / "abs.tar"
    info = tar_file(str(target))
    archive.write_bytes(make_tar([info], {info.name: b"pwned"}))
    with tarfile.open(archive) as tar:
        assert tar.getnames() == [str(target)]  # really stored absolute

    with pytest.raises(DownloadError, match="absolute"):
        extract_archive(archive, tmp_path / "out", progress=False)
    assert not target.exists() and not (tmp_path / "out").exists()


def test_extraction_without_tarfile_data_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Python builds before 3.11.4 lack the 'data' filter; the own checks still apply."""
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    archive = tmp_path / "g.tar.gz"
    archive.write_bytes(make_targz(GTZAN_LIKE))
    root = extract_archive(archive, tmp_path / "out", progress=False)
    assert all((root / name).read_bytes() == c for name, c in GTZAN_LIKE.items())
    bad = tmp_path / "bad.tar"
    bad.write_bytes(make_tar([tar_link("l", "../../x")]))
    with pytest.raises(DownloadError, match="symlink"):
        extract_archive(bad, tmp_path / "out2", progress=False)


def test_symlink_inside_archive_is_allowed(tmp_path: Path) -> None:
    archive = tmp_path / "ok.tar"
    members = [tar_file("genres/blues/a.au"), tar_link("genres/latest", "blues/a.au")]
    archive.write_bytes(make_tar(members, {"genres/blues/a.au": b"audio"}))
    root = extract_archive(archive, tmp_path / "out", progress=False)
    assert (root / "genres" / "latest").read_bytes() == b"audio"


@pytest.mark.parametrize(
    "name, why", [("../evil.txt", "'..'"), ("/abs_evil.txt", "absolute"), ("ok/..\\..\\evil.txt", "'..'")]
)
def test_unsafe_zip_members_are_refused(tmp_path: Path, name: str, why: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "bad.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("genres/blues/blues.00000.au", b"fine")
        zf.writestr(zipfile.ZipInfo(name), b"pwned")

    with pytest.raises(DownloadError, match=why):
        extract_archive(archive, work / "out", progress=False)

    assert not (work / "out").exists() and not (tmp_path / "evil.txt").exists()
    assert leftovers(work) == []


def test_zip_extraction(tmp_path: Path) -> None:
    archive = tmp_path / "ok.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, content in GTZAN_LIKE.items():
            zf.writestr(name, content)
    root = extract_archive(archive, tmp_path / "out", progress=True)
    for name, content in GTZAN_LIKE.items():
        assert (root / name).read_bytes() == content


def test_corrupt_archive_leaves_nothing_behind(tmp_path: Path) -> None:
    archive = tmp_path / "cut.tar.gz"
    archive.write_bytes(make_targz(GTZAN_LIKE)[:-40])  # truncated download
    with pytest.raises(DownloadError, match="download it again"):
        extract_archive(archive, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_extract_into_existing_folder_refuses_clashes(tmp_path: Path) -> None:
    archive = tmp_path / "g.tar.gz"
    archive.write_bytes(make_targz(GTZAN_LIKE))
    to = tmp_path / "to"
    (to / "genres").mkdir(parents=True)
    with pytest.raises(DownloadError, match="already exist"):
        extract_archive(archive, to, progress=False)
    assert list((to / "genres").iterdir()) == [] and leftovers(tmp_path) == []


def test_unsupported_archive_type(tmp_path: Path) -> None:
    (tmp_path / "x.rar").write_bytes(b"rar")
    with pytest.raises(DownloadError, match="unsupported"):
        extract_archive(tmp_path / "x.rar", tmp_path / "out", progress=False)
