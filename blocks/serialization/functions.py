"""Compiled functions in checkpoints: stored as their graph, rebuilt on load.

PyTensor pickles a compiled function as its optimized graph, with every
rewriting feature attached, and links it again when unpickled: for a small
MLP that is over half of the main loop's pickle and of the time spent
writing a checkpoint, for something that can be rebuilt. A function
compiled by :func:`blocks.compilation.function` remembers the graph and
the arguments it was compiled from
(:func:`blocks.compilation.remember_how_to_compile`); the
checkpoint picklers store only that recipe, whose variables the pickle of
the main loop holds anyway (the algorithm's cost, updates and inputs), and
unpickling compiles it again through :func:`blocks.compilation.function`,
with the mode blocks would choose in the process that loads it (BLAS
included). The same graph compiled with the same mode computes the same
numbers, so a resumed run is bit-identical to an uninterrupted one.

Functions compiled by :func:`pytensor.function` directly have no recipe and
are pickled by PyTensor as before.
"""
from collections.abc import Sequence
from typing import Any

# PyTensor and blocks.compilation are imported where they are used: the
# data layer imports blocks.serialization and must not load PyTensor.


def reduce_compiled_function(function: Any) -> Any:
    """The ``__reduce__`` value that rebuilds ``function`` from its recipe.

    ``NotImplemented`` (PyTensor's own pickling) when it has none.
    """
    from blocks.compilation import RECIPE_ATTRIBUTE
    recipe = getattr(function.maker, RECIPE_ATTRIBUTE, None)
    if recipe is None:
        return NotImplemented
    inputs, outputs, kwargs = recipe
    return _recompile, (inputs, outputs, kwargs, function.trust_input)


def _recompile(inputs: Sequence[Any] | None, outputs: Any,
               kwargs: dict[str, Any], trust_input: bool = False) -> Any:
    """Compile a function again from its recipe (at unpickling)."""
    import pytensor

    from blocks.compilation import function as compile_function
    if not pytensor.config.unpickle_function:
        # PyTensor's own pickling honours this flag the same way.
        return None
    compiled = compile_function(inputs, outputs, **kwargs)
    compiled.trust_input = trust_input
    return compiled
