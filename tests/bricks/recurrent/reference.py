"""NumPy loops of the recurrent transitions, the tests' reference."""
import numpy


def sigmoid(x):
    return 1 / (1 + numpy.exp(-x))


def masked(mask, new, old):
    if mask is None:
        return new
    return mask[:, None] * new + (1 - mask[:, None]) * old


def simple_step(x, h, W, mask=None):
    return (masked(mask, numpy.tanh(x + h @ W), h),)


def lstm_step(x, h, c, W_state, w_in, w_forget, w_out, mask=None):
    dim = h.shape[1]
    a = h @ W_state + x
    i = sigmoid(a[:, :dim] + c * w_in)
    f = sigmoid(a[:, dim:2 * dim] + c * w_forget)
    c_new = f * c + i * numpy.tanh(a[:, 2 * dim:3 * dim])
    o = sigmoid(a[:, 3 * dim:] + c_new * w_out)
    h_new = o * numpy.tanh(c_new)
    return masked(mask, h_new, h), masked(mask, c_new, c)


def gru_step(x, gate_x, h, state_to_state, state_to_gates, mask=None):
    dim = h.shape[1]
    g = sigmoid(h @ state_to_gates + gate_x)
    z, r = g[:, :dim], g[:, dim:]
    h_new = numpy.tanh((h * r) @ state_to_state + x)
    h_new = z * h_new + (1 - z) * h
    return (masked(mask, h_new, h),)


def run(step, sequences, states, parameters, mask=None, reverse=False):
    """Iterate `step` over axis 0 of `sequences`, like the brick's scan.

    Returns one array per state, ``(time, batch, dim)``, in processing
    order (the first entry belongs to the last input step if `reverse`).
    """
    n_steps = sequences[0].shape[0]
    order = range(n_steps - 1, -1, -1) if reverse else range(n_steps)
    history = [[] for _ in states]
    for t in order:
        step_mask = None if mask is None else mask[t]
        states = step(*[s[t] for s in sequences], *states, *parameters,
                      mask=step_mask)
        for past, state in zip(history, states):
            past.append(state)
    return [numpy.stack(past) for past in history]
