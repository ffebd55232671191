"""genrec.audio.spectrogram checked against an independent numpy STFT + Slaney mel filterbank."""

from __future__ import annotations

import numpy as np
import pytest

from genrec.audio.spectrogram import DB_CEIL, DB_FLOOR, audio_to_images, db_to_image, images_of, mel_db, mel_frequencies
from genrec.config import CLIP_SECONDS, HOP_LENGTH, IMAGE_SIZE, N_FFT, N_MELS, SAMPLE_RATE
from tests.helpers.audio import tone

SR = SAMPLE_RATE


# ----------------------------------------------------------------- reference implementation
# Slaney's auditory-toolbox mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above
# (27 mels per factor 6.4); triangles normalised to unit area ("slaney" norm: 2 / bandwidth).
_F_SP, _BREAK_HZ = 200.0 / 3, 1000.0
_BREAK_MEL = _BREAK_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    return np.where(f < _BREAK_HZ, f / _F_SP, _BREAK_MEL + np.log(np.maximum(f, 1e-12) / _BREAK_HZ) / _LOGSTEP)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    return np.where(m < _BREAK_MEL, m * _F_SP, _BREAK_HZ * np.exp(_LOGSTEP * (m - _BREAK_MEL)))


def band_points(n_mels=N_MELS, sr=SR):
    """n_mels + 2 points equally spaced in mel from 0 Hz to Nyquist: band i spans points i..i+2."""
    return mel_to_hz(np.linspace(0.0, hz_to_mel(sr / 2), n_mels + 2))


