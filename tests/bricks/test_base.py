"""The brick protocol: lazy configuration, lifecycle, applications, names."""
import pickle
import warnings
from collections import OrderedDict

import numpy
import pytest
from numpy.testing import assert_equal
from pytensor import tensor

from blocks.bricks import (Brick, Initializable, Linear, MLP, Random, Tanh,
                           application, lazy)
from blocks.bricks.base import (Application, ApplicationCall,
                                BoundApplication, NoneAllocation,
                                NoneInitialization)
from blocks.filter import get_application_call, get_brick
from blocks.graph.annotations import Annotation
from blocks.initialization import Constant, IsotropicGaussian
from blocks.roles import (AUXILIARY, BIAS, COST, INPUT, OUTPUT, PARAMETER,
                          WEIGHT, has_roles)
from blocks.utils import shared_floatx


class TestBrick(Brick):
    __test__ = False

    @lazy(allocation=['config'])
    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config

    @application
    def apply(self, x, y=1, **kwargs):
        if isinstance(x, list):
            x = x[0]
        return [x, y] + list(kwargs.values())

    @application(inputs=['x'], outputs=['y'])
    def second_apply(self, x):
        return x + 1

    @second_apply.property('all')
    def second_apply_all(self):
        return self.second_apply.inputs + self.second_apply.outputs

    @application
    def delegated_apply(self, x, w):
        pass

    @delegated_apply.delegate
    def delegate(self):
        return self.second_apply

    @application
    def access_application_call(self, x, application_call):
        application_call.add_auxiliary_variable(
            shared_floatx(numpy.ones((1,)), name='test_val'))
        return x


class ParentBrick(Brick):
    def __init__(self, child=None, **kwargs):
        if child is None:
            child = TestBrick()
        self.child = child
        kwargs.setdefault('children', []).append(child)
        super().__init__(**kwargs)

    @application
    def apply(self, *args, **kwargs):
        return self.child.apply(*args, **kwargs)

    def _push_allocation_config(self):
        self.child.config = 42


class BrokenAllocateBrick(Brick):
    def _push_allocation_config(self):
        raise AttributeError

    def _allocate(self):
        raise AttributeError


class ParameterBrick(Initializable):
    def _allocate(self):
        self.parameters.append(shared_floatx(numpy.zeros((2, 2)), name='V'))


def test_lazy_accumulates_allocation_args_and_makes_positionals_keywords():
    class SomeBrick(Brick):
        @lazy(allocation=['a'], initialization=['b'])
        def __init__(self, a, b, c='c', d=None, **kwargs):
            super().__init__(**kwargs)
            self.a, self.b, self.c, self.d = a, b, c, d

    brick = SomeBrick('a')
    assert (brick.a, brick.b, brick.c, brick.d) == \
        ('a', NoneInitialization, 'c', None)
    brick = SomeBrick(d='d', b='b')
    assert brick.a is NoneAllocation
    assert brick.allocation_args == ['a']
    assert brick.initialization_args == ['b']
    assert Linear().allocation_args == ['input_dim', 'output_dim']
    assert not NoneAllocation and repr(NoneAllocation) == 'NoneAllocation'


def test_lazy_rejects_an_argument_given_both_ways():
    with pytest.raises(ValueError, match="multiple values for input_dim"):
        Linear(3, input_dim=4)


def test_lazy_rejects_too_many_positionals():
    with pytest.raises(TypeError, match=r"at most 2 positional.* 3 were"):
        Linear(3, 4, 5)


def test_lazy_keeps_other_arguments_mandatory():
    with pytest.raises(TypeError, match="activations"):
        MLP(dims=[2, 3])


def test_name_defaults_to_lowercased_class_name():
    assert TestBrick().name == 'testbrick'
    assert TestBrick(name='foo').name == 'foo'
    assert MLP([Tanh()]).children[0].name == 'linear_0'


def test_repr_and_str_show_address_and_name():
    brick = TestBrick(name='foo')
    assert repr(brick) == str(brick)
    assert hex(id(brick)) in repr(brick)
    assert repr(brick).endswith(": name=foo>")


def test_parameters_do_not_exist_before_allocation():
    brick = TestBrick(0)
    with pytest.raises(AttributeError):
        brick.parameters
    brick.allocate()
    assert brick.parameters == []


def test_allocation_without_config_names_the_brick_and_attribute():
    with pytest.raises(ValueError, match=r"^TestBrick /testbrick needs config"
                       r": set it .*allocation config not set: config"):
        TestBrick().allocate()


