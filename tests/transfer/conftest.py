"""Make the test helpers in tests/train (tiny_segmenter) importable from tests/transfer."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "train"))
