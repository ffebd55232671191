"""genrec: music-genre classification and "more like this" recommendations
from mel-spectrogram images with transfer-learned VGG16 and ResNet50."""
from genrec.config import GENRES
from genrec.errors import GenrecError

__version__ = "0.1.0"
__all__ = ["GENRES", "GenrecError", "__version__"]
