"""The :class:`ComputationGraph`: a PyTensor graph and its Blocks metadata."""
import warnings
from collections import OrderedDict
from itertools import chain

from pytensor.compile.mode import get_mode
from pytensor.graph.basic import Variable
from pytensor.graph.replace import clone_replace
from pytensor.graph.traversal import graph_inputs, io_toposort
from pytensor.scan.op import Scan

from blocks.compilation import default_mode, function
from blocks.roles import has_roles, AUXILIARY, PARAMETER
from blocks.utils.theano_utils import is_graph_input, is_shared_variable
from blocks.utils.utils import dict_union

__all__ = ['ComputationGraph']


class ComputationGraph:
    r"""Encapsulates a managed PyTensor computation graph.

    This implies that it not only contains the variables required to
    compute the given outputs, but also all the auxiliary variables and
    updates that were attached to these variables through the annotation
    system.

    All variables are presented in topologically sorted order according to
    the apply nodes that they are an input to.

    Parameters
    ----------
    outputs : (list of) :class:`~pytensor.graph.basic.Variable`
        The output(s) of the computation graph.

    Attributes
    ----------
    inputs : list of :class:`~pytensor.graph.basic.Variable`
        The inputs of the computation graph. This does not include shared
        variables and constants.
    shared_variables : list of SharedVariable
        All the shared variables in the graph.
    parameters : list of :class:`~pytensor.compile.sharedvalue.SharedVariable`
        All the shared variables which have the :const:`.PARAMETER` role.
    outputs : list of :class:`~pytensor.graph.basic.Variable`
        The outputs of the computations graph (as passed to the
        constructor).
    auxiliary_variables : list of :class:`~pytensor.graph.basic.Variable`
        All variables which have the :const:`.AUXILIARY` role.
    intermediary_variables : list of :class:`~pytensor.graph.basic.Variable`
        Any variable that is not part of :attr:`inputs` or :attr:`outputs`.
    variables : list of :class:`~pytensor.graph.basic.Variable`
        All variables (including auxiliary) in the managed graph.
    scans : list of :class:`~pytensor.scan.op.Scan`
        All Scan ops used in this computation graph.
    scan_variables : list of :class:`~pytensor.graph.basic.Variable`
        All variables of the inner graphs of Scan ops.
    updates : :class:`~collections.OrderedDict`
        All the updates found attached to the annotations.

    Examples
    --------
    >>> from pytensor import tensor
    >>> x = tensor.vector('x')
    >>> cg = ComputationGraph(2 * x + 1)
    >>> cg.inputs
    [x]

    """

    def __init__(self, outputs):
        if isinstance(outputs, Variable):
            outputs = [outputs]
        self.outputs = list(outputs)
        self._get_variables()
        self._has_inputs = {}

    def __iter__(self):
        return iter(self.variables)

    @property
    def inputs(self):
        """Inputs to the graph, excluding constants and shared variables."""
        return [var for var in self.variables if is_graph_input(var)]

    @property
    def intermediary_variables(self):
        """Variables that are neither inputs nor outputs."""
        # Sets of ids: the membership tests of upstream's list version are
        # quadratic in the size of the graph.
        excluded = {id(var) for var in self.inputs}
        excluded.update(id(var) for var in self.outputs)
        return [var for var in self.variables if id(var) not in excluded]

    @property
    def shared_variables(self):
        """Shared variables (random generator states excluded)."""
        return [var for var in self.variables if is_shared_variable(var)]

    @property
    def parameters(self):
        """Shared variables with the :const:`.PARAMETER` role or a subrole."""
        return [var for var in self.shared_variables
                if has_roles(var, [PARAMETER])]

    @property
    def auxiliary_variables(self):
        """Variables with the :const:`.AUXILIARY` role."""
        return [var for var in self.variables if has_roles(var, [AUXILIARY])]

    @property
    def scan_variables(self):
        """Variables of the inner graphs of Scan ops."""
        return list(chain(*[graph.variables for graph in self._scan_graphs]))

    def _get_variables(self):
        """Collect variables, updates and auxiliary variables.

        In addition collects all :class:`~pytensor.scan.op.Scan` ops and
        recurses in the respective inner PyTensor graphs.

        """
        updates = OrderedDict()

        shared_outputs = [o for o in self.outputs if is_shared_variable(o)]
        usual_outputs = [o for o in self.outputs
                         if not is_shared_variable(o)]
        variables = shared_outputs
        # Upstream sets these only when there are non-shared outputs; an
        # empty list is the same answer without an AttributeError.
        self.scans = []
        self._scan_graphs = []

        if usual_outputs:
            # Sort apply nodes topologically, get variables and remove
            # duplicates
            inputs = list(graph_inputs(self.outputs))
            sorted_apply_nodes = io_toposort(inputs, usual_outputs)
            seen_ops = set()
            for node in sorted_apply_nodes:
                if isinstance(node.op, Scan) and id(node.op) not in seen_ops:
                    seen_ops.add(id(node.op))
                    self.scans.append(node.op)
            self._scan_graphs = [ComputationGraph(scan.inner_outputs)
                                 for scan in self.scans]

            seen = set()
            main_vars = (
                [var for var in chain(
                    *[apply_node.inputs for apply_node in sorted_apply_nodes])
                 if not (var in seen or seen.add(var))] +
                [var for var in self.outputs if var not in seen])

            # While preserving order add auxiliary variables, and collect
            # updates
            seen = set()
            # Intermediate variables could be auxiliary
            seen_avs = set(main_vars)
            variables = []
            for var in main_vars:
                variables.append(var)
                for annotation in getattr(var.tag, 'annotations', []):
                    if annotation not in seen:
                        seen.add(annotation)
                        new_avs = [
                            av for av in annotation.auxiliary_variables
                            if not (av in seen_avs or seen_avs.add(av))]
                        variables.extend(new_avs)
                        updates = dict_union(updates, annotation.updates)

        self.variables = variables
        self.updates = updates

    def dict_of_inputs(self):
        """Return a mapping from an input name to the input."""
        return {var.name: var for var in self.inputs}

    def replace(self, replacements):
        """Replace certain variables in the computation graph.

        Parameters
        ----------
        replacements : dict
            The mapping from variables to be replaced to the corresponding
            substitutes.

        Examples
        --------
        >>> from pytensor import tensor
        >>> from pytensor.printing import pprint
        >>> x = tensor.scalar('x')
        >>> y = x + 2
        >>> z = y + 3
        >>> a = z + 5

        Let's suppose we have dependent replacements like

        >>> replacements = {y: x * 2, z: y * 3}
        >>> cg = ComputationGraph([a])
        >>> pprint(a)  # doctest: +NORMALIZE_WHITESPACE
        '(((x + 2) + 3) + 5)'
        >>> cg_new = cg.replace(replacements)
        >>> pprint(cg_new.outputs[0])  # doctest: +NORMALIZE_WHITESPACE
        '(((x * 2) * 3) + 5)'

        First two sums turned into multiplications

        >>> float(cg_new.outputs[0].eval({x: 2}))
        17.0

        """
        # Due to PyTensor specifics we have to make one replacement in time
        replacements = OrderedDict(replacements)

        outputs_cur = self.outputs

        # `replacement_keys` contains original variables to be replaced
        # `replacement_vals` contains the replacements
        replacement_keys_cur = []
        replacement_vals_cur = []
        # Sort `replacements` in topological order
        # variables in self.variables are in topological order
        remaining_replacements = replacements.copy()
        for variable in self.variables:
            if variable in replacements:
                if has_roles(variable, [AUXILIARY]):
                    warnings.warn(
                        f"replace method was asked to replace a variable "
                        f"({variable}) that is an auxiliary variable.",
                        stacklevel=2)
                replacement_keys_cur.append(variable)
                # self.variables should not contain duplicates,
                # otherwise pop() may fail.
                replacement_vals_cur.append(
                    remaining_replacements.pop(variable))

        # if remaining_replacements is not empty
        if remaining_replacements:
            warnings.warn(
                f"replace method was asked to replace a variable(s) "
                f"({list(remaining_replacements.keys())}) that is not a part "
                f"of the computational graph.", stacklevel=2)

        # Replace step-by-step in topological order
        while replacement_keys_cur:
            replace_what = replacement_keys_cur[0]
            replace_by = replacement_vals_cur[0]
            # We also want to make changes in future replacements
            outputs_new = clone_replace(
                outputs_cur + replacement_keys_cur[1:] +
                replacement_vals_cur[1:],
                replace={replace_what: replace_by})
            # Reconstruct outputs, keys, and values
            n_outputs = len(outputs_cur)
            n_keys = len(replacement_keys_cur) - 1
            outputs_cur = outputs_new[:n_outputs]
            replacement_keys_cur = outputs_new[n_outputs:n_outputs + n_keys]
            replacement_vals_cur = outputs_new[n_outputs + n_keys:]

        return ComputationGraph(outputs_cur)

    def get_theano_function(self, additional_updates=None, **kwargs):
        r"""Create a PyTensor function from the contained graph.

        The function is compiled through :func:`blocks.compilation.function`
        and therefore uses blocks' default mode unless `mode` is given.

        Parameters
        ----------
        additional_updates : list or dict
            PyTensor updates to be added to the function's updates, on top
            of the graph's own.
        \*\*kwargs : dict
            Keyword arguments passed to the function.

        """
        updates = self.updates
        if additional_updates:
            updates = dict_union(updates, OrderedDict(additional_updates))
        return function(self.inputs, self.outputs, updates=updates, **kwargs)

    def get_snapshot(self, data):
        """Evaluate all role-carrying PyTensor variables on given data.

        Parameters
        ----------
        data : dict of (data source, data) pairs
            Data for input variables. The sources should match with the
            names of the input variables.

        Returns
        -------
        Dictionary of (variable, variable value on given data) pairs.

        """
        role_variables = [var for var in self.variables
                          if hasattr(var.tag, "roles") and
                          not is_shared_variable(var)]
        # Outputs rather than upstream's shared holders updated in place:
        # same values, one fewer copy.
        # Without the shape rewrites: with them, PyTensor 3.0.7 fails to
        # compile outputs that include an input and sizes of it (such as
        # the batch sizes that recurrent bricks read), claiming a cycle.
        mode = get_mode(default_mode()).excluding('ShapeOpt')
        evaluate = function(self.inputs, role_variables, mode=mode,
                            updates=self.updates, on_unused_input='ignore')
        values = evaluate(*(data[input_.name] for input_ in self.inputs))
        return OrderedDict(zip(role_variables, values, strict=True))

    def has_inputs(self, variable):
        """Check if a variable depends on input variables.

        Returns
        -------
        bool
            ``True`` if the given variable depends on input variables,
            ``False`` otherwise.

        """
        if variable not in self._has_inputs:
            self._has_inputs[variable] = False
            if is_graph_input(variable):
                self._has_inputs[variable] = True
            elif getattr(variable, 'owner', None):
                for dependancy in variable.owner.inputs:
                    if self.has_inputs(dependancy):
                        self._has_inputs[variable] = True
        return self._has_inputs[variable]
