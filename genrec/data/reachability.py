"""Can the real build download what it needs here? A few seconds of HEAD requests, side by side.

The app asks before it offers the real GTZAN build: every GTZAN source (:func:`genrec.data.gtzan.gtzan_sources`)
and Keras' ImageNet weights files. A machine where no host answers is called offline, with what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from genrec.data.gtzan import gtzan_sources

#: Keras' own download URLs of the two 'notop' ImageNet weight files (keras/src/applications/vgg16.py
#: WEIGHTS_PATH_NO_TOP and resnet.py BASE_WEIGHTS_PATH + file name). Copied, not imported: importing
#: keras.applications would load TensorFlow into the app.
KERAS_WEIGHTS_URLS: tuple[str, ...] = (
    (
        "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
    (
        "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    ),
)
#: Seconds one reachability check may take per URL (the checks run side by side).
PROBE_TIMEOUT_S = 3.0


def gtzan_source_urls() -> list[str]:
    """The GTZAN download sources the real build tries, in order (the URLs the card checks)."""
    return [source.url for source in gtzan_sources()]


@dataclass(frozen=True)
class Probe:
    """The answer of one URL to a short HEAD request."""

    url: str
    ok: bool  # answered with a status below 400
    answered: bool  # the host answered at all (False: no connection, DNS failure, time-out)
    detail: str  # "HTTP 200", "HTTP 404", "could not connect", "no answer within 3 s"


def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> Probe:
    """HEAD ``url`` (following redirects) and say whether it can be downloaded from."""
    try:
        with requests.head(url, timeout=timeout, allow_redirects=True) as reply:
            code = reply.status_code
        if code in (403, 405):  # some hosts refuse HEAD but serve GET
            with requests.get(url, timeout=timeout, stream=True) as reply:
                code = reply.status_code
    except requests.Timeout:
        return Probe(url, False, False, f"no answer within {timeout:g} s")
    except requests.ConnectionError:
        return Probe(url, False, False, "could not connect")
    except requests.RequestException as exc:
        return Probe(url, False, False, type(exc).__name__)
    return Probe(url, code < 400, True, f"HTTP {code}")


@dataclass(frozen=True)
class Reachability:
    """Whether the real build's downloads can start here: some GTZAN source and every weights file."""

    sources: tuple[Probe, ...]
    weights: tuple[Probe, ...]

    @property
    def ok(self) -> bool:
        return any(p.ok for p in self.sources) and all(p.ok for p in self.weights)

    @property
    def offline(self) -> bool:
        """No host answered at all: this machine has no internet (or a firewall blocks all of them)."""
        return not any(p.answered for p in (*self.sources, *self.weights))

    @property
    def problem(self) -> str:
        """What is wrong, in a sentence ("" when the build can start)."""
        if self.ok:
            return ""
        if self.offline:
            return (
                "This machine is offline: none of the GTZAN download sources and not the Keras "
                "ImageNet weights host could be reached."
            )
        missing = []
        if not any(p.ok for p in self.sources):
            missing.append(
                "no GTZAN download source answered (" + "; ".join(f"{p.url}: {p.detail}" for p in self.sources) + ")"
            )
        missing += [f"the ImageNet weights at {p.url} cannot be fetched ({p.detail})" for p in self.weights if not p.ok]
        return "The real build cannot download what it needs: " + "; ".join(missing) + "."


#: What to do instead when the real build cannot download here.
OFFLINE_ADVICE = (
    "Build the runs on a machine with internet (`genrec build --library gtzan`) and copy the "
    "run folders into this app's runs folder, or build the synthetic demo here instead."
)


def check_sources(
    source_urls: Sequence[str] | None = None, weight_urls: Sequence[str] | None = None, timeout: float = PROBE_TIMEOUT_S
) -> Reachability:
    """Probe every GTZAN source and the Keras weights files side by side (a few seconds at most)."""
    sources = list(gtzan_source_urls() if source_urls is None else source_urls)
    weights = list(KERAS_WEIGHTS_URLS if weight_urls is None else weight_urls)
    with ThreadPoolExecutor(max_workers=max(1, len(sources) + len(weights))) as pool:
        answers = list(pool.map(lambda u: probe(u, timeout), sources + weights))
    return Reachability(tuple(answers[: len(sources)]), tuple(answers[len(sources) :]))
