import pytest

from blocks.bricks import MLP, Tanh
from blocks.select import Path, Selector


@pytest.fixture
def mlp():
    mlp = MLP([Tanh(), Tanh()], [3, 4, 2], name='mlp')
    mlp.allocate()
    return mlp


def test_path_parse_and_str():
    path = Path.parse('/mlp/linear_0.W')
    assert path.nodes == (Path.BrickName('mlp'), Path.BrickName('linear_0'),
                          Path.ParameterName('W'))
    assert isinstance(path.nodes[-1], Path.ParameterName)
    assert str(path) == '/mlp/linear_0.W'
    assert Path.parse('no_separator').nodes == ()
    assert Path.parse('/a') + Path.parse('.b') == Path.parse('/a.b')
    assert hash(Path.parse('/a.b')) == hash(Path.parse('/a.b'))


def test_path_nodes_must_be_a_list_or_tuple():
    with pytest.raises(ValueError):
        Path('/mlp')


def test_select_bricks_and_parameters(mlp):
    first = mlp.linear_transformations[0]
    assert Selector(mlp).select('/mlp/linear_0').bricks == [first]
    assert Selector(mlp).select('/mlp/linear_0.W') == [first.W]
    assert Selector(mlp).select('/other').bricks == []
    assert Selector(mlp).select('/mlp').select('/mlp/linear_1.b') == [
        mlp.linear_transformations[1].b]


def test_get_parameters_keys_are_hierarchical_names(mlp):
    parameters = Selector([mlp]).get_parameters()
    assert list(parameters) == ['/mlp/linear_0.W', '/mlp/linear_0.b',
                                '/mlp/linear_1.W', '/mlp/linear_1.b']
    assert list(Selector([mlp]).get_parameters('W')) == [
        '/mlp/linear_0.W', '/mlp/linear_1.W']


def test_name_collision_raises(mlp):
    mlp.linear_transformations[1].name = 'linear_0'
    with pytest.raises(ValueError, match='Name collision'):
        Selector([mlp]).get_parameters()
