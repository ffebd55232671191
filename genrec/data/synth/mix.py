"""The mix: every bus is driven, ducked, levelled and equalised in one FFT, reverb and
echo sends are added, then the master EQ, hiss at the artist's SNR, vinyl crackle and a
soft limiter to -1 dBFS.

All filtering is circular over a fast FFT length just above the clip: tails that run
off the end wrap into the start, like the ringing of music before the excerpt.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from genrec.data.synth.artists import artist_palette
from genrec.data.synth.seeds import SYNTH_VERSION, seeded_rng
from genrec.data.synth.song import Song

#: Peak level of every clip: -1 dBFS.
PEAK_LEVEL = 10.0 ** (-1.0 / 20.0)
#: Drive into the final soft limiter: the loud styles are mastered hotter.
_LIMITER_DRIVE = {"metal": 2.5, "rock": 1.8, "pop": 1.8, "disco": 1.4, "hiphop": 1.6}
_QUIET_LIMITER_DRIVE = 0.8
#: Time constant (s) of the kick-triggered ducking ("sidechain pumping").
_DUCK_RELEASE = 0.12
#: Echo repeats lose their highs above this frequency (Hz).
_ECHO_DAMPING = 2500.0


def fast_fft_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (a fast FFT size)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = -(-n // p35)
            best = min(best, (1 << (q - 1).bit_length()) * p35)
            p35 *= 3
        p5 *= 5
    return best


def eq_response(freqs: np.ndarray, hp: float, lp: float, tilt: float) -> np.ndarray:
    """Zero-phase magnitude response: 2nd-order-ish high/low pass and a dB/octave tilt."""
    h = np.ones_like(freqs)
    if hp > 0:
        r = np.square(freqs * np.float32(1.0 / hp))
        h = r / np.sqrt(1.0 + r * r)
    if lp > 0:
        r = np.square(freqs * np.float32(1.0 / lp))
        h /= np.sqrt(1.0 + r * r)
    if tilt:
        h *= np.exp(np.float32(tilt / 6.02) * np.log(np.maximum(freqs, np.float32(20.0)) * np.float32(1e-3)))
    return h


@lru_cache(maxsize=2)
def _white_noise(nf: int) -> np.ndarray:
    """Complex white noise, shared by all clips of one length (each clip rotates it)."""
    w = seeded_rng("hiss", SYNTH_VERSION, nf).standard_normal(2 * nf, dtype=np.float32).view(np.complex64)
    w.setflags(write=False)
    return w


@lru_cache(maxsize=8)
def _room_response(genre: str, artist: int, seed: int, nfft: int, sr: int) -> np.ndarray:
    """Spectrum of the artist's room: a decaying noise tail after a short pre-delay,
    normalised to unit energy (so a send of 1 is as loud as the dry signal)."""
    palette = artist_palette(genre, artist, seed)
    rng = seeded_rng("room", SYNTH_VERSION, seed, genre, artist)
    room = palette["room"]
    ir_len = min(int(min(room, 3.0) * sr), nfft)
    t = np.arange(ir_len) / sr
    ir = rng.standard_normal(ir_len) * np.exp(-6.9 * t / room)
    pre = int(rng.uniform(0.008, 0.03) * sr)
    ir = np.concatenate([np.zeros(pre), ir])[:ir_len]
    spec = np.fft.rfft(ir, nfft) / math.sqrt(float(np.sum(ir**2)) + 1e-12)
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr)
    spec /= np.sqrt(1.0 + np.square(freqs / palette["damp"]))  # highs die faster
    spec = spec.astype(np.complex64)
    spec.setflags(write=False)
    return spec


def _kick_ducking(song: Song) -> np.ndarray | None:
    """1 at every kick decaying towards 0, for the buses that duck under the kick
    (None when there are no kicks or no bus ducks)."""
    n = song.n_samples
    kicks = np.array(sorted(set(song.kicks)), dtype=np.int64)
    kicks = kicks[(kicks >= 0) & (kicks < n)]
    if not (len(kicks) and any(fx["duck"] for fx in song.fx.values())):
        return None
    marker = np.zeros(n, dtype=np.int64)
    marker[kicks] = kicks
    since = (np.arange(n) - np.maximum.accumulate(marker)).astype(np.float32)
    since[: kicks[0]] = 1e9
    return np.exp(since * np.float32(-1.0 / (_DUCK_RELEASE * song.sr)))


def _active_rms(x: np.ndarray) -> float:
    """RMS over the samples where the bus plays (so sparse parts are not under-levelled)."""
    energy = np.square(x)
    active = np.count_nonzero(energy > np.float32(1e-6) * energy.max())
    return math.sqrt(float(energy.sum(dtype=np.float64)) / active) if active else 1.0


def _bus_spectrum(
    song: Song, name: str, duck_env: np.ndarray | None, freqs: np.ndarray, nfft: int
) -> np.ndarray | None:
    """One bus driven, ducked, levelled and equalised: the first bins of its spectrum
    (a bus at sr/div gives the lowest nfft/div/2 + 1 bins), or None for a silent bus."""
    x, fx, div = song.buses[name], song.fx[name], song.div[name]
    peak = max(float(x.max()), -float(x.min()))
    if peak <= 0:
        return None
    if fx["drive"]:
        gain, hard = fx["drive"]
        x = x * np.float32(gain / peak)
        x = np.float32(1.0 - hard) * np.tanh(x) + np.float32(hard) * np.clip(x, -1.0, 1.0)
    if fx["duck"] and duck_env is not None:
        x = x * (1.0 - np.float32(fx["duck"]) * duck_env[::div])
    rms = _active_rms(x)
    # a bus at sr/div: its rfft over nfft/div points gives exactly the first bins of the
    # full-rate spectrum (same bin spacing), scaled by 1/div
    spec = np.fft.rfft(x.astype(np.float64), nfft // div)  # (float64: the faster pocketfft path)
    response = eq_response(freqs[: len(spec)], fx["hp"], fx["lp"], fx["tilt"])
    response *= np.float32(div * 10.0 ** (fx["level"] / 20.0) / rms)
    spec *= response
    return spec


def _sum_buses(
    song: Song, freqs: np.ndarray, nfft: int
) -> tuple[np.ndarray, np.ndarray | None, dict[tuple[float, float], np.ndarray]]:
    """The dry sum of all buses, the reverb send (None if no bus sends) and one send per
    distinct echo (delay, feedback)."""
    nf = len(freqs)
    duck_env = _kick_ducking(song)
    dry = np.zeros(nf, dtype=np.complex128)
    reverb_send = None
    echo_sends: dict[tuple[float, float], np.ndarray] = {}
    for name in song.buses:
        spec = _bus_spectrum(song, name, duck_env, freqs, nfft)
        if spec is None:
            continue
        fx, bins = song.fx[name], len(spec)
        dry[:bins] += spec
        if fx["rev"] > 0:
            if reverb_send is None:
                reverb_send = np.zeros(nf, dtype=np.complex128)
            reverb_send[:bins] += fx["rev"] * spec
        if fx["echo"] and fx["echo"][2] > 0:
            delay, feedback, send = fx["echo"]
            key = (float(delay), float(feedback))
            if key not in echo_sends:
                echo_sends[key] = np.zeros(nf, dtype=np.complex128)
            echo_sends[key][:bins] += send * spec
    return dry, reverb_send, echo_sends


def _add_reverb_and_echoes(
    song: Song,
    total: np.ndarray,
    reverb_send: np.ndarray | None,
    echo_sends: dict[tuple[float, float], np.ndarray],
    freqs: np.ndarray,
    nfft: int,
) -> None:
    """Add the room (convolution) and the feedback echoes to ``total`` in place."""
    if reverb_send is not None:
        reverb_send *= _room_response(song.genre, song.flavour, song.seed, nfft, song.sr)
        reverb_send *= song.palette["wet"] * song.rng.uniform(0.8, 1.2)
        total += reverb_send
    for (delay, feedback), send in echo_sends.items():
        phase = np.float32(2.0 * np.pi * delay) * freqs
        z = np.empty(len(freqs), dtype=np.complex64)
        z.real = np.cos(phase)
        z.imag = -np.sin(phase)
        send *= z / ((1.0 - feedback * z) * np.sqrt(1.0 + np.square(freqs / np.float32(_ECHO_DAMPING))))
        total += send


def _master_eq_and_hiss(song: Song, total: np.ndarray, freqs: np.ndarray, nfft: int) -> float:
    """Master EQ (narrow and noisier when lo-fi), then hiss at the artist's SNR, in place.
    Returns the music's power (Parseval estimate) before the hiss."""
    rng, palette = song.rng, song.palette
    lofi = palette["lofi"] and rng.random() < 0.8
    total *= eq_response(
        freqs,
        rng.uniform(150, 300) if lofi else 25.0,
        rng.uniform(3500, 7000) if lofi else 0.0,
        palette["tilt"] + rng.normal(0.0, 0.35),
    )
    power = 2.0 * float(np.vdot(total, total).real) / (nfft * float(nfft))
    snr = palette["hiss"] - (12.0 if lofi else 0.0) + rng.normal(0.0, 3.0)
    shape = eq_response(freqs, 40.0, 9000.0 if lofi else 0.0, -3.0 if lofi else -1.5)
    noise = np.roll(_white_noise(len(freqs)), int(rng.integers(len(freqs))))
    noise *= shape
    noise_power = 2.0 * float(np.vdot(noise, noise).real) / (nfft * float(nfft))
    noise *= math.sqrt(power * 10.0 ** (-snr / 10.0) / max(noise_power, 1e-30))
    total += noise
    return power


