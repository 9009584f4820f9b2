"""What the classical models share to fit from statistics streamed through ``model.fit``:
their batch sizes, whole-batch slices of arrays, and sums over replicas."""

import tensorflow as tf

#: Rows per chunk of ``predict_proba`` and friends.
PREDICT_BATCH = 65536

#: Default ``fit`` batch size: the statistics are exact at any size, so big batches only
#: save steps.
FIT_BATCH = 8192


def array_batches(x, y, batch_size, shuffle=False, repeat=False):
    """``(x, y)`` arrays as a dataset of whole-batch slices (``from_tensor_slices(...).batch``
    would split ``x`` into single examples first: seconds for 10^6 rows).

    With ``shuffle``, the batches are visited in a fresh random order each epoch (their
    contents stay), which is all the order-free fits here need."""
    n = len(x)
    starts = tf.data.Dataset.range(0, n, batch_size)
    if shuffle:
        starts = starts.shuffle(-(-n // batch_size), reshuffle_each_iteration=True)
    if repeat:
        starts = starts.repeat()
    whole = tf.data.Dataset.from_tensors((x, y)).repeat()  # one tensor, never copied
    return tf.data.Dataset.zip((starts, whole)).map(
        lambda i, data: (data[0][i:i + batch_size], data[1][i:i + batch_size]))


def replica_sum(values):
    """Sum tensors over the replicas of a distribution strategy (identity without one)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)
