"""Stage 1, audio → spectrogram: decode a music file into the fixed mono window, and that window into the
224×224×3 mel-spectrogram images the CNNs see (cached on disk by content)."""

from genrec.audio.cache import cached_images, library_images
from genrec.audio.decode import check_clip, load_audio
from genrec.audio.spectrogram import audio_to_images, mel_db

__all__ = ["audio_to_images", "cached_images", "check_clip", "library_images", "load_audio", "mel_db"]
