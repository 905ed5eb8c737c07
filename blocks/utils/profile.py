"""A hierarchical profile of where the main loop spends its time."""
import sys
import timeit
from collections import OrderedDict, defaultdict


class Profile:
    """A profile of hierarchical sections.

    Attributes
    ----------
    total : defaultdict
        Total time per section, keyed by the tuple of nested section names,
        e.g. ``('training', 'epoch', 'train')``.
    current : list
        The stack of sections entered and not yet exited.
    order : OrderedDict
        The sections in the order they were first entered.
    """

    def __init__(self):
        self.total = defaultdict(int)
        self.current = []
        self.order = OrderedDict()

    def enter(self, name: str):
        self.current.append(name)
        self.order[tuple(self.current)] = None

    def exit(self, t: float):
        self.total[tuple(self.current)] += t
        self.current.pop()

    def report(self, f=None):
        """Print a table of the time spent in each section.

        Parameters
        ----------
        f : file, optional
            Where to print; ``sys.stderr`` (looked up at call time) if not
            given.
        """
        if f is None:
            f = sys.stderr
        total = sum(v for k, v in self.total.items() if len(k) == 1)

        def print_report(keys, level=0):
            subtotal = 0
            for key in keys:
                if len(key) > level + 1:
                    continue
                subtotal += self.total[key]
                section = ' '.join(key[-1].split('_'))
                section = section[0].upper() + section[1:]
                print('{:30}{:15.2f}{:15.2%}'.format(
                    level * '  ' + section, self.total[key],
                    self.total[key] / total if total else 0), file=f)
                children = [k for k in keys
                            if k[level] == key[level] and len(k) > level + 1]
                child_total = print_report(children, level + 1)
                if children:
                    print('{:30}{:15.2f}{:15.2%}'.format(
                        (level + 1) * '  ' + 'Other',
                        self.total[key] - child_total,
                        (self.total[key] - child_total) / total
                        if total else 0), file=f)
            return subtotal

        print('{:30}{:>15}{:>15}'.format('Section', 'Time', '% of total'),
              file=f)
        print('-' * 60, file=f)
        if total:
            print_report(list(self.order.keys()))
        else:
            print('No profile information collected.', file=f)


class Timer:
    """A context manager that adds the time spent in its body to a profile.

    Parameters
    ----------
    name : str
        The name of the section.
    profile : Profile
        The profile to record the time in.
    """

    def __init__(self, name: str, profile: Profile):
        self.name = name
        self.profile = profile

    def __enter__(self):
        self.profile.enter(self.name)
        self.start = timeit.default_timer()

    def __exit__(self, *args):
        self.profile.exit(timeit.default_timer() - self.start)