def test_missing_dims_of_mlp_layers_name_the_layer_path():
    mlp = MLP([Tanh(), None])
    with pytest.raises(ValueError, match=r"^Linear /mlp/linear_0 needs "
                       r"input_dim, output_dim: set it"):
        mlp.allocate()


def test_parent_pushes_allocation_config_once():
    parent = ParentBrick()
    assert parent.child.config is NoneAllocation
    parent.allocate()
    assert parent.allocation_config_pushed
    assert parent.child.config == 42
    assert parent.child.allocated
    # The push runs only while the flag is False.
    parent.child.config = 7
    parent.allocate()
    assert parent.child.config == 7
    parent.push_allocation_config()
    assert parent.child.config == 42


def test_failing_push_resets_the_flag():
    parent = ParentBrick(child=BrokenAllocateBrick())
    with pytest.raises(AttributeError):
        parent.push_allocation_config()
    assert not parent.allocation_config_pushed
    with pytest.raises(AttributeError):
        parent.allocate()
    assert not parent.allocated


def test_initialize_allocates_and_initializes_children_first():
    order = []

    class Recorder(Brick):
        def _initialize(self):
            order.append(self.name)

    child_a, child_b = Recorder(name='a'), Recorder(name='b')
    parent = Recorder(name='parent', children=[child_a, child_b])
    parent.initialize()
    assert order == ['a', 'b', 'parent']
    assert all(brick.allocated and brick.initialized
               for brick in (child_a, child_b, parent))
    assert parent.initialization_config_pushed


def test_children_and_parents_are_linked():
    child = TestBrick(name='child')
    parent = ParentBrick(child=child)
    assert child.parents == [parent]
    del parent.children[0]
    assert child.parents == []
    parent.children.append(child)
    assert child.parents == [parent]


def test_unique_path_follows_the_parent_with_the_smallest_name():
    child = TestBrick(name='child')
    ParentBrick(child=child, name='zz')
    parent_b = ParentBrick(child=child, name='bb')
    grand = Brick(name='top', children=[parent_b])
    assert child.get_unique_path() == [grand, parent_b, child]


def test_hierarchical_parameter_names():
    mlp = MLP([Tanh(), None], [3, 4, 5])
    mlp.allocate()
    names = [layer.get_hierarchical_name(p)
             for layer in mlp.linear_transformations
             for p in layer.parameters]
    assert names == ['/mlp/linear_0.W', '/mlp/linear_0.b',
                     '/mlp/linear_1.W', '/mlp/linear_1.b']
    W = mlp.linear_transformations[0].W
    assert (mlp.linear_transformations[0].get_hierarchical_name(W, '|') ==
            '|mlp|linear_0.W')


def test_parameters_get_roles_and_the_brick_annotation():
    linear = Linear(3, 4)
    linear.allocate()
    W, b = linear.parameters
    assert W.tag.roles == [WEIGHT] and b.tag.roles == [BIAS]
    assert has_roles(W, [PARAMETER])
    assert get_brick(W) is linear and get_brick(b) is linear
    brick = ParameterBrick()
    brick.allocate()
    V, = brick.parameters
    assert V.tag.roles == [PARAMETER]
    # Re-assigning the same list does not annotate twice.
    brick.parameters = list(brick.parameters)
    assert V.tag.annotations == [brick]


def test_reallocation_makes_new_parameters_and_auxiliary_variables():
    linear = Linear(3, 4)
    linear.allocate()
    old_W = linear.W
    linear.allocate()
    assert linear.W is not old_W
    assert [v.name for v in linear.auxiliary_variables] == ['W_norm',
                                                             'b_norm']


def test_application_call_tags_inputs_and_outputs():
    x = tensor.vector('x')
    brick = TestBrick(0)
    y = brick.second_apply(x)
    assert y.name == 'testbrick_second_apply_y'
    assert y.tag.name == 'y'
    assert y.tag.roles == [OUTPUT]
    assert get_brick(y) is brick
    call = get_application_call(y)
    assert isinstance(call, ApplicationCall)
    assert call.application is brick.second_apply
    assert call.metadata == {'call_id': None}
    x_copy = y.owner.inputs[0].owner.inputs[0]
    assert x_copy.tag.roles == [INPUT] and x_copy.tag.name == 'x'
    assert x_copy.name == 'testbrick_second_apply_x'
    assert x.name == 'x' and not hasattr(x.tag, 'roles')


