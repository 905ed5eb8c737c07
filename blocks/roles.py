"""Roles: what a variable is for (parameter, weight, input, buffer...).

A role is an instance of a :class:`VariableRole` subclass stored in the
variable's ``tag.roles`` list. Roles form a class hierarchy: ``WEIGHT`` is a
``PARAMETER``, so a filter for ``PARAMETER`` also finds weights.
"""
import re

__all__ = ['add_role', 'has_roles', 'VariableRole',
           'InputRole', 'INPUT', 'OutputRole', 'OUTPUT', 'CostRole', 'COST',
           'PersistentRole', 'PERSISTENT', 'ParameterRole', 'PARAMETER',
           'AuxiliaryRole', 'AUXILIARY', 'WeightRole', 'WEIGHT',
           'BiasRole', 'BIAS', 'InitialStateRole', 'INITIAL_STATE',
           'FilterRole', 'FILTER', 'DropoutRole', 'DROPOUT',
           'CollectedRole', 'COLLECTED', 'CollectorRole', 'COLLECTOR',
           'AlgorithmStateRole', 'ALGORITHM_STATE',
           'AlgorithmHyperparameterRole', 'ALGORITHM_HYPERPARAMETER',
           'AlgorithmBufferRole', 'ALGORITHM_BUFFER',
           'BatchNormPopulationStatisticsRole',
           'BATCH_NORM_POPULATION_STATISTICS',
           'BatchNormPopulationMeanRole', 'BATCH_NORM_POPULATION_MEAN',
           'BatchNormPopulationStdevRole', 'BATCH_NORM_POPULATION_STDEV',
           'BatchNormGraphVariableRole', 'BATCH_NORM_GRAPH_VARIABLE',
           'BatchNormOffsetRole', 'BATCH_NORM_OFFSET',
           'BatchNormDivisorRole', 'BATCH_NORM_DIVISOR',
           'BatchNormMinibatchEstimateRole', 'BATCH_NORM_MINIBATCH_ESTIMATE',
           'BatchNormScaleParameterRole', 'BATCH_NORM_SCALE_PARAMETER',
           'BatchNormShiftParameterRole', 'BATCH_NORM_SHIFT_PARAMETER']


def add_role(var, role):
    """Add a role to a given variable.

    Roles equal to or more general than `role` are removed first; `role`
    is then added unless an equal or more specific role is already there,
    so a variable carries the most specific form of each role.

    Parameters
    ----------
    var : :class:`~pytensor.graph.basic.Variable`
        The variable to assign the new role to.
    role : :class:`.VariableRole` instance

    Examples
    --------
    >>> from pytensor import tensor
    >>> W = tensor.matrix()
    >>> from blocks.roles import PARAMETER, WEIGHT
    >>> add_role(W, PARAMETER)
    >>> print(*W.tag.roles)
    PARAMETER
    >>> add_role(W, WEIGHT)
    >>> print(*W.tag.roles)
    WEIGHT
    >>> add_role(W, PARAMETER)
    >>> print(*W.tag.roles)
    WEIGHT

    """
    roles = getattr(var.tag, 'roles', [])
    roles = [old_role for old_role in roles
             if not isinstance(role, old_role.__class__)]
    if not any(isinstance(old_role, role.__class__) for old_role in roles):
        roles.append(role)
    var.tag.roles = roles


def has_roles(var, roles, match_all: bool = False) -> bool:
    """Test if a variable has given roles taking subroles into account.

    Parameters
    ----------
    var : :class:`~pytensor.graph.basic.Variable`
        Variable being queried.
    roles : an iterable of :class:`.VariableRole` instances.
    match_all : bool, optional
        If ``True``, checks if the variable has all given roles.
        If ``False``, any of the roles is sufficient.
        ``False`` by default.

    """
    var_roles = getattr(var.tag, 'roles', [])
    matches = (any(isinstance(var_role, role.__class__) for
                   var_role in var_roles) for role in roles)
    return all(matches) if match_all else any(matches)


class VariableRole:
    """Base class for all variable roles."""

    def __eq__(self, other):
        return self.__class__ == other.__class__

    # Like upstream, roles compare by class and are not hashable.
    __hash__ = None

    def __repr__(self):
        return re.sub(r'(?!^)([A-Z]+)', r'_\1',
                      self.__class__.__name__[:-4]).upper()


