"""Keep what backpropagation through a scan would compute again.

PyTensor differentiates a scan by running a second scan backwards whose
step is the gradient of the forward step. That gradient needs the values
of the step's nonlinearities (``sigmoid(x) * (1 - sigmoid(x))``), and the
backward step recomputes them, with everything they depend on: for an
LSTM, the recurrent matrix product and the gate arithmetic of every step,
which made the backward scan twice as slow as the forward one.

PyTensor reads a value from the forward scan instead when the forward
step returns it as an output. :func:`save_intermediates` rebuilds a scan
node with one extra output (a sequence, one value per step) for each
nonlinearity of its step that is not already an output. A function that
never differentiates the scan drops the extra outputs: PyTensor's
``scan_remove_unused`` rewrite removes outputs that nothing reads.
"""
import copy
from collections.abc import Collection

from pytensor.graph.basic import Apply, Variable
from pytensor.graph.traversal import io_toposort
from pytensor.scalar.basic import Exp, Tanh
from pytensor.scalar.math import Sigmoid
from pytensor.scan.op import Scan
from pytensor.scan.utils import ScanArgs
from pytensor.tensor.elemwise import Elemwise
from pytensor.tensor.special import Softmax

__all__ = ['save_intermediates', 'saved_intermediates']

# Operations whose gradient is written with their own value.
_SELF_DIFFERENTIATING = (Exp, Sigmoid, Tanh)


def _saves(node: Apply) -> bool:
    if isinstance(node.op, Softmax):
        return True
    return (isinstance(node.op, Elemwise)
            and isinstance(node.op.scalar_op, _SELF_DIFFERENTIATING))


def saved_intermediates(inner_inputs: list[Variable],
                        inner_outputs: list[Variable],
                        constants: Collection[Variable] = ()
                        ) -> list[Variable]:
    """The step's values that its gradient would recompute.

    Outputs of ``exp``, ``sigmoid``, ``tanh`` and ``softmax`` that change
    from step to step (that depend on an input not in `constants`, the
    non-sequences), except those the step already returns.

    """
    returned = set(inner_outputs)
    varying = set(inner_inputs) - set(constants)
    nodes = io_toposort(inner_inputs, inner_outputs)
    for node in nodes:
        if any(variable in varying for variable in node.inputs):
            varying.update(node.outputs)
    # Last computed first: PyTensor matches the saved values in order and
    # stops at a match, so a value is found before the values it was
    # computed from are replaced inside it (which would hide it).
    return [node.outputs[0] for node in reversed(nodes)
            if _saves(node) and node.outputs[0] in varying
            and node.outputs[0] not in returned and node.outputs[0].ndim > 0]


def save_intermediates(node: Apply) -> dict[Variable, Variable]:
    """Rebuild scan `node` with its step's intermediates as outputs.

    Parameters
    ----------
    node : :class:`~pytensor.graph.basic.Apply`
        A node of a :class:`~pytensor.scan.op.Scan`.

    Returns
    -------
    dict
        Each output of `node` mapped to the same output of the new node,
        for :func:`~pytensor.graph.replace.graph_replace`; empty when the
        step has nothing to save.

    """
    if not isinstance(node.op, Scan):
        raise TypeError(f"{node} is not a scan")
    args = ScanArgs.from_node(node)
    extra = saved_intermediates(args.inner_inputs, args.inner_outputs,
                                args.inner_in_non_seqs)
    if not extra:
        return {}
    new_args = copy.copy(args)
    new_args.inner_out_nit_sot.extend(extra)
    # A nit-sot's outer input is the number of steps to store.
    new_args.outer_in_nit_sot.extend([node.inputs[0]] * len(extra))
    op = node.op
    new_op = Scan(new_args.inner_inputs, new_args.inner_outputs,
                  new_args.info, mode=op.mode, profile=op.profile,
                  truncate_gradient=op.truncate_gradient, name=op.name,
                  allow_gc=op.allow_gc, strict=op.strict)
    new_outputs = new_op(*new_args.outer_inputs, return_list=True)
    # The new outputs come after the old nit-sots, before the untraced
    # (shared variable) outputs.
    end = len(args.outer_outputs) - len(args.outer_out_shared)
    kept = new_outputs[:end] + new_outputs[end + len(extra):]
    return dict(zip(node.outputs, kept, strict=True))
