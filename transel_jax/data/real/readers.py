"""All original-layout readers by dataset name: ``READERS[name](root, split) -> FileSource``."""
from __future__ import annotations

from transel_jax.data.real import aerial, consumer, driving, indoor, synthetic, underwater
from transel_jax.data.real.files import Reader

READERS: dict[str, Reader] = {
    **consumer.READERS, **driving.READERS, **aerial.READERS,
    **indoor.READERS, **underwater.READERS, **synthetic.READERS,
}
