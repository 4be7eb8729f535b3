"""A layer pickled and unpickled (as it is shipped to other processes) answers as before."""

from __future__ import annotations

import pickle

import numpy as np
import shapely

from grid_layers.locator import OverlayLayer, PartitionLayer


def test_pickled_layers_answer_the_same() -> None:
    boxes = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0.5, 0, 1.5, 1)]
    rng = np.random.default_rng(3)
    x = np.r_[rng.uniform(-0.5, 2.5, 2000), [1.0, 0.5, 1.5, 0.0]]
    y = np.r_[rng.uniform(-0.5, 1.5, 2000), [0.5, 0.5, 1.0, 0.0]]
    partition = PartitionLayer(["b", "a"], boxes[:2])
    overlay = OverlayLayer(["a", "b", "c"], boxes)
    partition_copy = pickle.loads(pickle.dumps(partition))
    overlay_copy = pickle.loads(pickle.dumps(overlay))
    assert partition_copy.codes == partition.codes
    assert (partition_copy.locate(x, y) == partition.locate(x, y)).all()
    assert partition_copy.locate_point(1.0, 0.5) == partition.locate_point(1.0, 0.5) == "a"
    for got, expected in zip(overlay_copy.locate(x, y), overlay.locate(x, y), strict=True):
        assert (got == expected).all()
    assert overlay_copy.locate_point(0.7, 0.5) == ["a", "c"]
