import pickle
import warnings
from collections import OrderedDict

import numpy
import pytensor
import pytest
from pytensor import tensor
from pytensor.compile.mode import Mode

from blocks.graph import Annotation, ComputationGraph, add_annotation
from blocks.roles import add_role, AUXILIARY, COST, PARAMETER, WEIGHT
from blocks.utils import shared_floatx

floatX = pytensor.config.floatX
# The graphs are the subject here, not the linker: Python thunks compile
# instantly.
PY_MODE = Mode(linker='py').excluding('fusion')


def evaluate(outputs, givens):
    inputs = list(givens)
    function = pytensor.function(inputs, outputs, mode=PY_MODE,
                                 on_unused_input='ignore')
    return function(*givens.values())


def test_inputs_outputs_and_topological_order():
    x = tensor.matrix('x')
    y = tensor.matrix('y')
    z = x + y
    z.name = 'z'
    a = z.copy()
    a.name = 'a'
    b = z.copy()
    b.name = 'b'
    cg = ComputationGraph([a, b])
    assert set(cg.inputs) == {x, y}
    assert cg.outputs == [a, b]
    assert set(cg.variables) == {x, y, z, a, b}
    assert cg.variables[2] is z
    assert ComputationGraph(a).inputs == cg.inputs
    assert list(cg) == cg.variables
    assert cg.intermediary_variables == [z]
    assert cg.dict_of_inputs() == {'x': x, 'y': y}


def test_outputs_inside_the_graph_are_not_duplicated():
    x, y = tensor.matrix('x'), tensor.matrix('y')
    w = x + y
    z = tensor.exp(w)
    cg = ComputationGraph([z, w])
    assert cg.variables == [x, y, w, z]


def test_shared_and_parameter_variables():
    x = tensor.matrix('x')
    W = shared_floatx(numpy.zeros((3, 3)), name='W')
    b = shared_floatx(numpy.zeros(3), name='b')
    add_role(W, WEIGHT)
    cg = ComputationGraph([x.dot(W) + b])
    assert set(cg.shared_variables) == {W, b}
    assert cg.parameters == [W]
    assert cg.inputs == [x]


def test_graph_of_shared_outputs_only_is_those_outputs():
    W = shared_floatx(numpy.zeros((3, 3)))
    assert ComputationGraph([W]).variables == [W]
    squared = W ** 2
    cg = ComputationGraph([squared])
    assert W in cg.variables
    assert squared in cg.variables


def test_auxiliary_variables_and_updates_from_annotations():
    x = tensor.vector('x')
    y = x * 2
    annotation = Annotation()
    add_annotation(y, annotation)
    counter = shared_floatx(0., name='counter')
    annotation.add_auxiliary_variable(x.mean(), roles=[COST], name='x_mean')
    annotation.updates[counter] = counter + 1
    z = y + 1
    cg = ComputationGraph([z])
    mean, = cg.auxiliary_variables
    assert mean.name == 'x_mean'
    assert mean.tag.name == 'x_mean'
    assert mean.tag.roles == [AUXILIARY, COST]
    # The auxiliary variable follows the variable it is attached to.
    assert cg.variables.index(mean) == cg.variables.index(y) + 1
    assert cg.updates == OrderedDict([(counter, annotation.updates[counter])])


def test_add_annotation_rejects_a_second_annotation_of_a_class():
    x = tensor.vector()
    add_annotation(x, Annotation())
    with pytest.raises(ValueError, match='already has an annotation'):
        add_annotation(x, Annotation())


def test_duplicate_updates_across_annotations_raise():
    x = tensor.vector('x')
    counter = shared_floatx(0.)

    class Other(Annotation):
        pass
    first, second = Annotation(), Other()
    add_annotation(x, first)
    add_annotation(x, second)
    first.updates[counter] = counter + 1
    second.updates[counter] = counter + 2
    with pytest.raises(ValueError, match='duplicate'):
        ComputationGraph([x + 1])


