"""genrec.audio.decode: decoding every supported format into the fixed 30-s mono window, and every refusal."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from genrec.audio.decode import SUPPORTED_FORMATS, chunk_audio, load_audio
from genrec.config import CLIP_SECONDS, MIN_SECONDS, SAMPLE_RATE
from genrec.errors import AudioError
from tests.helpers.audio import tone, write_audio

SR = SAMPLE_RATE
WINDOW = int(CLIP_SECONDS * SR)


def sine(freq: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_frequency(y: np.ndarray, sr: int) -> float:
    """Frequency of the largest FFT bin of a Hann-windowed signal (resolution sr/len(y))."""
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)])


# ----------------------------------------------------------------- formats

# (extension, soundfile format, subtype) -- lossy codecs only approximate the waveform.
FORMATS = [
    ("wav", "WAV", "PCM_16"),
    ("flac", "FLAC", "PCM_16"),
    ("ogg", "OGG", "VORBIS"),
    ("mp3", "MP3", "MPEG_LAYER_III"),
    ("au", "AU", "PCM_16"),
]


def test_every_supported_extension_is_covered_here():
    assert {f".{ext}" for ext, _, _ in FORMATS} == set(SUPPORTED_FORMATS)


@pytest.mark.parametrize("ext,fmt,subtype", FORMATS, ids=[f[0] for f in FORMATS])
def test_each_format_decodes_to_the_30s_window(tmp_path, ext, fmt, subtype):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile build cannot write {fmt}")
    y = sine(440.0, 5.0)
    path = tmp_path / f"clip.{ext}"
    sf.write(path, y, SR, format=fmt, subtype=subtype)
    assert sf.info(str(path)).format == fmt

    out = load_audio(path)

    assert out.dtype == np.float32 and out.shape == (WINDOW,)
    assert out.flags["C_CONTIGUOUS"]
    # The 5 s of music are there at the right level, and the same pitch...
    head = out[: 5 * SR]
    assert np.sqrt(np.mean(head**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    assert peak_frequency(head, SR) == pytest.approx(440.0, abs=1.0)
    # ...followed by zero padding (lossy decoders may ring for a few ms past the end).
    assert np.all(out[5 * SR + SR // 10 :] == 0.0)
    if ext in ("wav", "flac", "au"):  # lossless: the samples themselves, to 16-bit precision
        np.testing.assert_allclose(head, y, atol=2 / 2**15)


def test_stereo_is_averaged_to_mono(tmp_path):
    left, right = sine(440.0, 4.0), sine(660.0, 4.0, amp=0.3)
    path = write_audio(tmp_path / "stereo.wav", np.stack([left, right], axis=1), subtype="FLOAT")
    out = load_audio(path, seconds=None)
    np.testing.assert_allclose(out, (left + right) / 2, atol=1e-7)


def test_every_channel_of_a_multichannel_file_counts_equally(tmp_path):
    channels = [sine(f, 4.0, amp=a) for f, a in ((220.0, 0.5), (330.0, 0.2), (440.0, 0.4), (550.0, 0.1))]
    path = write_audio(tmp_path / "quad.wav", np.stack(channels, axis=1), subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path, seconds=None), np.mean(channels, axis=0), atol=1e-7)


def test_stereo_with_one_silent_channel_halves_the_level(tmp_path):
    y = sine(220.0, 4.0)
    path = write_audio(tmp_path / "left-only.wav", np.stack([y, np.zeros_like(y)], axis=1), subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path, seconds=None), y / 2, atol=1e-7)


@pytest.mark.parametrize("rate", [44100, 48000, 16000, 8000, 22051])
def test_resampling_is_librosas_soxr_hq(rate):
    """genrec calls soxr itself (importing librosa costs a second of a cold start): same samples, same length."""
    import librosa

    from genrec.audio.decode import resample

    y = np.random.default_rng(rate).standard_normal(rate * 3 + 17).astype(np.float32) * 0.2
    theirs = librosa.resample(y, orig_sr=rate, target_sr=SR, res_type="soxr_hq")
    ours = resample(y, rate, SR)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("rate", [44100, 48000, 16000])
def test_other_rates_are_resampled_to_22050_keeping_the_pitch(tmp_path, rate):
    path = write_audio(tmp_path / f"sine-{rate}.wav", sine(440.0, 30.0, sr=rate), sr=rate, subtype="FLOAT")
    out = load_audio(path)
    assert out.shape == (WINDOW,)  # 30 s at 22050 Hz, whatever the file's rate
    assert peak_frequency(out, SR) == pytest.approx(440.0, abs=0.1)
    # A resampled sine keeps its amplitude (away from the filter's edge effects).
    middle = out[SR:-SR]
    assert np.abs(middle).max() == pytest.approx(0.5, rel=0.02)


def test_resampled_short_clip_keeps_its_duration_then_pads(tmp_path):
    path = write_audio(tmp_path / "short-44k.wav", sine(440.0, 5.0, sr=44100), sr=44100, subtype="FLOAT")
    out = load_audio(path)
    assert out.shape == (WINDOW,)
    assert np.abs(out[int(4.9 * SR) : 5 * SR]).max() > 0.3  # the sine lasts to 5 s at the new rate...
    assert np.abs(out[int(5.05 * SR) :]).max() < 1e-3  # ...and nothing after it


def test_five_second_clip_is_zero_padded_to_30s(tmp_path):
    y = tone(5.0)
    path = write_audio(tmp_path / "five.wav", y, subtype="FLOAT")
    out = load_audio(path)
    assert out.shape == (WINDOW,)
    np.testing.assert_array_equal(out[: len(y)], y)
    assert not out[len(y) :].any()


def test_sixty_second_file_gives_its_middle_30s(tmp_path):
    # Three sections that are easy to tell apart, and a click exactly at the file's midpoint.
    y = np.concatenate([sine(200.0, 15.0), sine(1000.0, 30.0), sine(3000.0, 15.0)])
    y[30 * SR] = 0.99
    path = write_audio(tmp_path / "long.wav", y, subtype="FLOAT")

    out = load_audio(path)

    assert out.shape == (WINDOW,)
    np.testing.assert_array_equal(out, y[15 * SR : 45 * SR])  # exactly the 15 s ... 45 s stretch
    assert int(np.argmax(np.abs(out))) == 15 * SR  # the midpoint marker lands at 15 s
    assert peak_frequency(out, SR) == pytest.approx(1000.0, abs=0.1)


def test_seconds_none_keeps_the_whole_file(tmp_path):
    y = tone(40.0)
    path = write_audio(tmp_path / "forty.wav", y, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(path, seconds=None), y)


def test_middle_window_of_an_mp3(tmp_path):
    """Lossy formats seek too: a 60-s MP3 gives its middle, not its start."""
    y = np.concatenate([sine(200.0, 15.0), sine(1000.0, 30.0), sine(3000.0, 15.0)])
    path = tmp_path / "long.mp3"
    sf.write(path, y, SR, format="MP3")
    out = load_audio(path)
    assert out.shape == (WINDOW,)
    inner = out[SR:-SR]  # away from the section boundaries and any codec delay
    assert peak_frequency(inner, SR) == pytest.approx(1000.0, abs=0.5)
    spectrum = np.abs(np.fft.rfft(inner))
    freqs = np.fft.rfftfreq(len(inner), 1 / SR)
    band = lambda f: spectrum[np.abs(freqs - f) < 20].max()  # noqa: E731
    assert band(200.0) < 0.01 * band(1000.0) and band(3000.0) < 0.01 * band(1000.0)


# ----------------------------------------------------------------- in-memory sources


def _wav_bytes(y: np.ndarray, sr: int = SR) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sr, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_bytes_input_decodes_like_the_file(tmp_path):
    y = tone(6.0)
    data = _wav_bytes(y)
    path = tmp_path / "same.wav"
    path.write_bytes(data)
    np.testing.assert_array_equal(load_audio(data), load_audio(path))


def test_file_like_input_with_a_name(tmp_path):
    y = tone(6.0, seed=3)
    upload = io.BytesIO(_wav_bytes(y))
    upload.name = "upload.wav"
    out = load_audio(upload)
    np.testing.assert_array_equal(out[: len(y)], y)
    assert out.shape == (WINDOW,)


def test_file_like_refusals_name_the_upload():
    upload = io.BytesIO(_wav_bytes(np.zeros(SR * 5, np.float32)))
    upload.name = "quiet-take.wav"
    with pytest.raises(AudioError, match=r"quiet-take\.wav: .*silent"):
        load_audio(upload)
    with pytest.raises(AudioError, match=r"the uploaded audio: not audio in a supported format"):
        load_audio(b"not audio at all" * 100)


def test_name_argument_labels_bytes_and_is_checked_for_its_extension():
    data = _wav_bytes(tone(5.0))
    assert load_audio(data, name="song.wav").shape == (WINDOW,)
    with pytest.raises(AudioError, match=r"song\.m4a: unsupported file type '\.m4a'"):
        load_audio(data, name="song.m4a")


# ----------------------------------------------------------------- refusals


def _refusal(source, **kw) -> str:
    with pytest.raises(AudioError) as info:
        load_audio(source, **kw)
    return str(info.value)


@pytest.mark.parametrize("name", ["song.m4a", "notes.txt", "noextension"])
def test_unsupported_extension(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(_wav_bytes(tone(5.0)))  # decodable content: the extension alone is refused
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "unsupported file type" in msg
    assert ".wav" in msg  # says what would be accepted


def test_corrupt_file(tmp_path):
    path = tmp_path / "random.wav"
    path.write_bytes(np.random.default_rng(0).bytes(20_000))
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "not a WAV file" in msg and "damaged" in msg


def test_truncated_wav_header(tmp_path):
    path = tmp_path / "cut.wav"
    path.write_bytes(_wav_bytes(tone(5.0))[:30])  # RIFF/fmt start, no data chunk
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "could not decode" in msg


def test_truncated_wav_data_that_leaves_too_little_audio(tmp_path):
    data = _wav_bytes(tone(10.0))
    path = tmp_path / "cut-short.wav"
    path.write_bytes(data[: len(data) // 10])  # header promises 10 s, about 1 s is there
    msg = _refusal(path)
    assert msg.startswith(str(path)) and f"at least {MIN_SECONDS:g} s" in msg


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.touch()
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "empty (0 bytes)" in msg


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.wav"
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "not found" in msg


@pytest.mark.parametrize("name", ["album", "album.wav"])
def test_folder(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    msg = _refusal(folder)
    assert msg.startswith(str(folder)) and "is a folder" in msg


def test_silence(tmp_path):
    path = write_audio(tmp_path / "zeros.wav", np.zeros(10 * SR, np.float32))
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "silent" in msg


def test_near_silence_below_threshold_is_refused_but_quiet_music_is_not(tmp_path):
    hiss = write_audio(tmp_path / "hiss.wav", sine(440.0, 5.0, amp=1e-4), subtype="FLOAT")  # about -83 dBFS
    assert "silent" in _refusal(hiss)
    quiet = write_audio(tmp_path / "quiet.wav", sine(440.0, 5.0, amp=0.01), subtype="FLOAT")  # about -43 dBFS
    assert load_audio(quiet).shape == (WINDOW,)


def test_too_short(tmp_path):
    path = write_audio(tmp_path / "two.wav", tone(2.0))
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "2.0 s" in msg and f"at least {MIN_SECONDS:g} s" in msg


def test_just_long_enough(tmp_path):
    path = write_audio(tmp_path / "three.wav", tone(MIN_SECONDS + 0.05))
    assert load_audio(path).shape == (WINDOW,)


def test_minimum_is_judged_before_resampling(tmp_path):
    # 2 s at 44.1 kHz is 88200 samples, more than 3 s worth at 22050 Hz: still too short.
    path = write_audio(tmp_path / "two-44k.wav", sine(440.0, 2.0, sr=44100), sr=44100)
    assert "at least" in _refusal(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_samples(tmp_path, bad):
    y = tone(5.0)
    y[1000] = bad
    path = write_audio(tmp_path / "nan.wav", y, subtype="FLOAT")
    assert not np.isfinite(sf.read(path, dtype="float32")[0]).all()  # the file really holds it
    msg = _refusal(path)
    assert msg.startswith(str(path)) and "not finite" in msg


def test_errors_are_genrec_errors():
    from genrec.errors import GenrecError

    assert issubclass(AudioError, GenrecError)


# ----------------------------------------------------------------- chunk_audio


def test_chunk_audio_shapes_and_order():
    y = np.arange(10 * SR, dtype=np.float32)
    chunks = chunk_audio(y, 3.0)
    assert chunks.shape == (3, 3 * SR)  # 10 s -> three 3-s chunks, the last 1 s dropped
    for i, c in enumerate(chunks):
        np.testing.assert_array_equal(c, y[i * 3 * SR : (i + 1) * 3 * SR])


def test_chunk_audio_of_the_standard_window():
    assert chunk_audio(np.zeros(WINDOW, np.float32), 3.0).shape == (10, 3 * SR)
    assert chunk_audio(np.zeros(WINDOW, np.float32), 30.0).shape == (1, WINDOW)
    assert chunk_audio(np.zeros(1000, np.float32), 0.01, sr=1000).shape == (100, 10)


def test_chunk_audio_refusals():
    with pytest.raises(AudioError, match="shorter than one 3-s chunk"):
        chunk_audio(np.zeros(2 * SR, np.float32), 3.0)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="positive"):
            chunk_audio(np.zeros(SR, np.float32), bad)
