"""``blocks.graph`` re-exports the names the reference's module imported."""
import blocks.roles
from blocks.graph import (
    AUXILIARY, COLLECTED, COLLECTOR, DROPOUT, PARAMETER, add_role, has_roles)
from blocks.utils import shared_floatx_zeros


def test_roles_imported_from_graph_tag_variables_as_blocks_roles():
    assert (AUXILIARY, COLLECTED, COLLECTOR, DROPOUT, PARAMETER) == (
        blocks.roles.AUXILIARY, blocks.roles.COLLECTED,
        blocks.roles.COLLECTOR, blocks.roles.DROPOUT, blocks.roles.PARAMETER)
    variable = shared_floatx_zeros((2,))
    add_role(variable, PARAMETER)
    assert has_roles(variable, [blocks.roles.PARAMETER])
    assert not has_roles(variable, [DROPOUT])
