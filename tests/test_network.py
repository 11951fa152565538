"""Network generators: simple undirected graphs with the asked-for size and degree, reproducible from the seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from loyaltysim.engine.network import build_network, from_edges, to_networkx

KINDS = ["watts_strogatz", "barabasi_albert", "erdos_renyi", "ring"]


@pytest.mark.parametrize("kind", KINDS)
def test_generated_networks_are_simple_and_symmetric(kind):
    n, k = 5000, 10
    net = build_network(kind, n, k, seed=3, rewire=0.2)
    deg = net.degree()
    assert net.indptr.shape == (n + 1,) and net.indices.dtype == np.int32
    assert abs(deg.mean() - k) < 0.05 * k
    src = np.repeat(np.arange(n), deg)
    assert not np.any(src == net.indices)  # no self-loops
    for i in range(0, n, 97):  # sorted, no repeats
        row = net.indices[net.indptr[i] : net.indptr[i + 1]]
        assert np.all(np.diff(row) > 0)
    forward = set(zip(src.tolist(), net.indices.tolist(), strict=True))
    assert all((j, i) in forward for i, j in list(forward)[:5000])


def test_ring_is_a_lattice_and_small_world_rewires():
    ring = build_network("ring", 100, 4, seed=1)
    assert ring.indices[ring.indptr[0] : ring.indptr[1]].tolist() == [1, 2, 98, 99]
    ws = build_network("watts_strogatz", 10_000, 10, seed=1, rewire=0.1)
    far = np.abs(np.repeat(np.arange(10_000), ws.degree()) - ws.indices)
    share_long = np.mean((far > 5) & (far < 10_000 - 5))
    assert 0.05 < share_long < 0.15  # about rewire of the edges, seen from both ends


def test_barabasi_albert_has_hubs():
    net = build_network("barabasi_albert", 20_000, 10, seed=2)
    assert net.degree().max() > 10 * net.degree().mean()


def test_same_seed_same_network_other_seed_other():
    a = build_network("erdos_renyi", 2000, 8, seed=5)
    b = build_network("erdos_renyi", 2000, 8, seed=5)
    c = build_network("erdos_renyi", 2000, 8, seed=6)
    assert np.array_equal(a.indices, b.indices) and not np.array_equal(a.indices, c.indices)


def test_from_edges_drops_loops_and_duplicates():
    net = from_edges(4, np.array([0, 1, 1, 2, 3]), np.array([1, 0, 1, 3, 2]))
    assert net.degree().tolist() == [1, 1, 1, 1]
    g = to_networkx(net, 4)
    assert sorted(g.edges()) == [(0, 1), (2, 3)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 59), st.integers(0, 59)),
        max_size=400,
    ),
    st.lists(st.integers(0, 59), max_size=120),
)
@example(edges=[(5, 4), (4, 5), (3, 3)], hub=[*range(59, 0, -1), 7, 7])  # a hub row of 59 > SHORT_ROW
@example(edges=[(1, x) for x in range(33, 0, -1)] + [(0, x) for x in range(34, 1, -1)], hub=[])  # rows of 32, 33
def test_from_edges_matches_a_set_oracle(edges, hub):
    """Rows short (insertion sort) and long (numba's sort, a hub's) alike: sorted, unique, symmetric, no loops."""
    n = 60
    edges = edges + [(0, x) for x in hub]
    src = np.array([a for a, _ in edges], np.int64)
    dst = np.array([b for _, b in edges], np.int64)
    net = from_edges(n, src, dst)
    want = [set() for _ in range(n)]
    for a, b in edges:
        if a != b:
            want[a].add(b)
            want[b].add(a)
    for i in range(n):
        assert net.indices[net.indptr[i] : net.indptr[i + 1]].tolist() == sorted(want[i])