def test_application_default_output_names_and_varargs_input_names():
    x, y = tensor.vector('x'), tensor.vector('y')
    brick = TestBrick(0)
    out_x, out_y = brick.apply(x, y)
    assert (out_x.name, out_y.name) == ('testbrick_apply_output_0',
                                        'testbrick_apply_output_1')
    parent = ParentBrick(child=TestBrick(0))
    a, b = parent.apply(x, y)
    assert copy_chain_names(a) == ['output_0', 'output_0', 'x', 'args_0']
    assert copy_chain_names(b) == ['output_1', 'output_1', 'y', 'args_1']


def copy_chain_names(variable):
    """The Blocks names along a chain of copies, from the output down."""
    names = []
    while variable.owner is not None:
        names.append(variable.tag.name)
        variable, = variable.owner.inputs
    return names


def test_application_return_styles_and_call_id():
    x = tensor.vector('x')
    brick = TestBrick(0)
    assert isinstance(brick.second_apply(x, as_list=True), list)
    as_dict = brick.second_apply(x, as_dict=True)
    assert isinstance(as_dict, OrderedDict) and list(as_dict) == ['y']
    with pytest.raises(ValueError):
        brick.second_apply(x, as_list=True, as_dict=True)
    y = brick.second_apply(x, call_id='abc')
    assert get_application_call(y).metadata['call_id'] == 'abc'


def test_unbound_style_call():
    x = tensor.vector('x')
    brick = TestBrick(0)
    y = TestBrick.second_apply(brick, x)
    assert get_brick(y) is brick
    with pytest.raises(TypeError, match="brick instance"):
        TestBrick.second_apply(x, x)


def test_unknown_keyword_names_it_and_the_inputs():
    x = tensor.vector('x')
    with pytest.raises(TypeError, match=r"TestBrick /testbrick: application "
                       r"second_apply\(\) got an unexpected keyword argument "
                       r"'z'; its inputs are \['x'\]"):
        TestBrick(0).second_apply(z=x)


def test_too_many_outputs_is_an_error():
    class TwoOutputs(Brick):
        @application(outputs=['a'])
        def apply(self, x):
            return x, x

    with pytest.raises(ValueError, match="Unexpected outputs"):
        TwoOutputs().apply(tensor.vector())


def test_application_decorator_arguments():
    with pytest.raises(ValueError):
        application(lambda self: None, inputs=['x'])
    with pytest.raises(ValueError, match="Unexpected inputs"):
        class Bad(Brick):
            @application(inputs=['nope'])
            def apply(self, x):
                return x


def test_application_properties_and_delegation():
    brick = TestBrick(0)
    assert brick.second_apply.all == ['x', 'y']
    assert brick.delegated_apply.inputs == ['x']
    assert brick.delegated_apply.outputs == ['y']
    with pytest.raises(AttributeError, match="can't set attribute"):
        TestBrick.second_apply.all = 1
    assert isinstance(TestBrick.second_apply.all, property)
    with pytest.raises(ValueError):
        TestBrick.second_apply.property(1)
    # An instance-level override does not touch the class.
    brick.second_apply.inputs = ['z']
    assert TestBrick(0).second_apply.inputs == ['x']
    assert isinstance(TestBrick.second_apply, Application)
    assert isinstance(brick.second_apply, BoundApplication)
    assert brick.second_apply is brick.second_apply
    assert brick.second_apply.name == 'second_apply'
    with pytest.raises(AttributeError):
        brick.apply.no_such_attribute


def test_application_call_auxiliary_variables():
    x = tensor.vector('x')
    brick = TestBrick(0)
    y = brick.access_application_call(x)
    call = get_application_call(y)
    aux, = call.auxiliary_variables
    assert aux.name == 'test_val'
    assert get_brick(aux) is brick
    assert has_roles(aux, [AUXILIARY])
    named = tensor.vector()
    call.add_auxiliary_variable(named, roles=[COST], name='cost')
    assert named.name == 'testbrick_access_application_call_cost'
    assert named.tag.name == 'cost'
    assert has_roles(named, [COST]) and has_roles(named, [AUXILIARY])


def test_brick_auxiliary_variables():
    linear = Linear(3, 4)
    linear.allocate()
    W_norm, b_norm = linear.auxiliary_variables
    assert (W_norm.name, b_norm.name) == ('W_norm', 'b_norm')
    assert isinstance(linear, Annotation)
    assert get_brick(W_norm) is linear


def test_calling_a_brick_that_is_not_a_child_warns():
    class Caller(Brick):
        def __init__(self, callee, **kwargs):
            super().__init__(**kwargs)
            self.callee = callee

        @application
        def apply(self, x):
            return self.callee.second_apply(x)

    with pytest.warns(UserWarning, match="not in the list of its children"):
        Caller(TestBrick(0)).apply(tensor.vector())
    # An unconfigured child fails on allocation (upstream test_apply_not_child)
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        Caller(TestBrick()).apply(tensor.vector())


