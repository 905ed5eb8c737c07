import pytest
from pytensor import tensor

from blocks import roles
from blocks.roles import (
    add_role, has_roles, VariableRole, ALGORITHM_BUFFER, ALGORITHM_STATE,
    ALGORITHM_HYPERPARAMETER, AUXILIARY, BIAS, COST, FILTER, PARAMETER,
    PERSISTENT, WEIGHT, BATCH_NORM_SHIFT_PARAMETER)


def test_add_role_keeps_the_most_specific_role_in_either_order():
    first = tensor.matrix()
    add_role(first, PARAMETER)
    add_role(first, WEIGHT)
    second = tensor.matrix()
    add_role(second, WEIGHT)
    add_role(second, PARAMETER)
    assert first.tag.roles == [WEIGHT]
    assert second.tag.roles == [WEIGHT]


def test_add_role_keeps_unrelated_roles():
    var = tensor.matrix()
    add_role(var, COST)
    add_role(var, AUXILIARY)
    add_role(var, AUXILIARY)
    assert var.tag.roles == [COST, AUXILIARY]


def test_has_roles_takes_subroles_into_account():
    var = tensor.matrix()
    add_role(var, FILTER)
    add_role(var, AUXILIARY)
    assert has_roles(var, [PARAMETER])
    assert has_roles(var, [WEIGHT, COST])
    assert not has_roles(var, [WEIGHT, COST], match_all=True)
    assert has_roles(var, [PERSISTENT, AUXILIARY], match_all=True)
    assert not has_roles(var, [BIAS])
    assert not has_roles(tensor.matrix(), [PARAMETER])


@pytest.mark.parametrize('role, name', [
    (ALGORITHM_BUFFER, 'ALGORITHM_BUFFER'),
    (BATCH_NORM_SHIFT_PARAMETER, 'BATCH_NORM_SHIFT_PARAMETER'),
    (PARAMETER, 'PARAMETER'),
])
def test_role_repr_is_upper_snake_case_of_class_name(role, name):
    assert repr(role) == name
    assert getattr(roles, name) is role


def test_roles_compare_by_class_and_are_not_hashable():
    assert roles.WeightRole() == WEIGHT
    assert WEIGHT != PARAMETER
    with pytest.raises(TypeError):
        hash(WEIGHT)


@pytest.mark.parametrize('child, parent', [
    ('WeightRole', 'ParameterRole'), ('FilterRole', 'WeightRole'),
    ('BiasRole', 'ParameterRole'),
    ('BatchNormShiftParameterRole', 'BiasRole'),
    ('InitialStateRole', 'ParameterRole'),
    ('CollectorRole', 'ParameterRole'),
    ('BatchNormScaleParameterRole', 'ParameterRole'),
    ('ParameterRole', 'PersistentRole'),
    ('BatchNormPopulationStatisticsRole', 'PersistentRole'),
    ('BatchNormPopulationMeanRole', 'BatchNormPopulationStatisticsRole'),
    ('BatchNormPopulationStdevRole', 'BatchNormPopulationStatisticsRole'),
    ('AlgorithmHyperparameterRole', 'AlgorithmStateRole'),
    ('AlgorithmBufferRole', 'AlgorithmStateRole'),
    ('BatchNormOffsetRole', 'BatchNormGraphVariableRole'),
    ('BatchNormDivisorRole', 'BatchNormGraphVariableRole'),
    ('BatchNormMinibatchEstimateRole', 'BatchNormGraphVariableRole'),
])
def test_role_hierarchy_matches_reference(child, parent):
    assert getattr(roles, child).__bases__ == (getattr(roles, parent),)


@pytest.mark.parametrize('root', [
    'InputRole', 'OutputRole', 'CostRole', 'AuxiliaryRole', 'DropoutRole',
    'CollectedRole', 'PersistentRole', 'AlgorithmStateRole',
    'BatchNormGraphVariableRole'])
def test_root_roles_subclass_variable_role(root):
    assert getattr(roles, root).__bases__ == (VariableRole,)


def test_algorithm_roles_are_algorithm_state():
    var = tensor.scalar()
    add_role(var, ALGORITHM_HYPERPARAMETER)
    assert has_roles(var, [ALGORITHM_STATE])
    assert not has_roles(var, [ALGORITHM_BUFFER])
