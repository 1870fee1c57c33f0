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
    result = compare(first, second, cpdag=False)
    assert result.reversed == [("a", "b")]
    assert result.only_in_first == [("c", "d", "directed")]
    assert result.only_in_second == [("a", "c", "undirected")]
    assert result.shd == 3 and not result.cpdag


def test_compare_reduces_a_dag_against_a_cpdag_by_default():
    chain = g(("a", "b", "directed"), ("b", "c", "directed"))
    cpdag = g(("a", "b", "undirected"), ("b", "c", "undirected"))
    result = compare(cpdag, chain)
    assert result.cpdag and result.shd == 0 and result.arrowhead.f1 == 1.0 and result.kind_differs == []
    as_given = compare(cpdag, chain, cpdag=False)
    assert not as_given.cpdag and as_given.shd == 2 and len(as_given.kind_differs) == 2
    assert compare(chain, cpdag).shd == 0  # either argument may be the DAG
    # two DAGs, or two graphs with undirected edges, are compared as given unless asked
    reversed_chain = g(("c", "b", "directed"), ("b", "a", "directed"))
    assert compare(chain, reversed_chain).shd == 2 and not compare(chain, reversed_chain).cpdag
    assert compare(chain, reversed_chain, cpdag=True).shd == 0
    assert compare(chain, reversed_chain).as_dict()["cpdag"] is False


def test_api_and_cli_compare_agree_on_the_same_files(tmp_path, run_cli):
    import json

    import ililab
    from ililab.simulate import simulate_linear_sem

    truth = simulate_linear_sem(12, 50, expected_degree=2.5, seed=4).true_graph
    learned = to_cpdag(truth)
    assert any(not e.directed for e in learned.edges)  # else the test would not test the reduction
    truth.save(tmp_path / "truth.json")
    learned.save(tmp_path / "learned.json")
    api = ililab.compare(ililab.load_graph(tmp_path / "learned.json"), ililab.load_graph(tmp_path / "truth.json"))
    cli = run_cli("compare", tmp_path / "learned.json", tmp_path / "truth.json", "--json")
    assert cli.code == 0, cli.err
    document = json.loads(cli.out)
    assert api.shd == document["shd"] == 0
    assert {k: v for k, v in document.items() if k not in ("first", "second")} == api.as_dict()
    no_cpdag = json.loads(run_cli("compare", tmp_path / "learned.json", tmp_path / "truth.json", "--json", "--no-cpdag").out)
    assert no_cpdag["shd"] == ililab.compare(learned, truth, cpdag=False).shd > 0