def test_replace_outputs():
    x = tensor.scalar('x')
    y = x + 1
    cg = ComputationGraph([y])
    doubled = cg.replace([(y, 2 * y)])
    assert evaluate(doubled.outputs[0], {x: 2}) == 6.0


def test_chained_replacements_compose():
    x = tensor.scalar('x')
    y = x + 2
    z = y + 3
    a = z + 5
    cg = ComputationGraph([a])
    new = cg.replace({y: x * 2, z: y * 3})
    # z -> y * 3 with y itself replaced: ((x * 2) * 3) + 5
    assert evaluate(new.outputs[0], {x: 2}) == 17.0
    # The original graph is untouched: ((x + 2) + 3) + 5
    assert evaluate(cg.outputs[0], {x: 2}) == 12.0


def test_replace_by_an_input_changes_graph_inputs():
    x, y, r = tensor.matrix('x'), tensor.matrix('y'), tensor.matrix('r')
    z = x + y
    a = z.copy(name='a')
    cg = ComputationGraph([a]).replace({z: r})
    assert cg.inputs == [r]
    assert [v.name for v in cg.outputs] == ['a']


def test_replace_warns_for_variables_outside_the_graph():
    x = tensor.scalar()
    y = x + 1
    z = tensor.scalar()
    cg = ComputationGraph([y])
    with pytest.warns(UserWarning, match='not a part of'):
        cg.replace([(y, 2 * y), (z, 2 * z)])


def test_replace_warns_for_auxiliary_variables():
    x = tensor.scalar()
    y = x + 1
    add_role(y, AUXILIARY)
    cg = ComputationGraph([y])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        cg.replace([(y, 2 * y)])
    assert len(caught) == 1
    assert 'auxiliary' in str(caught[0].message)


def test_get_theano_function_includes_graph_and_additional_updates():
    x = tensor.vector('x')
    total = shared_floatx(0., name='total')
    calls = shared_floatx(0., name='calls')
    y = x * 2
    annotation = Annotation()
    add_annotation(y, annotation)
    annotation.updates[total] = total + y.sum()
    cg = ComputationGraph([y])
    function = cg.get_theano_function([(calls, calls + 1)], mode=PY_MODE)
    result, = function(numpy.ones(3, dtype=floatX))
    numpy.testing.assert_allclose(result, [2, 2, 2])
    assert float(total.get_value()) == 6.0
    assert float(calls.get_value()) == 1.0


def test_get_snapshot_evaluates_variables_with_roles():
    x = tensor.vector('x')
    W = shared_floatx(numpy.ones(3) * 2, name='W')
    add_role(W, PARAMETER)
    y = x * W
    add_role(y, COST)
    z = y + 1
    cg = ComputationGraph([z])
    snapshot = cg.get_snapshot({'x': numpy.arange(3, dtype=floatX)})
    assert list(snapshot) == [y]
    numpy.testing.assert_allclose(snapshot[y], [0, 2, 4])


def test_has_inputs():
    x = tensor.vector('x')
    W = shared_floatx(numpy.ones(3))
    y = x * W
    w2 = W * 2
    cg = ComputationGraph([y + w2])
    assert cg.has_inputs(y)
    assert not cg.has_inputs(w2)
    assert not cg.has_inputs(W)


def test_scans_and_scan_variables():
    x = tensor.matrix('x')
    W = shared_floatx(numpy.eye(2), name='W')

    def step(x_t, h_tm1):
        h_t = tensor.tanh(x_t + h_tm1.dot(W))
        h_t.name = 'h_t'
        return h_t
    h = pytensor.scan(step, sequences=[x],
                      outputs_info=[tensor.zeros(2)],
                      return_updates=False)
    cg = ComputationGraph([h.sum()])
    assert len(cg.scans) == 1
    assert 'h_t' in [v.name for v in cg.scan_variables]
    assert ComputationGraph([W]).scans == []


def test_graph_pickles():
    x = tensor.vector('x')
    cg = ComputationGraph([x * 2])
    cg_copy = pickle.loads(pickle.dumps(cg))
    assert [v.name for v in cg_copy.inputs] == ['x']
