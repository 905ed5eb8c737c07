import pytest
from pytensor import tensor

from blocks.bricks import Bias, Linear, Logistic, MLP, Tanh
from blocks.filter import (VariableFilter, get_annotation,
                           get_application_call, get_brick)
from blocks.graph import Annotation, ComputationGraph, add_annotation
from blocks.roles import BIAS, INPUT, OUTPUT, PARAMETER, WEIGHT


@pytest.fixture(scope='module')
def graph():
    x = tensor.matrix('x')
    mlp = MLP([Tanh(), Logistic()], [5, 4, 3], name='mlp')
    y = mlp.apply(x)
    return mlp, ComputationGraph(y)


def test_no_criterion_returns_the_input(graph):
    _, cg = graph
    assert VariableFilter()(cg.variables) is cg.variables


def test_filter_by_roles(graph):
    mlp, cg = graph
    first, second = mlp.linear_transformations
    weights = VariableFilter(roles=[WEIGHT])(cg.variables)
    assert set(weights) == {first.W, second.W}
    parameters = VariableFilter(roles=[PARAMETER])(cg.variables)
    assert set(parameters) == {first.W, first.b, second.W, second.b}
    assert VariableFilter(roles=[WEIGHT, BIAS], each_role=True)(
        cg.variables) == []


def test_filter_by_brick_instance_and_class(graph):
    mlp, cg = graph
    first = mlp.linear_transformations[0]
    assert VariableFilter(roles=[BIAS], bricks=[first])(cg.variables) == [
        first.b]
    linear_parameters = VariableFilter(bricks=[Linear], roles=[PARAMETER])(
        cg.variables)
    assert len(linear_parameters) == 4
    assert VariableFilter(bricks=[Bias])(cg.variables) == []


def test_filter_by_names(graph):
    mlp, cg = graph
    first = mlp.linear_transformations[0]
    assert VariableFilter(theano_name='W')(cg.variables) == [
        v for v in cg.variables if v.name == 'W']
    outputs = VariableFilter(name='output')(cg.variables)
    assert outputs and all(v.tag.name == 'output' for v in outputs)
    regex = VariableFilter(theano_name_regex=r'linear_0_apply_')(cg.variables)
    assert regex and all(get_brick(v) is first for v in regex)
    assert VariableFilter(name_regex='^output')(cg.variables) == outputs


def test_filter_by_application_and_call_id(graph):
    mlp, cg = graph
    first = mlp.linear_transformations[0]
    by_application = VariableFilter(applications=[first.apply],
                                     roles=[INPUT, OUTPUT])(cg.variables)
    assert {get_brick(v) for v in by_application} == {first}
    call = get_application_call(by_application[0])
    assert call.application.application is first.apply.application


def test_filter_by_call_id():
    x = tensor.matrix('x')
    linear = Linear(2, 2, name='linear')
    first = linear.apply(x, call_id='first')
    second = linear.apply(x, call_id='second')
    cg = ComputationGraph([first, second])
    selected = VariableFilter(call_id='second')(cg.variables)
    assert second in selected
    assert first not in selected
    assert all(get_application_call(v).metadata['call_id'] == 'second'
               for v in selected)


def test_get_annotation_returns_first_of_class_or_none():
    x = tensor.vector()
    assert get_annotation(x, Annotation) is None
    annotation = Annotation()
    add_annotation(x, annotation)
    assert get_annotation(x, Annotation) is annotation
    assert get_brick(x) is None


def test_bricks_must_be_bricks():
    with pytest.raises(ValueError, match='should be a list of Bricks'):
        VariableFilter(bricks=[int])
    with pytest.raises(TypeError):
        VariableFilter(bricks=['not a brick'])


def test_applications_must_be_an_iterable_of_applications():
    with pytest.raises(ValueError):
        VariableFilter(applications=['apply'])
    with pytest.raises(TypeError):
        VariableFilter(applications=Linear(name='l').apply)


def test_a_bare_role_is_a_type_error_when_called(graph):
    _, cg = graph
    variable_filter = VariableFilter(roles=PARAMETER)
    with pytest.raises(TypeError, match=r'pass \[PARAMETER\]'):
        variable_filter(cg.variables)