def _soft_limit(song: Song, y: np.ndarray) -> np.ndarray:
    """Bus compression by tanh saturation, then peak-normalise to -1 dBFS (never silent)."""
    rng = song.rng
    drive = _LIMITER_DRIVE.get(song.genre, _QUIET_LIMITER_DRIVE)
    y *= np.float32(drive * rng.uniform(0.7, 1.3) / (max(float(y.max()), -float(y.min())) + 1e-12))
    y = np.tanh(y)
    peak = max(float(y.max()), -float(y.min()))
    if not np.isfinite(peak) or peak < 1e-6:
        y = rng.standard_normal(song.n_samples).astype(np.float32) * np.float32(0.1)
        peak = max(float(y.max()), -float(y.min()))
    return (y * np.float32(PEAK_LEVEL / peak)).astype(np.float32)


def mix_song(song: Song) -> np.ndarray:
    """The finished clip: mono float32, ``song.n_samples`` long, peak -1 dBFS."""
    n, sr = song.n_samples, song.sr
    nfft = 8 * fast_fft_len(-(-n // 8))  # divisible by every bus's rate divisor
    freqs = np.fft.rfftfreq(nfft, 1.0 / sr).astype(np.float32)
    total, reverb_send, echo_sends = _sum_buses(song, freqs, nfft)
    _add_reverb_and_echoes(song, total, reverb_send, echo_sends, freqs, nfft)
    power = _master_eq_and_hiss(song, total, freqs, nfft)
    y = np.fft.irfft(total.astype(np.complex64), nfft)[:n]
    if song.crackle is not None:
        positions, amplitudes = song.crackle
        np.add.at(y, positions, (amplitudes * math.sqrt(power) * 8.0).astype(y.dtype))
    return _soft_limit(song, y)