def test_default_get_dim():
    with pytest.raises(ValueError,
                       match="No dimension information for foo available"):
        TestBrick().get_dim('foo')
    linear = Linear(3, 4)
    assert linear.get_dims(['input_', 'output']) == [3, 4]


def test_initializable_seeds():
    assert Linear(seed=1).rng.randint(1000) == \
        numpy.random.RandomState(1).randint(1000)
    assert Linear().seed != Linear().seed
    linear = Linear()
    with pytest.raises(AttributeError, match="seed already set"):
        linear.seed = 3
    rng = numpy.random.RandomState(5)
    linear.rng = rng
    assert linear.rng is rng


def test_reinitialization_with_seed():
    def weights(seed):
        mlp = MLP([Tanh(), None], [3, 4, 2], seed=seed,
                  weights_init=IsotropicGaussian(),
                  biases_init=IsotropicGaussian())
        mlp.initialize()
        return [p.get_value() for layer in mlp.linear_transformations
                for p in layer.parameters]

    first, again, other = weights(1), weights(1), weights(2)
    for a, b, c in zip(first, again, other, strict=True):
        assert_equal(a, b)
        assert not numpy.allclose(a, c)
    # The order of the walk decides the values: b of linear_0 comes first.
    assert_equal(first[1], numpy.random.RandomState(1).normal(size=(4,)))


def test_initializable_pushes_schemes_and_rng():
    mlp = MLP([Tanh(), None], [3, 4, 2], weights_init=Constant(2),
              biases_init=Constant(1))
    mlp.push_initialization_config()
    first, second = mlp.linear_transformations
    assert first.rng is mlp.rng and second.rng is mlp.rng
    assert first.weights_init is mlp.weights_init
    # Override a child between the push and the initialization.
    second.weights_init = Constant(3)
    mlp.initialize()
    assert_equal(first.W.get_value(), numpy.full((3, 4), 2.))
    assert_equal(second.W.get_value(), numpy.full((4, 2), 3.))
    assert_equal(second.b.get_value(), numpy.ones(2))


def test_missing_initialization_scheme_is_a_clear_error():
    mlp = MLP([Tanh()], [3, 4], weights_init=Constant(1))
    with pytest.raises(ValueError, match=r"Linear /mlp/linear_0 has no "
                       r"biases_init: set it"):
        mlp.initialize()
    linear = Linear(3, 4, use_bias=False)
    with pytest.raises(ValueError, match="has no weights_init"):
        linear.initialize()


def test_has_biases_false_rejects_bias_config():
    class NoBiases(Initializable):
        has_biases = False

    assert not hasattr(NoBiases(use_bias=False), 'biases_init')
    NoBiases()
    with pytest.raises(ValueError, match="has no biases"):
        NoBiases(biases_init=Constant(0))
    with pytest.raises(ValueError, match="has no biases"):
        NoBiases(use_bias=True)


def test_random_brick_seeds_and_streams():
    brick = Random(theano_seed=3)
    assert brick.theano_seed == 3
    assert brick.theano_rng is brick.theano_rng
    with pytest.raises(AttributeError, match="seed already set"):
        brick.theano_seed = 4
    assert Random().theano_seed != Random().theano_seed


def test_bricks_pickle():
    x = tensor.matrix('x')
    mlp = MLP([Tanh(), None], [3, 4, 2], weights_init=IsotropicGaussian(),
              biases_init=Constant(1), seed=3)
    mlp.apply(x)
    mlp.initialize()
    random = Random()
    random.theano_rng.normal(size=(2,))
    loaded, loaded_random = pickle.loads(pickle.dumps((mlp, random)))
    assert loaded.name == 'mlp' and loaded.initialized
    assert [c.name for c in loaded.children] == ['linear_0', 'tanh',
                                                 'linear_1']
    assert all(child.parents == [loaded] for child in loaded.children)
    first = loaded.linear_transformations[0]
    assert_equal(first.W.get_value(), mlp.linear_transformations[0].W
                 .get_value())
    assert get_brick(first.W) is first
    assert loaded.apply.inputs == ['input_']
    assert loaded.rng.randint(1000) == mlp.rng.randint(1000)
    assert get_brick(loaded.apply(x)) is loaded
    assert loaded_random.theano_seed == random.theano_seed
    assert TestBrick.apply is pickle.loads(pickle.dumps(TestBrick.apply))
    assert pickle.loads(pickle.dumps(NoneAllocation)) is NoneAllocation
