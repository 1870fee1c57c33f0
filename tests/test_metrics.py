from ililab.graph import DependencyGraph, Edge
from ililab.metrics import adjacency_scores, arrowhead_scores, compare, shd, to_cpdag

NODES = ["a", "b", "c", "d"]


def g(*edges):
    return DependencyGraph(NODES, [Edge(s, t, k) for s, t, k in edges])


def test_shd_of_markov_equivalent_dags_is_zero():
    chain = g(("a", "b", "directed"), ("b", "c", "directed"))
    reversed_chain = g(("c", "b", "directed"), ("b", "a", "directed"))
    assert shd(chain, reversed_chain) == 0
    assert shd(chain, reversed_chain, cpdag=False) == 2


def test_shd_counts_each_pair_once():
    truth = g(("a", "c", "directed"), ("b", "c", "directed"))  # v-structure
    est = g(("a", "c", "directed"), ("c", "b", "directed"), ("a", "d", "directed"))
    # CPDAG(est) is all undirected: a-c differs in mark, c-b differs, a-d extra
    assert shd(est, truth) == 3


def test_adjacency_and_arrowhead_scores():
    truth = g(("a", "c", "directed"), ("b", "c", "directed"))
    est = g(("a", "c", "directed"), ("c", "b", "directed"), ("a", "d", "undirected"))
    adj = adjacency_scores(est, truth)
    assert (adj.true_positives, adj.estimated, adj.truth) == (2, 3, 2)
    assert adj.precision == 2 / 3 and adj.recall == 1.0 and abs(adj.f1 - 0.8) < 1e-12
    arrow = arrowhead_scores(est, truth)
    assert (arrow.true_positives, arrow.estimated, arrow.truth) == (1, 2, 2)


def test_to_cpdag_keeps_v_structures():
    cp = to_cpdag(g(("a", "c", "directed"), ("b", "c", "directed"), ("c", "d", "directed")))
    assert all(e.directed for e in cp.edges)


def test_compare_lists_differences():
    first = g(("a", "b", "directed"), ("c", "d", "directed"))
    second = g(("b", "a", "directed"), ("a", "c", "undirected"))
    result = compare(first, second)
    assert result.reversed == [("a", "b")]
    assert result.only_in_first == [("c", "d", "directed")]
    assert result.only_in_second == [("a", "c", "undirected")]
    assert result.shd == 3
