"""genrec: music-genre classification and "more like this" recommendations
from mel-spectrogram images with transfer-learned VGG16 and ResNet50."""

import os

# TensorFlow's C++ start-up chatter is noise for CLI and app users; real failures still raise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from genrec.config import GENRES
from genrec.errors import GenrecError

__version__ = "0.1.0"
__all__ = ["GENRES", "GenrecError", "__version__"]
