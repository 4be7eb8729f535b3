"""Making every cell and village one piece: a convex Voronoi cell cut by a non-convex town may
fall apart, and a piece cut off is given to the neighbour it shares the longest border with."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import shapely

from demo_town.partition import Faces

Adjacency = dict[int, dict[int, float]]


def adjacency(shapes: np.ndarray) -> Adjacency:
    """For each face, the faces sharing an edge with it and the length shared (degrees)."""
    tree = shapely.STRtree(shapes)
    a, b = tree.query(shapes, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    shared = shapely.length(shapely.intersection(shapely.boundary(shapes[a]),
                                                 shapely.boundary(shapes[b])))
    near: Adjacency = defaultdict(dict)
    for i, j, length in zip(a.tolist(), b.tolist(), shared.tolist(), strict=True):
        if length > 0:
            near[i][j] = near[j][i] = length
    return near


def components(members: list[int], near: Adjacency) -> list[list[int]]:
    """Edge-connected groups of the given faces, largest first (ties: lowest face first)."""
    todo, groups = set(members), []
    for start in members:
        if start not in todo:
            continue
        todo.discard(start)
        group, stack = [start], [start]
        while stack:
            for other in near[stack.pop()]:
                if other in todo:
                    todo.discard(other)
                    group.append(other)
                    stack.append(other)
        groups.append(sorted(group))
    return groups


def _largest_first(groups: list[list[int]], faces: Faces) -> list[list[int]]:
    area = shapely.area(faces.shapes)
    return sorted(groups, key=lambda g: (-float(area[g].sum()), g[0]))


def _border(group: list[int], owner: np.ndarray, near: Adjacency) -> dict[int, float]:
    """Length of border the group shares with each other owner."""
    inside = set(group)
    lengths: dict[int, float] = defaultdict(float)
    for face in group:
        for other, length in near[face].items():
            if other not in inside:
                lengths[int(owner[other])] += length
    return lengths


def mend_cells(faces: Faces, near: Adjacency) -> None:
    """Give each detached piece of a cell to a bordering cell, of its own village if any."""
    changed = True
    while changed:
        changed = False
        for cell in range(len(faces.village_of_cell)):
            members = np.flatnonzero(faces.cell == cell).tolist()
            groups = _largest_first(components(members, near), faces)
            for group in groups[1:]:
                lengths = _border(group, faces.cell, near)
                own = faces.village_of_cell[cell]
                target = max(lengths, key=lambda c: (
                    faces.village_of_cell[c] == own, lengths[c], -c))
                faces.cell[group] = target
                changed = True


def mend_villages(faces: Faces, near: Adjacency) -> None:
    """Move the cells of a detached piece of a village to the village they border most."""
    changed = True
    while changed:
        changed = False
        village_of_face = np.array(faces.village_of_cell)[faces.cell]
        for village in range(max(faces.village_of_cell) + 1):
            members = np.flatnonzero(village_of_face == village).tolist()
            for group in _largest_first(components(members, near), faces)[1:]:
                lengths = _border(group, village_of_face, near)
                target = max(lengths, key=lambda v: (lengths[v], -v))
                for cell in sorted(set(faces.cell[group].tolist())):
                    faces.village_of_cell[cell] = target
                changed = True
            if changed:
                break
