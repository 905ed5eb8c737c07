"""Every public name of the reference (/work/shared/api) is importable, or is
listed as missing in docs/porting.md.

The table below is the reference's public API by module (new locations for
Fuel's parts). The section "What the project does not provide" of
docs/porting.md lists the modules and names that are missing, one per line
as ``- `module` `` or ``- `module.name` ``; this test keeps the two in step:
an undocumented missing name fails, and so does a documented one that has
landed (remove it from the list).
"""
import importlib
import os
import re

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

REFERENCE = {
    'blocks.config': 'NOT_SET ConfigurationError Configuration bool_ '
                     'str_or_none config',
    'blocks.log': 'TrainingLog SQLiteLog BACKENDS',
    'blocks.log.log': 'TrainingLogBase TrainingLog',
    'blocks.log.sqlite': 'SQLiteLog SQLiteEntry SQLiteStatus',
    'blocks.main_loop': 'MainLoop',
    'blocks.extensions': 'TrainingExtension SimpleExtension '
                         'CompositeExtension FinishAfter Printing '
                         'ProgressBar Timing Timestamp',
    'blocks.extensions.monitoring': 'MonitoringExtension '
                                    'DataStreamMonitoring '
                                    'TrainingDataMonitoring',
    'blocks.extensions.predicates': 'OnLogRecord',
    'blocks.extensions.saveload': 'Checkpoint Load',
    'blocks.extensions.stopping': 'FinishIfNoImprovementAfter',
    'blocks.extensions.training': 'SharedVariableModifier TrackTheBest',
    'blocks.algorithms': 'TrainingAlgorithm UpdatesAlgorithm '
                         'GradientDescent StepRule CompositeRule Scale '
                         'BasicMomentum Momentum AdaDelta BasicRMSProp '
                         'RMSProp StepClipping VariableClipping AdaGrad '
                         'Adam RemoveNotFinite Restrict',
    'blocks.monitoring.aggregation': 'AggregationScheme Aggregator Mean '
                                     'mean TakeLast take_last Minimum '
                                     'Concatenate MonitoredQuantity '
                                     'Perplexity perplexity',
    'blocks.monitoring.evaluators': 'AggregationBuffer '
                                    'MonitoredQuantityBuffer '
                                    'DatasetEvaluator',
    'blocks.graph': 'ComputationGraph add_annotation Annotation '
                    'apply_noise collect_parameters apply_dropout add_role '
                    'has_roles AUXILIARY PARAMETER DROPOUT COLLECTED '
                    'COLLECTOR batch_normalization apply_batch_normalization '
                    'get_batch_normalization_updates',
    'blocks.graph.annotations': 'add_annotation Annotation',
    'blocks.graph.bn': 'batch_normalization apply_batch_normalization '
                       'get_batch_normalization_updates',
    'blocks.roles': 'add_role has_roles VariableRole INPUT OUTPUT COST '
                    'AUXILIARY DROPOUT COLLECTED PERSISTENT PARAMETER WEIGHT '
                    'FILTER BIAS BATCH_NORM_SHIFT_PARAMETER INITIAL_STATE '
                    'COLLECTOR BATCH_NORM_SCALE_PARAMETER '
                    'BATCH_NORM_POPULATION_STATISTICS '
                    'BATCH_NORM_POPULATION_MEAN BATCH_NORM_POPULATION_STDEV '
                    'ALGORITHM_STATE ALGORITHM_HYPERPARAMETER '
                    'ALGORITHM_BUFFER BATCH_NORM_GRAPH_VARIABLE '
                    'BATCH_NORM_OFFSET BATCH_NORM_DIVISOR '
                    'BATCH_NORM_MINIBATCH_ESTIMATE',
    'blocks.filter': 'get_annotation get_brick get_application_call '
                     'VariableFilter',
    'blocks.select': 'Path Selector',
    'blocks.model': 'Model',
    'blocks.theano_expressions': 'l2_norm hessian_times_vector',
    'blocks.serialization': 'dump secure_dump load load_parameters '
                            'add_to_dump dump_and_add_to_dump '
                            'continue_training BRICK_DELIMITER '
                            'SERIALIZATION_BRICK_DELIMITER',
    'blocks.utils': 'pack unpack reraise_as dict_subset dict_union '
                    'repr_attrs ipdb_breakpoint print_sum print_shape '
                    'change_recursion_limit extract_args find_bricks '
                    'shared_floatx_zeros_matching shared_floatx_zeros '
                    'shared_floatx_nans shared_floatx shared_like '
                    'check_theano_variable is_graph_input '
                    'is_shared_variable put_hook',
    'blocks.utils.profile': 'Profile Timer',
    'blocks.utils.containers': 'AnnotatingList',
    'blocks.utils.testing': 'silence_printing skip_if_not_available '
                            'skip_if_configuration_set MockAlgorithm '
                            'MockMainLoop',
    'blocks.version': 'version',
    'blocks.bricks': 'application Brick lazy BatchNormalization '
                     'SpatialBatchNormalization BatchNormalizedMLP '
                     'Activation Feedforward Initializable LinearLike '
                     'Random Linear Bias Maxout LinearMaxout Identity Tanh '
                     'Logistic Softplus Rectifier LeakyRectifier Softmax '
                     'NDimensionalSoftmax Sequence FeedforwardSequence MLP '
                     'WithExtraDims BaseRecurrent SimpleRecurrent LSTM '
                     'GatedRecurrent Bidirectional RecurrentStack '
                     'RECURRENTSTACK_SEPARATOR recurrent',
    'blocks.bricks.base': 'Brick Application BoundApplication '
                          'ApplicationCall application lazy Parameters '
                          'Children NoneAllocation NoneInitialization '
                          'create_unbound_method rename_function '
                          'args_to_kwargs',
    'blocks.bricks.interfaces': 'ActivationDocumentation Activation '
                                'Feedforward Initializable LinearLike '
                                'Random RNGMixin',
    'blocks.bricks.simple': 'Linear Bias Maxout LinearMaxout Identity Tanh '
                            'Logistic Softplus Rectifier LeakyRectifier '
                            'Softmax NDimensionalSoftmax',
    'blocks.bricks.sequences': 'Sequence FeedforwardSequence MLP',
    'blocks.bricks.cost': 'Cost CostMatrix BinaryCrossEntropy '
                          'AbsoluteError SquaredError '
                          'CategoricalCrossEntropy MisclassificationRate',
    'blocks.bricks.lookup': 'LookupTable',
    'blocks.bricks.wrappers': 'BrickWrapper WithExtraDims',
    'blocks.bricks.parallel': 'Parallel Fork Distribute Merge',
    'blocks.initialization': 'NdarrayInitialization Constant '
                             'IsotropicGaussian Uniform Identity Orthogonal '
                             'Sparse SparseND',
    'blocks.bricks.conv': 'Convolutional ConvolutionalTranspose Pooling '
                          'MaxPooling AveragePooling ConvolutionalSequence '
                          'Flattener',
    'blocks.bricks.bn': 'BatchNormalization SpatialBatchNormalization '
                        'BatchNormalizedMLP',
    'blocks.bricks.recurrent': 'BaseRecurrent recurrent SimpleRecurrent '
                               'LSTM GatedRecurrent Bidirectional '
                               'RecurrentStack RECURRENTSTACK_SEPARATOR',
    'blocks.bricks.attention': 'AbstractAttention GenericSequenceAttention '
                               'SequenceContentAttention '
                               'ShallowEnergyComputer '
                               'AbstractAttentionRecurrent '
                               'AttentionRecurrent',
    'blocks.bricks.sequence_generators': 'BaseSequenceGenerator '
                                         'SequenceGenerator AbstractReadout '
                                         'Readout AbstractEmitter '
                                         'SoftmaxEmitter TrivialEmitter '
                                         'AbstractFeedback TrivialFeedback '
                                         'LookupFeedback '
                                         'FakeAttentionRecurrent',
    'blocks.search': 'BeamSearch',
    # Fuel, in its new locations.
    'blocks.data.datasets': 'Dataset IterableDataset IndexableDataset '
                            'H5PYDataset MNIST CIFAR10 TextFile '
                            'OneBillionWord',
    'blocks.data.datasets.base': 'Dataset IterableDataset IndexableDataset',
    'blocks.data.datasets.hdf5': 'H5PYDataset PytablesDataset',
    'blocks.data.datasets.mnist': 'MNIST',
    'blocks.data.datasets.cifar10': 'CIFAR10',
    'blocks.data.datasets.toy': 'Spiral SwissRoll',
    'blocks.data.datasets.text': 'TextFile',
    'blocks.data.datasets.billion': 'OneBillionWord',
    'blocks.data.schemes': 'IterationScheme BatchSizeScheme BatchScheme '
                           'IndexScheme ConcatenatedScheme ConstantScheme '
                           'SequentialScheme ShuffledScheme '
                           'SequentialExampleScheme ShuffledExampleScheme '
                           'cross_validation',
    'blocks.data.streams': 'AbstractDataStream DataStream ServerDataStream',
    'blocks.data.iterator': 'DataIterator',
    'blocks.data.transformers': 'ExpectsAxisLabels Transformer '
                                'AgnosticTransformer Mapping '
                                'SourcewiseTransformer '
                                'AgnosticSourcewiseTransformer Flatten '
                                'ScaleAndShift Cast ForceFloatX Filter Cache '
                                'SortMapping Batch Unpack Padding Merge '
                                'BackgroundProcess MultiProcessing Rename '
                                'FilterSources',
    'blocks.data.transformers.sequences': 'Window NGrams',
    'blocks.data.transformers.defaults': 'uint8_pixels_to_floatX ToBytes '
                                         'rgb_images_from_encoded_bytes',
    'blocks.data.transformers.image': 'ImagesFromBytes',
    'blocks.data.server': 'send_arrays recv_arrays start_server',
    'blocks.data.config': 'NOT_SET Configuration config '
                          'multiple_paths_parser extra_downloader_converter',
    'blocks.data.exceptions': 'AxisLabelsMismatchError ConfigurationError '
                              'MissingInputFiles NeedURLPrefix',
    'blocks.data.utils': 'Subset iterable_fancy_indexing find_in_data_path '
                         'do_not_pickle_attributes lazy_property_factory '
                         'remember_cwd buffer_ cache_file',
    'blocks.data.converters': 'all_converters',
    'blocks.data.converters.base': 'check_exists fill_hdf5_file '
                                   'progress_bar MissingInputFiles',
    'blocks.data.converters.mnist': 'convert_mnist fill_subparser '
                                    'read_mnist_images read_mnist_labels '
                                    'MNIST_IMAGE_MAGIC MNIST_LABEL_MAGIC '
                                    'TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES '
                                    'TEST_LABELS ALL_FILES',
    'blocks.data.converters.cifar10': 'convert_cifar10 fill_subparser '
                                      'DISTRIBUTION_FILE',
    'blocks.data.downloaders': 'all_downloaders',
}

SECTION = "## What the project does not provide"


def documented_missing():
    """The entries of the porting notes' list of missing names."""
    with open(os.path.join(REPO, 'docs', 'porting.md')) as file:
        text = file.read()
    assert SECTION in text, f"docs/porting.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split('\n## ', 1)[0]
    return set(re.findall(r'^\s*- `([A-Za-z_][\w.]*)`', section, re.M))


def actually_missing():
    missing = set()
    for module_name, names in REFERENCE.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            missing.add(module_name)
            continue
        for name in names.split():
            if name not in vars(module) and not hasattr(module, name):
                missing.add(f'{module_name}.{name}')
    return missing


@pytest.fixture(scope='module')
def missing():
    return actually_missing()


def test_every_missing_name_is_documented(missing):
    undocumented = missing - documented_missing()
    assert not undocumented, (
        "the reference provides these and the project does not; list them "
        "in docs/porting.md (or provide them): " + ', '.join(
            sorted(undocumented)))


def test_documented_missing_names_are_really_missing(missing):
    landed = documented_missing() - missing
    assert not landed, (
        "docs/porting.md lists these as missing, but they are importable: "
        "remove them from its list: " + ', '.join(sorted(landed)))
