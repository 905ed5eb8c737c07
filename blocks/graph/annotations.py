"""Annotations: metadata objects attached to variables of a graph."""
from collections import OrderedDict

from blocks.roles import add_role, AUXILIARY

__all__ = ['add_annotation', 'Annotation']


def add_annotation(var, annotation):
    """Attach `annotation` to ``var.tag.annotations``.

    A variable carries at most one annotation of each class: adding a
    second one of the same class raises :class:`ValueError`.

    """
    annotations = getattr(var.tag, 'annotations', [])
    if any(old.__class__ == annotation.__class__ for old in annotations):
        raise ValueError(
            f"variable {var} already has an annotation of class "
            f"{annotation.__class__.__name__}; a variable can carry only "
            f"one annotation of each class")
    # A new list rather than append: copies of a tag must not share it.
    var.tag.annotations = annotations + [annotation]


class Annotation:
    """Annotations on PyTensor variables in a graph.

    In Blocks annotations are automatically attached to variables created
    using bricks. One form of annotation is that many variables are
    assigned a role (see :class:`.VariableRole`). A second form is an
    :class:`Annotation` instance attached to the variable's ``tag``
    attribute, holding auxiliary variables and updates.

    Attributes
    ----------
    auxiliary_variables : list
        Auxiliary variables (e.g. monitoring quantities) that a
        :class:`.ComputationGraph` adds to its ``variables``.
    updates : :class:`~collections.OrderedDict`
        Updates that a :class:`.ComputationGraph` collects in its
        ``updates``.

    Examples
    --------
    >>> from pytensor import tensor
    >>> x = tensor.vector('x')
    >>> annotation = Annotation()
    >>> add_annotation(x, annotation)
    >>> annotation.add_auxiliary_variable(x.mean(), name='x_mean')
    >>> [v.name for v in annotation.auxiliary_variables]
    ['x_mean']

    """

    def __init__(self):
        self.auxiliary_variables = []
        self.updates = OrderedDict()

    def add_auxiliary_variable(self, variable, roles=None, name=None):
        """Attach an auxiliary variable to the graph.

        Auxiliary variables are PyTensor variables that are not part of a
        brick's output, but can be useful nonetheless e.g. as a regularizer
        or to monitor during training progress.

        Parameters
        ----------
        variable : :class:`~pytensor.graph.basic.Variable`
            The variable you want to add.
        roles : list of :class:`.VariableRole` instances, optional
            The roles of this variable. The :const:`.AUXILIARY`
            role will automatically be added. Other options are
            :const:`.COST`, :const:`.WEIGHT`, etc.
        name : str, optional
            Name to give to the variable. If the variable already has a
            name it will be overwritten.

        """
        add_annotation(variable, self)
        if name is not None:
            variable.name = name
            variable.tag.name = name
        add_role(variable, AUXILIARY)
        if roles is not None:
            for role in roles:
                add_role(variable, role)
        self.auxiliary_variables.append(variable)