def slaney_filterbank(n_mels=N_MELS, n_fft=N_FFT, sr=SR):
    fft_hz = np.arange(n_fft // 2 + 1) * sr / n_fft
    pts = band_points(n_mels, sr)
    fb = np.zeros((n_mels, len(fft_hz)))
    for i in range(n_mels):
        lo, mid, hi = pts[i], pts[i + 1], pts[i + 2]
        rising, falling = (fft_hz - lo) / (mid - lo), (hi - fft_hz) / (hi - mid)
        fb[i] = np.maximum(0.0, np.minimum(rising, falling)) * 2.0 / (hi - lo)
    return fb


def reference_power(y, n_fft=N_FFT, hop=HOP_LENGTH, pad_mode="constant"):
    """|STFT|^2 with centred frames: the signal padded by n_fft/2 each side (librosa >= 0.10
    pads with zeros by default, 'constant'; older versions reflected), periodic Hann window."""
    padded = np.pad(np.asarray(y, np.float64), n_fft // 2, mode=pad_mode)
    n_frames = 1 + (len(padded) - n_fft) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    frames = np.stack([padded[i * hop : i * hop + n_fft] * window for i in range(n_frames)])
    return (np.abs(np.fft.rfft(frames, axis=1)) ** 2).T


def reference_mel_db(y, pad_mode="constant"):
    return 10.0 * np.log10(np.maximum(slaney_filterbank() @ reference_power(y, pad_mode=pad_mode), 1e-10))


def sine(freq, seconds, amp=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# ----------------------------------------------------------------- mel_db


def test_reference_filterbank_is_librosas_slaney_filterbank():
    """Guards the reference itself: same triangles as librosa.filters.mel's default."""
    import librosa

    ours = slaney_filterbank()
    theirs = librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=N_MELS)
    np.testing.assert_allclose(ours, theirs, atol=1e-7 * theirs.max(), rtol=1e-4)


@pytest.mark.parametrize("signal", ["noise+tone", "music-like"])
def test_mel_db_matches_independent_stft(signal):
    rng = np.random.default_rng(1)
    if signal == "noise+tone":
        y = (0.2 * rng.standard_normal(3 * SR) + sine(1000.0, 3.0)).astype(np.float32)
    else:
        y = tone(3.0, freq=330.0)
    got = mel_db(y)
    want = reference_mel_db(y)
    assert got.dtype == np.float32
    assert got.shape == (N_MELS, 1 + len(y) // HOP_LENGTH)
    above_floor = want > -100.0
    assert above_floor.mean() > 0.95
    np.testing.assert_allclose(got[above_floor], want[above_floor], atol=0.05)


@pytest.fixture
def one_blas_thread():
    """librosa's mel projection is a BLAS product whose last bits depend on how many threads OpenBLAS
    splits it over; one thread makes the reference the same on any machine."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def librosa_db(y: np.ndarray) -> np.ndarray:
    import librosa

    power = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, hop_length=HOP_LENGTH, n_mels=N_MELS, power=2.0)
    return librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None).astype(np.float32)


#: What the image can show of a dB difference: it is clipped to [DB_FLOOR, DB_CEIL], mapped linearly to
#: 0..255 and rounded. Bilinear resizing averages with non-negative weights that sum to 1, so it never
#: widens a difference. A dB difference under half a grey level therefore moves any pixel by at most one
#: level, and only where librosa's value lies within that distance of a rounding boundary.
HALF_A_GREY_LEVEL_DB = 0.5 * (DB_CEIL - DB_FLOOR) / 255


def shown_db(db: np.ndarray) -> np.ndarray:
    return np.clip(db, DB_FLOOR, DB_CEIL)


def loud_tone_over_faint_noise(samples: int) -> np.ndarray:
    """The hardest case for float32: a full-scale tone puts +48 dB in a few bands while the noise sits near
    DB_FLOOR, 128 dB below, where the transform's float32 rounding (about 1e-7 of the frame) is largest
    relative to the value. Real music is far from it (test_real_gtzan_clips_...)."""
    t = np.arange(samples) / SR
    rng = np.random.default_rng(samples)
    return (0.9 * np.sin(2 * np.pi * 300.0 * t) + 1e-5 * rng.standard_normal(samples)).astype(np.float32)


@pytest.mark.parametrize("samples", [2048, 2049, 3 * SR + 7, int(CLIP_SECONDS * SR), int(CLIP_SECONDS * SR) + 511])
@pytest.mark.parametrize("signal", ["noise 1e-4", "noise 0.3", "tone 100 Hz", "loud tone, faint noise"])
def test_mel_db_is_librosas_within_half_a_grey_level(samples, signal, one_blas_thread):
    """genrec computes the spectrogram in float32 without importing librosa (a cold-start cost); librosa
    computes in float64. Wherever the image can show it, every value stays within half a grey level of
    librosa's (HALF_A_GREY_LEVEL_DB, 0.235 dB); the worst signal here reaches about a quarter level."""
    rng = np.random.default_rng(samples)
    y = {
        "noise 1e-4": lambda: 1e-4 * rng.standard_normal(samples),
        "noise 0.3": lambda: 0.3 * rng.standard_normal(samples),
        "tone 100 Hz": lambda: 0.5 * np.sin(2 * np.pi * 100.0 * np.arange(samples) / SR),
        "loud tone, faint noise": lambda: loud_tone_over_faint_noise(samples),
    }[signal]().astype(np.float32)
    ours, theirs = mel_db(y), librosa_db(y)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.abs(shown_db(ours) - shown_db(theirs)).max() < HALF_A_GREY_LEVEL_DB
    # the bound is not vacuous: the values span the image's range, clipped at neither end everywhere
    assert ((theirs > DB_FLOOR) & (theirs < DB_CEIL)).mean() > 0.2


def test_images_are_librosas_to_within_one_grey_level(one_blas_thread):
    """The consequence of the bound above for the picture the network sees: whole grey levels, at most one
    apart, at few pixels."""
    y = loud_tone_over_faint_noise(int(CLIP_SECONDS * SR))
    ours, theirs = db_to_image(mel_db(y)), db_to_image(librosa_db(y))
    assert np.abs(ours - theirs).max() <= 1.0
    assert (ours != theirs).mean() < 0.01


def real_clip_pieces(gtzan_sample, every: int) -> list[np.ndarray]:
    """Every ``every``-th real clip, whole and as its ten 3-s chunks."""
    from genrec.audio.decode import chunk_audio, load_audio

    pieces = []
    for path in sorted(gtzan_sample.rglob("*.wav"))[::every]:
        y = load_audio(path)
        pieces += [y, *chunk_audio(y, 3.0, SR)]
    return pieces


def test_real_gtzan_clips_give_librosas_images_to_within_one_level_at_rare_pixels(gtzan_sample, one_blas_thread):
    """On real music the float32 spectrogram is about 20 times closer to librosa's than the bound (0.013 dB
    on the 60 clips, benchmarks/RESULTS.md section 5): about one pixel in 100,000 moves by one level."""
    changed = total = 0
    for piece in real_clip_pieces(gtzan_sample, every=5):
        ours, theirs = mel_db(piece), librosa_db(piece)
        assert np.abs(shown_db(ours) - shown_db(theirs)).max() < HALF_A_GREY_LEVEL_DB / 10
        image, reference = audio_to_images(piece)[0], db_to_image(theirs)
        assert np.abs(image - reference).max() <= 1.0
        changed, total = changed + int((image != reference).sum()), total + image.size
    assert changed / total < 1e-4


def test_real_gtzan_clips_get_the_predictions_of_librosas_images(gtzan_sample, tiny_runs, one_blas_thread):
    """What the images are for: each run's pooled (chunk-averaged) prediction of a real clip is the one it
    makes from librosa's images: the same genre, and probabilities within 1e-3."""
    from genrec.audio.decode import chunk_audio, load_audio
    from genrec.model.predict import load_predictor, predict_clips
    from genrec.runs.reader import Run

    clips = [load_audio(path) for path in sorted(gtzan_sample.rglob("*.wav"))[::3]]
    for run_dir in tiny_runs.values():
        run = Run.open(run_dir)
        size = run.spectrogram.size
        ours = [audio_to_images(y, chunk_seconds=3.0, size=size) for y in clips]
        theirs = [np.stack([db_to_image(librosa_db(c), size) for c in chunk_audio(y, 3.0, SR)]) for y in clips]
        predictor = load_predictor(run)
        p_ours, p_theirs = predict_clips(predictor, ours)[0], predict_clips(predictor, theirs)[0]
        np.testing.assert_array_equal(p_ours.argmax(axis=1), p_theirs.argmax(axis=1))
        assert np.abs(p_ours - p_theirs).max() < 1e-3


@pytest.mark.parametrize("samples", [3 * SR + 7, int(CLIP_SECONDS * SR)])
def test_mel_db_is_the_same_whatever_blas_threads_the_caller_set(samples):
    """A multi-threaded BLAS product gave other last bits than a single-threaded one (librosa's own
    spectrogram of 66157 samples differs between 1 and 2 OpenBLAS threads), so mel_db fixes its own."""
    from threadpoolctl import threadpool_limits

    from genrec.utils.machine import cpu_threads

    y = (0.3 * np.random.default_rng(samples).standard_normal(samples)).astype(np.float32)
    results = []
    for threads in sorted({1, cpu_threads()}):
        with threadpool_limits(limits=threads, user_api="blas"):
            results.append(mel_db(y))
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


@pytest.mark.parametrize("samples", [2048, 3 * SR + 7, int(CLIP_SECONDS * SR) + 511])
def test_mel_db_is_the_same_on_any_number_of_threads(samples):
    """Frames are split over threads on block boundaries, so each is transformed exactly as on one."""
    y = (0.3 * np.random.default_rng(samples).standard_normal(samples)).astype(np.float32)
    alone = mel_db(y)
    for threads in (2, 3, 64):
        np.testing.assert_array_equal(mel_db(y, threads=threads), alone)


def test_blas_threads_are_restored_after_images_built_at_once():
    """mel_db's threads share one process-wide one-thread BLAS limit; the last to finish restores the caller's."""
    from threadpoolctl import threadpool_info, threadpool_limits

    rng = np.random.default_rng(5)
    pieces = [(0.2 * rng.standard_normal(int(5.0 * SR))).astype(np.float32) for _ in range(4)]
    with threadpool_limits(limits=2, user_api="blas"):
        images_of(pieces, size=32)
        images_of(pieces[:1], size=32)
        blas = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        assert blas and all(n == 2 for n in blas)


def test_images_of_many_pieces_built_at_once_equal_one_at_a_time():
    """images_of builds pieces on several threads; each image must be the one built alone."""
    rng = np.random.default_rng(3)
    pieces = [(0.2 * rng.standard_normal(int(3.0 * SR))).astype(np.float32) for _ in range(5)]
    pieces[2] = tone(3.0, freq=440.0)
    together = images_of(pieces, size=64)
    assert together.shape == (5, 64, 64, 3)
    for piece, image in zip(pieces, together, strict=True):
        np.testing.assert_array_equal(image, db_to_image(mel_db(piece), 64))
    np.testing.assert_array_equal(audio_to_images(np.concatenate(pieces), chunk_seconds=3.0, size=64), together)


def test_mel_frequencies_are_librosas():
    import librosa

    np.testing.assert_array_equal(mel_frequencies(), librosa.mel_frequencies(n_mels=N_MELS + 2, fmax=SR / 2)[1:-1])


def test_mel_db_uses_zero_padding_at_the_edges():
    """The first and last frames are where padding conventions differ; librosa 0.11 pads with zeros."""
    y = sine(440.0, 2.0) + 0.3
    got = mel_db(y)
    zero_pad, reflect_pad = reference_mel_db(y, "constant"), reference_mel_db(y, "reflect")
    edge = [0, -1]
    assert np.abs(zero_pad[:, edge] - reflect_pad[:, edge]).max() > 1.0  # the test can tell them apart
    np.testing.assert_allclose(got[:, edge], zero_pad[:, edge], atol=0.05)


def test_mel_db_reference_is_absolute_power_not_the_clip_maximum():
    y = sine(1000.0, 2.0, amp=0.1)
    loud = mel_db(10 * y)
    quiet = mel_db(y)
    strong = quiet > -60
    np.testing.assert_allclose(loud[strong] - quiet[strong], 20.0, atol=0.01)  # x10 amplitude = +20 dB
    # Relative to the clip's own maximum both maxima would be pinned at 0 dB.
    assert loud.max() - quiet.max() == pytest.approx(20.0, abs=0.01)
    assert abs(quiet.max()) > 1.0


def test_silence_sits_at_the_amin_floor():
    db = mel_db(np.zeros(SR, np.float32))
    np.testing.assert_allclose(db, -100.0)  # amin 1e-10 -> -100 dB, with no top_db clipping


# ----------------------------------------------------------------- mel_frequencies


def test_mel_frequencies_are_the_band_centres():
    centres = mel_frequencies()
    assert centres.shape == (N_MELS,)
    assert np.all(np.diff(centres) > 0)
    np.testing.assert_allclose(centres, band_points()[1:-1], rtol=1e-6)
    # The centre of band i is where its triangle peaks.
    fb = slaney_filterbank(n_fft=1 << 16)
    peak_hz = np.argmax(fb, axis=1) * SR / (1 << 16)
    np.testing.assert_allclose(peak_hz, centres, atol=SR / (1 << 16))


@pytest.mark.parametrize("freq", [100.0, 440.0, 1000.0, 2500.0, 5000.0, 8000.0, 10000.0])
def test_a_pure_tone_lands_in_the_band_centred_on_it(freq):
    centres = mel_frequencies()
    energy = mel_db(sine(freq, 2.0)).mean(axis=1)
    loudest = int(np.argmax(energy))
    assert loudest == int(np.argmin(np.abs(centres - freq)))
    # Bands whose triangles do not reach the tone are far below it.
    pts = band_points()
    far = (pts[2:] < freq * 0.8) | (pts[:-2] > freq * 1.25)
    assert energy[far].max() < energy[loudest] - 30


# ----------------------------------------------------------------- db_to_image


def test_db_to_image_shape_and_whole_values():
    img = db_to_image(mel_db(tone(30.0)))
    assert img.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and img.dtype == np.float32
    assert img.min() >= 0 and img.max() <= 255
    np.testing.assert_array_equal(img, np.rint(img))
    np.testing.assert_array_equal(img[..., 0], img[..., 1])
    np.testing.assert_array_equal(img[..., 0], img[..., 2])
    assert len(np.unique(img)) > 20  # a real picture, not a flat grey


@pytest.mark.parametrize(
    "level,grey",
    [
        (DB_FLOOR, 0.0),
        (DB_FLOOR - 50, 0.0),
        (DB_CEIL, 255.0),
        (DB_CEIL + 30, 255.0),
        (0.0, 170.0),  # (0 - -80) / 120 * 255 = 170
        (-20.0, 128.0),  # 127.5, rounded half to even
        (-50.0, 64.0),  # 63.75
    ],
)
def test_db_to_image_fixed_scale(level, grey):
    """The grey level is a fixed map of dB: -80 dB -> 0, +40 dB -> 255, linear between, clipped outside."""
    img = db_to_image(np.full((N_MELS, 300), level, np.float32))
    np.testing.assert_array_equal(img, grey)


def test_low_frequencies_are_at_the_bottom():
    img = db_to_image(mel_db(sine(100.0, 30.0)))[..., 0]
    rows = img.mean(axis=1)
    brightest = int(np.argmax(rows))
    assert brightest > IMAGE_SIZE * 0.9  # near the bottom edge
    assert rows[: IMAGE_SIZE // 2].max() < rows[brightest] - 50

    high = db_to_image(mel_db(sine(8000.0, 30.0)))[..., 0].mean(axis=1)
    assert int(np.argmax(high)) < IMAGE_SIZE // 4  # a high tone near the top


def test_bottom_row_is_the_lowest_band():
    db = np.full((N_MELS, 100), DB_FLOOR, np.float32)
    db[0] = DB_CEIL  # only the lowest band lit
    img = db_to_image(db, size=N_MELS)[..., 0]  # no vertical resampling at this size
    np.testing.assert_array_equal(img[-1], 255.0)
    np.testing.assert_array_equal(img[:-1], 0.0)


def test_louder_clip_gives_a_brighter_image():
    y = sine(440.0, 30.0, amp=0.02) + 0.002 * np.random.default_rng(0).standard_normal(int(30 * SR)).astype(np.float32)
    quiet, loud = db_to_image(mel_db(y)), db_to_image(mel_db(10 * y))
    assert np.all(loud >= quiet - 1)
    # +20 dB is +42.5 grey levels wherever neither image is clipped (per-clip normalisation would give 0).
    unclipped = (quiet > 0) & (loud < 255)
    assert unclipped.mean() > 0.5
    assert np.median((loud - quiet)[unclipped]) == pytest.approx(20 * 255 / (DB_CEIL - DB_FLOOR), abs=1.0)


@pytest.mark.parametrize("size", [32, 64, 299])
def test_db_to_image_size_is_configurable(size):
    img = db_to_image(mel_db(tone(5.0)), size=size)
    assert img.shape == (size, size, 3)
    np.testing.assert_array_equal(img, np.rint(img))


# ----------------------------------------------------------------- audio_to_images


def test_audio_to_images_whole_clip():
    y = tone(CLIP_SECONDS)
    images = audio_to_images(y)
    assert images.shape == (1, IMAGE_SIZE, IMAGE_SIZE, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(images[0], db_to_image(mel_db(y)))


@pytest.mark.parametrize("chunk,n", [(3.0, 10), (7.0, 4), (30.0, 1)])
def test_audio_to_images_chunks(chunk, n):
    y = tone(CLIP_SECONDS, seed=2)
    images = audio_to_images(y, chunk_seconds=chunk, size=48)
    assert images.shape == (n, 48, 48, 3)
    step = int(chunk * SR)
    for i in (0, n - 1):  # chunk i is the picture of seconds [i*chunk, (i+1)*chunk)
        np.testing.assert_array_equal(images[i], audio_to_images(y[i * step : (i + 1) * step], size=48)[0])


def test_chunks_of_different_content_differ():
    y = np.concatenate([sine(200.0, 3.0), sine(3000.0, 3.0)])
    a, b = audio_to_images(y, chunk_seconds=3.0, size=64)
    assert np.abs(a - b).mean() > 5
