"""Make the test helpers (tiny_segmenter) importable from tests/train and tests/transfer."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