class InputRole(VariableRole):
    pass


#: The input of a :class:`~.bricks.Brick`
INPUT = InputRole()


class OutputRole(VariableRole):
    pass


#: The output of a :class:`~.bricks.Brick`
OUTPUT = OutputRole()


class CostRole(VariableRole):
    pass


#: A scalar cost that can be used to train or regularize
COST = CostRole()


class PersistentRole(VariableRole):
    pass


#: Any variable that should persist between training steps
PERSISTENT = PersistentRole()


class ParameterRole(PersistentRole):
    pass


#: A parameter of the model
PARAMETER = ParameterRole()


class AuxiliaryRole(VariableRole):
    pass


#: Variables added to the graph as annotations
AUXILIARY = AuxiliaryRole()


class WeightRole(ParameterRole):
    pass


#: The weight matrices of linear transformations
WEIGHT = WeightRole()


class BiasRole(ParameterRole):
    pass


#: Biases of linear transformations
BIAS = BiasRole()


class InitialStateRole(ParameterRole):
    pass


#: Initial state of a recurrent network
INITIAL_STATE = InitialStateRole()


class FilterRole(WeightRole):
    pass


#: The filters (kernels) of a convolution operation
FILTER = FilterRole()


class DropoutRole(VariableRole):
    pass


#: Inputs with applied dropout
DROPOUT = DropoutRole()


class CollectedRole(VariableRole):
    pass


#: The replacement of a variable on a graph
COLLECTED = CollectedRole()


class CollectorRole(ParameterRole):
    pass


#: A variable that is used to collect other variables
COLLECTOR = CollectorRole()


class AlgorithmStateRole(VariableRole):
    pass


#: Shared variables used by algorithms to store their state
ALGORITHM_STATE = AlgorithmStateRole()


class AlgorithmHyperparameterRole(AlgorithmStateRole):
    pass


#: Hyperparameters of a training algorithm (e.g. a learning rate)
ALGORITHM_HYPERPARAMETER = AlgorithmHyperparameterRole()


class AlgorithmBufferRole(AlgorithmStateRole):
    pass


#: Buffers an algorithm keeps between steps (e.g. a momentum velocity)
ALGORITHM_BUFFER = AlgorithmBufferRole()


class BatchNormPopulationStatisticsRole(PersistentRole):
    pass


#: A variable used to store population statistics for batch normalization
BATCH_NORM_POPULATION_STATISTICS = BatchNormPopulationStatisticsRole()


class BatchNormPopulationMeanRole(BatchNormPopulationStatisticsRole):
    pass


#: A variable used to store the population mean of a batch-normalized unit
BATCH_NORM_POPULATION_MEAN = BatchNormPopulationMeanRole()


class BatchNormPopulationStdevRole(BatchNormPopulationStatisticsRole):
    pass


#: A variable used to store the population standard deviation
BATCH_NORM_POPULATION_STDEV = BatchNormPopulationStdevRole()


class BatchNormGraphVariableRole(VariableRole):
    pass


#: A variable that is the result of batch normalization in the graph
BATCH_NORM_GRAPH_VARIABLE = BatchNormGraphVariableRole()


class BatchNormOffsetRole(BatchNormGraphVariableRole):
    pass


#: The offset (mean) applied by a batch normalization application
BATCH_NORM_OFFSET = BatchNormOffsetRole()


class BatchNormDivisorRole(BatchNormGraphVariableRole):
    pass


#: The divisor (standard deviation) of a batch normalization application
BATCH_NORM_DIVISOR = BatchNormDivisorRole()


class BatchNormMinibatchEstimateRole(BatchNormGraphVariableRole):
    pass


#: A minibatch estimate of a batch normalization statistic
BATCH_NORM_MINIBATCH_ESTIMATE = BatchNormMinibatchEstimateRole()


class BatchNormScaleParameterRole(ParameterRole):
    pass


#: The scale (gamma) parameter of batch normalization
BATCH_NORM_SCALE_PARAMETER = BatchNormScaleParameterRole()


class BatchNormShiftParameterRole(BiasRole):
    pass


#: The shift (beta) parameter of batch normalization
BATCH_NORM_SHIFT_PARAMETER = BatchNormShiftParameterRole()
