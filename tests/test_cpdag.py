import numpy as np

from ililab.cpdag import apply_meek_rules, dag_to_cpdag, is_dag


def test_chain_is_undirected_and_collider_is_compelled():
    chain = np.zeros((3, 3))
    chain[0, 1] = chain[1, 2] = 1
    d, u = dag_to_cpdag(chain)
    assert not d.any() and u[0, 1] and u[1, 2]
    collider = np.zeros((3, 3))
    collider[0, 2] = collider[1, 2] = 1
    d, u = dag_to_cpdag(collider)
    assert d[0, 2] and d[1, 2] and not u.any()


def test_meek_rule_one_propagates():
    dag = np.zeros((4, 4))
    dag[0, 2] = dag[1, 2] = dag[2, 3] = 1  # a -> c <- b, c -> d compelled by R1
    d, u = dag_to_cpdag(dag)
    assert d[2, 3] and not u.any()


def test_forbidden_orientation_is_applied():
    chain = np.zeros((2, 2))
    chain[0, 1] = 1
    forbidden = np.zeros((2, 2), dtype=bool)
    forbidden[1, 0] = True
    d, u = dag_to_cpdag(chain, forbidden)
    assert d[0, 1] and not u.any()


def test_meek_rule_two():
    d = np.zeros((3, 3), dtype=bool)
    u = np.zeros((3, 3), dtype=bool)
    d[0, 1] = d[1, 2] = True
    u[0, 2] = u[2, 0] = True
    d2, u2 = apply_meek_rules(d, u)
    assert d2[0, 2] and not u2.any()


def test_is_dag():
    a = np.zeros((3, 3))
    a[0, 1] = a[1, 2] = 1
    assert is_dag(a)
    a[2, 0] = 1
    assert not is_dag(a)
